"""Training and evaluating the promptable segmenter: losses, the training loop, IoU, FLOPs.

:func:`train_promptable` (dice + focal or cross-entropy loss on the best of three masks,
:func:`mask_losses`), :func:`segment_prompts`, :func:`mask_iou`, :func:`count_flops`,
and :func:`plot_prompt`, the figure behind lesson 16's interactive control.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode, sdpa_flop_count
from tqdm.auto import tqdm

from .promptable_model import PromptableSegmenter
from .prompts import PAD, POSITIVE, Prompts, corrective_clicks, draw_prompt, sample_prompts


# -- losses and scores ---------------------------------------------------------------
def mask_iou(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """IoU of boolean masks (... x H x W) pair by pair; 1.0 where both are empty."""
    inter = (pred & target).flatten(-2).sum(-1).float()
    union = (pred | target).flatten(-2).sum(-1).float()
    return torch.where(union > 0, inter / union.clamp(min=1), torch.ones_like(union))


def mask_losses(logits: torch.Tensor, targets: torch.Tensor, focal: bool = False) -> torch.Tensor:
    """The mask loss of every output mask: per-pixel cross-entropy + dice loss.

    ``logits`` P x M x H x W, ``targets`` P x H x W (bool) -> P x M losses. With
    ``focal=True`` it is SAM's combination, 20 x focal loss + dice loss, which needs a
    much longer training than this course's to work well.
    """
    t = targets[:, None].float().expand_as(logits)
    prob = logits.sigmoid()
    ce = F.binary_cross_entropy_with_logits(logits, t, reduction="none")
    if focal:
        p_t = prob * t + (1 - prob) * (1 - t)
        alpha_t = 0.25 * t + 0.75 * (1 - t)
        pixel_loss = 20 * (alpha_t * ce * (1 - p_t) ** 2).flatten(2).mean(-1)
    else:
        pixel_loss = ce.flatten(2).mean(-1)
    dice = 1 - (2 * (prob * t).flatten(2).sum(-1) + 1) / (prob.flatten(2).sum(-1) + t.flatten(2).sum(-1) + 1)
    return pixel_loss + dice


def train_promptable(
    model: PromptableSegmenter,
    images: torch.Tensor,
    instances: torch.Tensor,
    steps: int,
    batch_size: int = 16,
    per_image: int = 4,
    lr: float = 3e-3,
    generator: torch.Generator | None = None,
    progress: bool = True,
    desc: str = "train",
    focal: bool = False,
    corrective_fraction: float = 0.0,
    corrective_weight: float = 1.0,
) -> dict[str, list[float]]:
    """Train on random prompts; returns per-step ``loss`` (mask + IoU) and ``iou`` (chosen mask).

    Each step encodes ``batch_size`` images once (flipped at random) and decodes
    ``per_image`` prompts on each. Only the best of the ``M`` masks is trained (the
    lowest loss, as in SAM), and the IoU head learns each mask's actual IoU (MSE).
    ``focal`` chooses SAM's mask loss (see :func:`mask_losses`). With
    ``corrective_fraction`` > 0, that fraction of the one-click prompts is decoded a
    second time with a corrective click on the largest error of the model's own first
    mask (:func:`corrective_clicks`), with that first mask fed back as a dense prompt: a
    simulated interactive user as in SAM's training (which draws the click uniformly from
    the error instead); both decodings are trained, a corrective one counting
    ``corrective_weight`` times as much as a first one in the mean loss.
    """
    if corrective_weight < 0:
        raise ValueError(f"corrective_weight must be >= 0, got {corrective_weight}")
    device = next(model.parameters()).device
    counts = instances.flatten(1).amax(1).long()
    usable = torch.nonzero(counts > 0)[:, 0]
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, lr, total_steps=steps, pct_start=0.1)
    history: dict[str, list[float]] = {"loss": [], "iou": []}
    model.train()
    for _ in tqdm(range(steps), desc=desc, disable=not progress, leave=False):
        index = usable[torch.randint(len(usable), (batch_size,), generator=generator)].to(images.device)
        x, inst = images[index].to(device), instances[index].to(device)
        flip = (torch.rand(batch_size, generator=generator) < 0.5).to(device)
        x = torch.where(flip[:, None, None, None], x.flip(-1), x)
        inst = torch.where(flip[:, None, None], inst.flip(-1), inst)
        prompts = sample_prompts(inst, counts[index].to(device), per_image, generator=generator)
        embeddings = model.embed(x)
        logits, iou_pred = model.decode(embeddings, prompts.points, prompts.labels, prompts.image_index)
        loss, actual = _prompt_loss(logits, iou_pred, prompts.targets, focal)
        if corrective_fraction > 0:
            second, first_masks = _corrective_prompts(logits.detach(), iou_pred.detach(), prompts,
                                                      corrective_fraction, generator)
            if len(second):
                logits2, iou2 = model.decode(embeddings, second.points, second.labels, second.image_index,
                                             first_masks)
                loss2 = _prompt_loss(logits2, iou2, second.targets, focal)[0]
                n1, n2 = len(prompts), len(second)
                loss = (loss * n1 + corrective_weight * loss2 * n2) / (n1 + n2)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        history["loss"].append(loss.item())
        history["iou"].append(actual.gather(1, iou_pred.argmax(1, keepdim=True)).mean().item())
    model.eval()
    return history


def _prompt_loss(
    logits: torch.Tensor, iou_pred: torch.Tensor, targets: torch.Tensor, focal: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mask loss of the best mask + MSE of the IoU head; also returns the masks' actual IoU."""
    losses = mask_losses(logits, targets, focal=focal)
    best = losses.argmin(1)
    with torch.no_grad():
        actual = mask_iou(logits > 0, targets[:, None])
    return losses.gather(1, best[:, None]).mean() + F.mse_loss(iou_pred, actual), actual


