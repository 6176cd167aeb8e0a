import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from course_utils.dense.promptable_model import PromptableSegmenter, PromptEncoder, fourier_features
from course_utils.dense.promptable_training import (
    count_flops,
    mask_iou,
    mask_losses,
    plot_prompt,
    segment_prompts,
    train_promptable,
)
from course_utils.dense.prompts import (
    BOX_BR,
    BOX_TL,
    NEGATIVE,
    PAD,
    POSITIVE,
    box_prompt,
    center_click,
    corrective_click,
    corrective_clicks,
    point_prompt,
    sample_prompts,
)
from course_utils.dense.real_sam import find_sam_checkpoint, load_real_sam


def _toy_instances(n: int = 3, size: int = 64) -> torch.Tensor:
    inst = torch.zeros(n, size, size, dtype=torch.uint8)
    inst[:, 5:20, 5:25] = 1
    inst[:, 30:60, 40:50] = 2
    inst[0, 40:45, 10:15] = 3
    return inst


def test_fourier_features_by_hand():
    gaussian = torch.tensor([[1.0, 0.5], [0.0, -2.0]])
    xy = torch.tensor([[16.0, 48.0]])
    u = np.array([2 * 16 / 64 - 1, 2 * 48 / 64 - 1])
    angles = 2 * math.pi * u @ gaussian.numpy()
    expected = np.concatenate([np.sin(angles), np.cos(angles)])
    np.testing.assert_allclose(fourier_features(xy, gaussian, 64)[0].numpy(), expected, atol=1e-6)


def test_prompt_encoder_dense_matches_points_and_padding():
    enc = PromptEncoder(dim=16, image_size=64)
    dense = enc.dense(16, 16)
    assert dense.shape == (16, 16, 16)
    # cell (row 2, col 5) of a 16 x 16 grid has its centre at pixel (5 * 4 + 2, 2 * 4 + 2)
    torch.testing.assert_close(dense[:, 2, 5], enc.positional(torch.tensor([22.0, 10.0])))
    points = torch.tensor([[[10.0, 20.0], [0.0, 0.0]]])
    labels = torch.tensor([[POSITIVE, PAD]])
    tokens = enc(points, labels)
    torch.testing.assert_close(tokens[0, 0], enc.positional(points[0, 0]) + enc.type_embed.weight[POSITIVE])
    torch.testing.assert_close(tokens[0, 1], enc.pad_embed)


def test_prompt_helpers():
    points, labels = point_prompt(3, 7)
    assert points[0, 0].tolist() == [3.5, 7.5] and labels.tolist() == [[POSITIVE, PAD]]
    points, labels = box_prompt([1, 2, 30, 40])
    assert points[0].tolist() == [[1, 2], [30, 40]] and labels.tolist() == [[BOX_TL, BOX_BR]]


def test_model_shapes_and_encode_once():
    torch.manual_seed(0)
    model = PromptableSegmenter(dim=32, num_masks=3, blocks=1, decoder_layers=1).eval()
    images = torch.rand(2, 3, 64, 64)
    points = torch.tensor([[[10.0, 10.0], [0, 0]], [[40.0, 30.0], [0, 0]], [[5.0, 5.0], [60, 60]]])
    labels = torch.tensor([[POSITIVE, PAD], [POSITIVE, NEGATIVE], [BOX_TL, BOX_BR]])
    index = torch.tensor([0, 1, 1])
    with torch.no_grad():
        masks, iou = model(images, points, labels, index)
        embeddings = model.embed(images)
        again, _ = model.decode(embeddings, points, labels, index)
    assert masks.shape == (3, 3, 64, 64) and iou.shape == (3, 3)
    torch.testing.assert_close(masks, again)
    assert embeddings[0].shape == (2, 32, 16, 16) and embeddings[1].shape == (2, 8, 64, 64)


