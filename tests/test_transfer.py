import hashlib

import pytest
import torch

from course_utils.convnets import transfer
from course_utils.convnets.transfer import (
    SOURCE_CLASSES,
    TARGET_CLASSES,
    course_backbone,
    extract_features,
    freeze_all_but,
    imagenet_resnet18,
    imagenet_resnet18_file,
    parameter_counts,
    per_class,
    pretrain_course_backbone,
    resnet18_transfer,
    select_classes,
)
from course_utils.core.datasets import CIFAR10_CLASSES, ImageSet


def fake_cifar(per_class_count: int = 12, seed: int = 0) -> ImageSet:
    gen = torch.Generator().manual_seed(seed)
    labels = torch.arange(10).repeat_interleave(per_class_count)
    images = torch.randint(0, 256, (len(labels), 3, 32, 32), generator=gen, dtype=torch.uint8)
    images[:, 0] = (labels * 25).to(torch.uint8)[:, None, None]  # a learnable colour cue
    return ImageSet("cifar10", "train", images, labels, CIFAR10_CLASSES, "fake")


def test_source_and_target_classes_split_cifar10():
    assert set(SOURCE_CLASSES) | set(TARGET_CLASSES) == set(CIFAR10_CLASSES)
    assert not set(SOURCE_CLASSES) & set(TARGET_CLASSES)


def test_select_classes_relabels_in_the_given_order():
    data = fake_cifar()
    target = select_classes(data, ("truck", "cat"))
    assert target.classes == ("truck", "cat") and len(target) == 24
    assert target.labels.tolist() == [1] * 12 + [0] * 12  # cats (3) come before trucks (9)


def test_per_class_draws_nested_balanced_subsets():
    data = select_classes(fake_cifar(20), TARGET_CLASSES)
    small, large = per_class(data, 3, seed=1), per_class(data, 10, seed=1)
    assert torch.bincount(small.labels).tolist() == [3] * 4
    assert torch.bincount(large.labels).tolist() == [10] * 4
    as_rows = {tuple(img.flatten()[:20].tolist()) for img in large.images}
    assert all(tuple(img.flatten()[:20].tolist()) in as_rows for img in small.images)
    with pytest.raises(ValueError, match="only"):
        per_class(data, 21)


def test_freezing_counts_and_eval_mode_of_frozen_stages():
    model = course_backbone(4, 3, [0.5] * 3, [0.25] * 3)
    total = sum(p.numel() for p in model.parameters())
    freeze_all_but(model, ["layer3"])
    trainable, frozen = parameter_counts(model)
    expected = sum(p.numel() for p in model.stages.layer3.parameters()) + sum(
        p.numel() for p in model.head.parameters()
    )
    assert trainable == expected and trainable + frozen == total
    model.train()
    assert not model.stages.prep.training and model.stages.layer3.training
    with pytest.raises(ValueError):
        freeze_all_but(model, ["layer9"])


def test_features_new_head_and_standardization():
    model = course_backbone(4, 6, [0.5] * 3, [0.25] * 3)
    x = torch.rand(5, 3, 32, 32)
    features = extract_features(model, x, batch_size=2)
    assert features.shape == (5, 32)
    other = model.new_head(4)
    assert other.eval()(x).shape == (5, 4) and model.eval()(x).shape == (5, 6)
    torch.testing.assert_close(extract_features(other, x), features)


def test_imagenet_weights_are_only_looked_up_never_downloaded(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    assert imagenet_resnet18_file() is None


def test_imagenet_resnet18_loads_a_cached_file_and_checks_it(tmp_path, monkeypatch):
    from torchvision.models import resnet18

    torch.manual_seed(0)
    state = resnet18(weights=None).state_dict()
    raw = tmp_path / "weights.pth"
    torch.save(state, raw)
    digest = hashlib.sha256(raw.read_bytes()).hexdigest()[:8]
    (tmp_path / "checkpoints").mkdir()
    cached = tmp_path / "checkpoints" / f"resnet18-{digest}.pth"
    raw.rename(cached)
    model = imagenet_resnet18(cached, num_classes=4, input_size=32)
    assert model(torch.rand(2, 3, 32, 32)).shape == (2, 4)
    assert model.feature_dim == 512 and "layer4" in dict(model.stages.named_children())
    torch.testing.assert_close(model.stages.stem[0].weight, state["conv1.weight"])
    with_head = imagenet_resnet18(cached, num_classes=1000, input_size=32)
    torch.testing.assert_close(with_head.head.weight, state["fc.weight"])
    bad = tmp_path / "checkpoints" / "resnet18-00000000.pth"
    cached.rename(bad)
    with pytest.raises(RuntimeError, match="damaged"):
        imagenet_resnet18(bad, num_classes=4)


def test_resnet18_transfer_without_weights_is_a_fresh_network_of_the_same_shape():
    torch.manual_seed(0)
    a = resnet18_transfer(num_classes=3, input_size=32)
    torch.manual_seed(1)
    b = resnet18_transfer(num_classes=3, input_size=32)
    assert [n for n, _ in a.stages.named_children()] == [
        "stem", "layer1", "layer2", "layer3", "layer4", "pool"
    ]
    assert parameter_counts(a) == parameter_counts(b)
    assert not torch.equal(a.stages.stem[0].weight, b.stages.stem[0].weight)
    assert a.eval()(torch.rand(2, 3, 32, 32)).shape == (2, 3)


def test_pretraining_is_cached_and_reused(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(transfer, "load_images", lambda name, train=True: fake_cifar(8, int(train)))
    first = pretrain_course_backbone(steps=3, width=4, batch_size=16, progress=False)
    assert not first.loaded and 0.0 <= first.meta["source_test_accuracy"] <= 1.0
    second = pretrain_course_backbone(steps=3, width=4, batch_size=16, progress=False)
    assert second.loaded and second.name == first.name
    for a, b in zip(first.model.state_dict().values(), second.model.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b)