@torch.no_grad()
def _corrective_prompts(
    logits: torch.Tensor, iou_pred: torch.Tensor, prompts: Prompts, fraction: float,
    generator: torch.Generator | None,
) -> tuple[Prompts, torch.Tensor]:
    """Two-click prompts made from ``fraction`` of the one-click ones: the click + one on the model's error.

    Also returns the first masks (the ones the IoU head ranks first), to be fed back.
    """
    one_click = (prompts.labels[:, 0] == POSITIVE) & (prompts.labels[:, 1] == PAD)
    chosen = one_click & (torch.rand(len(one_click), generator=generator).to(one_click.device) < fraction)
    keep = torch.nonzero(chosen)[:, 0]
    first = logits[keep, iou_pred[keep].argmax(1)] > 0
    targets = prompts.targets[keep]
    points, labels = corrective_clicks(first, targets)
    has_error = labels != PAD
    keep, targets = keep[has_error], targets[has_error]
    new_points, new_labels = prompts.points[keep].clone(), prompts.labels[keep].clone()
    new_points[:, 1], new_labels[:, 1] = points[has_error], labels[has_error]
    return Prompts(prompts.image_index[keep], new_points, new_labels, targets), first[has_error]


@torch.no_grad()
def segment_prompts(
    model: PromptableSegmenter,
    embeddings: tuple[torch.Tensor, torch.Tensor],
    points: torch.Tensor,
    labels: torch.Tensor,
    image_index: torch.Tensor,
    batch_size: int = 512,
    previous_masks: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Decode prompts on precomputed embeddings, in batches; ``previous_masks`` (P x H x W,
    bool, optional) are the masks of the prompts' previous round, fed back as dense prompts.

    Returns all masks (P x M x H x W, bool), the predicted IoUs (P x M) and the mask the
    IoU head ranks first (P x H x W, bool).
    """
    model.eval()
    device = embeddings[0].device
    masks, scores = [], []
    for s in range(0, len(points), batch_size):
        sl = slice(s, s + batch_size)
        previous = None if previous_masks is None else previous_masks[sl].to(device)
        logits, iou = model.decode(embeddings, points[sl].to(device), labels[sl].to(device),
                                   image_index[sl].to(device), previous)
        masks.append((logits > 0).cpu())
        scores.append(iou.cpu())
    all_masks, all_scores = torch.cat(masks), torch.cat(scores)
    chosen = all_masks[torch.arange(len(all_masks)), all_scores.argmax(1)]
    return all_masks, all_scores, chosen


# -- cost ----------------------------------------------------------------------------
def _sdpa_cpu_flops(query, key, value, *args, out_shape=None, **kwargs) -> int:  # noqa: ANN001
    return sdpa_flop_count(query, key, value)


@torch.no_grad()
def count_flops(fn: Any) -> int:
    """Floating-point operations of the matrix products, convolutions and attention in ``fn()``.

    ``torch.utils.flop_counter.FlopCounterMode``, with two gaps closed: PyTorch's fused
    "fast path" of transformer layers in eval mode (switched off meanwhile, so its
    products are seen) and the CPU kernel of scaled dot-product attention (counted as
    ``QK^T`` plus ``AV``). A multiply-add counts as two operations.
    """
    custom = {torch.ops.aten._scaled_dot_product_flash_attention_for_cpu: _sdpa_cpu_flops}
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with FlopCounterMode(display=False, custom_mapping=custom) as counter:
            fn()
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)
    return int(counter.get_total_flops())


# -- figures -------------------------------------------------------------------------
def plot_prompt(
    image: np.ndarray,
    masks: np.ndarray,
    points: np.ndarray,
    labels: np.ndarray,
    scores: Sequence[float] | None = None,
    target: np.ndarray | None = None,
    title: str | None = None,
) -> plt.Figure:
    """The image with its prompt, then each predicted mask (with its predicted IoU) and the truth."""
    masks = np.asarray(masks, dtype=bool).reshape(-1, *image.shape[:2])
    panels = 1 + len(masks) + (target is not None)
    fig, axes = plt.subplots(1, panels, figsize=(2.4 * panels, 2.7))
    axes = np.atleast_1d(axes)
    axes[0].imshow(image)
    draw_prompt(axes[0], np.asarray(points), np.asarray(labels))
    axes[0].set_title(title or "image and prompt", fontsize=9)
    for j, mask in enumerate(masks):
        axes[1 + j].imshow((image * (0.3 + 0.7 * mask[..., None])).astype(image.dtype))  # dim the rest
        if mask.any() and not mask.all():
            axes[1 + j].contour(mask, levels=[0.5], colors="white", linewidths=1)
        draw_prompt(axes[1 + j], np.asarray(points), np.asarray(labels))
        name = f"mask {j + 1}" if len(masks) > 1 else "mask"
        if scores is not None:
            name += f" (predicted IoU {float(scores[j]):.2f})"
        if target is not None:
            name += f"\nIoU {mask_iou(torch.from_numpy(mask), torch.from_numpy(np.asarray(target, bool))).item():.2f}"
        axes[1 + j].set_title(name, fontsize=8)
    if target is not None:
        axes[-1].imshow(np.asarray(target, bool), cmap="gray")
        axes[-1].set_title("the object's true mask", fontsize=8)
    for ax in axes:
        ax.axis("off")
    fig.tight_layout()
    return fig