@pytest.mark.parametrize("coarse", [False, True])
def test_several_clicks_get_the_single_mask_token(coarse):
    torch.manual_seed(0)
    model = PromptableSegmenter(dim=32, num_masks=3, blocks=1, decoder_layers=1, coarse=coarse).eval()
    images = torch.rand(1, 3, 64, 64)
    points = torch.tensor([[[10.0, 10.0], [0, 0]], [[10.0, 10.0], [30, 20]], [[5.0, 5.0], [60, 60]]])
    labels = torch.tensor([[POSITIVE, PAD], [POSITIVE, NEGATIVE], [BOX_TL, BOX_BR]])
    index = torch.zeros(3, dtype=torch.long)
    with torch.no_grad():
        embeddings = model.embed(images)
        masks, iou = model.decode(embeddings, points, labels, index)
        encoder = model.prompt_encoder
        tokens = encoder(points, labels) + model.point_features(embeddings[0][index], points, labels)
        raw, raw_iou = model.mask_decoder(embeddings[0][index], embeddings[1][index], model.image_pe(),
                                          encoder.dense(64, 64), tokens)
    assert raw.shape == (3, 4, 64, 64) and raw_iou.shape == (3, 4)  # three masks + the single mask
    for k in (0, 2):  # one click, a box: the three ambiguity-aware masks
        torch.testing.assert_close(masks[k], raw[k, :3])
        torch.testing.assert_close(iou[k], raw_iou[k, :3])
    torch.testing.assert_close(masks[1], raw[1, 3:].expand(3, -1, -1))  # two clicks: the single mask
    torch.testing.assert_close(iou[1], raw_iou[1, 3:].expand(3))
    assert not torch.allclose(raw[1, 3], raw[1, 0])


def test_a_previous_mask_replaces_the_no_mask_prompt():
    torch.manual_seed(0)
    model = PromptableSegmenter(dim=32, num_masks=3, blocks=1, decoder_layers=1).eval()
    images = torch.rand(2, 3, 64, 64)
    points = torch.tensor([[[10.0, 10.0], [30, 20]], [[40.0, 30.0], [0, 0]]])
    labels = torch.tensor([[POSITIVE, NEGATIVE], [POSITIVE, PAD]])
    index = torch.tensor([0, 1])
    previous = torch.zeros(2, 64, 64, dtype=torch.bool)
    previous[:, 4:20, 4:24] = True
    with torch.no_grad():
        embeddings = model.embed(images)
        plain, _ = model.decode(embeddings, points, labels, index)
        fed_back, _ = model.decode(embeddings, points, labels, index, previous_mask=previous)
        decoder, encoder = model.mask_decoder, model.prompt_encoder
        embedding, pixels = embeddings[0][index], embeddings[1][index]
        tokens = encoder(points, labels) + model.point_features(embedding, points, labels)
        dense = decoder.mask_embed(previous.float()[:, None] * 2 - 1)
        assert dense.shape == (2, 32, 16, 16)
        by_hand, _ = decoder(embedding + dense - decoder.no_mask[:, None, None], pixels, model.image_pe(),
                             encoder.dense(64, 64), tokens)
        masks, _ = segment_prompts(model, embeddings, points, labels, index, batch_size=1,
                                   previous_masks=previous)[:2]
    assert fed_back.shape == plain.shape == (2, 3, 64, 64)
    assert not torch.allclose(fed_back, plain)
    torch.testing.assert_close(fed_back[0], by_hand[0, 3:].expand(3, -1, -1))  # two clicks: the single mask
    torch.testing.assert_close(fed_back[1], by_hand[1, :3])
    assert torch.equal(masks, fed_back > 0)


def test_sample_prompts_are_valid():
    inst = _toy_instances()
    counts = inst.flatten(1).amax(1).long()
    g = torch.Generator().manual_seed(0)
    prompts = sample_prompts(inst, counts, per_image=50, box_fraction=0.3, two_point_fraction=0.3, generator=g)
    assert len(prompts) == 150
    assert prompts.targets.shape == (150, 64, 64)
    for p in range(len(prompts)):
        target, labels, points = prompts.targets[p], prompts.labels[p], prompts.points[p]
        assert target.any()
        assert torch.equal(target, inst[prompts.image_index[p]] == inst[prompts.image_index[p]][target][0])
        for (x, y), label in zip(points.tolist(), labels.tolist(), strict=True):
            if label in (POSITIVE, NEGATIVE):
                inside = bool(target[int(y), int(x)])
                assert inside == (label == POSITIVE)
                assert x % 1 == 0.5 and y % 1 == 0.5
        if labels[0] == BOX_TL:
            assert labels[1] == BOX_BR
        else:
            assert labels[0] == POSITIVE
    kinds = prompts.labels[:, 1]
    assert (kinds == PAD).any() and (kinds == NEGATIVE).any() and (kinds == BOX_BR).any()
    again = sample_prompts(inst, counts, per_image=50, box_fraction=0.3, two_point_fraction=0.3,
                           generator=torch.Generator().manual_seed(0))
    assert torch.equal(again.points, prompts.points)


def test_boxes_without_noise_are_tight():
    inst = _toy_instances(1)
    prompts = sample_prompts(inst, torch.tensor([3]), per_image=20, box_fraction=1.0, box_noise=0.0,
                             generator=torch.Generator().manual_seed(1))
    tight = {1: [5, 5, 25, 20], 2: [40, 30, 50, 60], 3: [10, 40, 15, 45]}
    for points, target in zip(prompts.points, prompts.targets, strict=True):
        object_id = int(inst[0][target][0])
        assert points.reshape(-1).tolist() == tight[object_id]


def test_mask_iou_and_losses():
    a = torch.zeros(2, 4, 4, dtype=torch.bool)
    b = torch.zeros(2, 4, 4, dtype=torch.bool)
    a[0, :2], b[0, :1] = True, True
    assert mask_iou(a, b).tolist() == [0.5, 1.0]
    target = torch.zeros(1, 8, 8, dtype=torch.bool)
    target[0, 2:6, 2:6] = True
    good = torch.where(target, 8.0, -8.0)[:, None]
    bad = -good
    losses = mask_losses(torch.cat([good, bad], dim=1), target)
    assert losses.shape == (1, 2) and losses[0, 0] < 0.01 < 1.0 < losses[0, 1]
    focal = mask_losses(torch.cat([good, bad], dim=1), target, focal=True)
    assert focal[0, 0] < 0.01 < 1.0 < focal[0, 1]


def test_center_and_corrective_clicks():
    mask = np.zeros((9, 9), dtype=bool)
    mask[2:7, 2:7] = True
    assert center_click(mask) == (4, 4)
    with pytest.raises(ValueError):
        center_click(np.zeros((3, 3), dtype=bool))
    pred = np.zeros((9, 9), dtype=bool)
    assert corrective_click(pred, mask) == (4, 4, POSITIVE)
    spill = mask.copy()
    spill[:, 7:] = True
    spill[0, :] = True
    x, y, label = corrective_click(spill, mask)
    assert label == NEGATIVE and not mask[y, x] and spill[y, x]
    assert corrective_click(mask, mask)[2] == PAD


def test_batched_corrective_clicks_land_on_the_error_with_the_right_label():
    target = torch.zeros(3, 8, 8, dtype=torch.bool)
    target[:, 2:6, 2:6] = True
    missed = target.clone()
    missed[0, 2:6, 4:6] = False  # the right half of the object is missed
    missed[1, 0, 0] = True  # one pixel spills over
    points, labels = corrective_clicks(missed, target)
    x0, y0 = points[0].long().tolist()
    assert labels[0] == POSITIVE and 4 <= x0 < 6 and 2 <= y0 < 6
    assert labels[1] == NEGATIVE and points[1].tolist() == [0.5, 0.5]
    assert labels[2] == PAD  # no error, no click


@pytest.mark.parametrize("corrective_fraction", [0.0, 0.5])
def test_training_learns_a_toy_task(corrective_fraction):
    torch.manual_seed(0)
    inst = torch.zeros(8, 64, 64, dtype=torch.uint8)
    images = torch.zeros(8, 3, 64, 64)
    for i in range(8):
        r, c = 4 + 4 * i, 30 - 2 * i
        inst[i, r : r + 16, c : c + 16] = 1
        inst[i, 44:60, 4 + 5 * i : 14 + 5 * i] = 2
        images[i, 0][inst[i] == 1] = 1.0
        images[i, 1][inst[i] == 2] = 1.0
    model = PromptableSegmenter(dim=32, num_masks=2, blocks=1, decoder_layers=1)
    mask_embed_before = [p.detach().clone() for p in model.mask_decoder.mask_embed.parameters()]
    history = train_promptable(model, images, inst, steps=60, batch_size=4, per_image=4, lr=5e-3,
                               generator=torch.Generator().manual_seed(0), progress=False,
                               corrective_fraction=corrective_fraction)
    assert np.mean(history["loss"][-10:]) < np.mean(history["loss"][:10])
    mask_embed_trained = any(not torch.equal(a, b) for a, b in
                             zip(mask_embed_before, model.mask_decoder.mask_embed.parameters(), strict=True))
    assert mask_embed_trained == (corrective_fraction > 0)  # corrective clicks get the first mask fed back
    embeddings = model.embed(images)
    points = torch.cat([point_prompt(37, 12)[0], point_prompt(8, 52)[0]])
    labels = torch.cat([point_prompt(37, 12)[1], point_prompt(8, 52)[1]])
    all_masks, scores, chosen = segment_prompts(model, embeddings, points, labels, torch.tensor([0, 0]))
    assert all_masks.shape == (2, 2, 64, 64) and scores.shape == (2, 2) and chosen.shape == (2, 64, 64)
    iou = mask_iou(chosen, torch.stack([inst[0] == 1, inst[0] == 2]))
    assert iou.mean() > 0.5


def test_corrective_weight_scales_the_corrective_loss():
    """One step from the same start: the recorded loss grows linearly with the weight."""
    inst = torch.zeros(4, 64, 64, dtype=torch.uint8)
    inst[:, 10:30, 12:34] = 1
    inst[:, 40:58, 30:50] = 2
    images = torch.stack([(inst == 1).float(), (inst == 2).float(), torch.zeros(4, 64, 64)], dim=1)
    first_losses = []
    for weight in (0.0, 1.0, 2.0, 4.0):
        torch.manual_seed(0)  # the same start for every weight
        model = PromptableSegmenter(dim=32, num_masks=2, blocks=1, decoder_layers=1, seed=0)
        history = train_promptable(model, images, inst, steps=1, batch_size=4, per_image=4,
                                   generator=torch.Generator().manual_seed(0), progress=False,
                                   corrective_fraction=1.0, corrective_weight=weight)
        first_losses.append(history["loss"][0])
    share = np.diff(first_losses) / np.diff([0.0, 1.0, 2.0, 4.0])
    assert share[0] > 0  # a corrective decoding's loss is counted
    np.testing.assert_allclose(share, share[0], rtol=1e-4)  # and in proportion to its weight
    with pytest.raises(ValueError, match="corrective_weight"):
        train_promptable(model, images, inst, steps=1, corrective_fraction=1.0, corrective_weight=-1.0,
                         progress=False)


def test_plot_prompt_draws_every_panel():
    image = np.zeros((64, 64, 3), dtype=np.uint8)
    masks = np.zeros((3, 64, 64), dtype=bool)
    masks[:, 10:20, 10:20] = True
    points, labels = point_prompt(12, 12)
    fig = plot_prompt(image, masks, points[0].numpy(), labels[0].numpy(), scores=[0.9, 0.5, 0.1],
                      target=masks[0])
    assert len(fig.axes) == 5
    assert "predicted IoU 0.90" in fig.axes[1].get_title()
    plt.close(fig)
    points, labels = box_prompt([5, 5, 30, 30])
    fig = plot_prompt(image, masks[0], points[0].numpy(), labels[0].numpy())
    assert len(fig.axes) == 2 and len(fig.axes[0].patches) == 1
    plt.close(fig)


def test_real_sam_is_optional(monkeypatch, tmp_path):
    monkeypatch.delenv("SAM_CHECKPOINT", raising=False)
    assert find_sam_checkpoint() is None and load_real_sam() is None
    monkeypatch.setenv("SAM_CHECKPOINT", str(tmp_path / "missing.pth"))
    assert find_sam_checkpoint() is None
    present = tmp_path / "sam_vit_b.pth"
    present.write_bytes(b"")
    monkeypatch.setenv("SAM_CHECKPOINT", str(present))
    assert find_sam_checkpoint() == present


def test_count_flops_sees_attention_and_restores_the_fast_path():
    q, k = torch.rand(1, 4, 6, 16), torch.rand(1, 4, 256, 16)
    assert count_flops(lambda: torch.nn.functional.scaled_dot_product_attention(q, k, k)) == 4 * 4 * 6 * 256 * 16
    layer = torch.nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True).eval()
    assert count_flops(lambda: layer(torch.rand(1, 10, 16))) > 2 * 10 * 16 * 16 * 3
    assert torch.backends.mha.get_fastpath_enabled()
    assert count_flops(lambda: torch.rand(3, 4) @ torch.rand(4, 5)) == 2 * 3 * 4 * 5
