"""Transfer learning on CIFAR-10: a foundation model pretrained on six classes, reused on the other four.

The *source* task is CIFAR-10 restricted to ``SOURCE_CLASSES`` (all their training
images); the *target* task is to tell ``TARGET_CLASSES`` apart from a few labelled
images. Every target class has relatives among the source classes (four-legged
animals: deer; vehicles: automobile), so what the source model learnt is useful,
yet it has never seen a single target image.

When torchvision's ImageNet weights for ResNet-18 already sit in torch.hub's cache
(nothing is ever downloaded here), ``foundation_model`` uses them instead of the
course's own pretraining.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F
from torchvision.models import ResNet18_Weights, resnet18

from ..core.checkpoints import CachedModel, load_or_train
from ..core.datasets import ImageSet, load_images
from ..core.integrity import sha256_of
from ..core.training import evaluate
from .augment import RandomCropFlip
from .resnets import ResNet9, train_steps

SOURCE_CLASSES = ("airplane", "automobile", "bird", "deer", "frog", "ship")
TARGET_CLASSES = ("cat", "dog", "horse", "truck")

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def select_classes(data: ImageSet, classes: Sequence[str]) -> ImageSet:
    """The images of ``classes`` only, relabelled ``0 .. len(classes) - 1`` in that order."""
    index = [data.classes.index(c) for c in classes]
    keep = torch.isin(data.labels, torch.tensor(index))
    remap = torch.full((len(data.classes),), -1, dtype=torch.int64)
    remap[torch.tensor(index)] = torch.arange(len(index))
    return ImageSet(
        data.name, data.split, data.images[keep], remap[data.labels[keep]], tuple(classes), data.source
    )


def per_class(data: ImageSet, n: int, seed: int = 0) -> ImageSet:
    """``n`` images of every class, drawn at random with ``seed``.

    The draws are nested: with the same seed, the 10-per-class set is part of the
    50-per-class set, which is part of the 200-per-class set.
    """
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))
    chosen = []
    for label in range(len(data.classes)):
        mine = order[data.labels[order] == label]
        if len(mine) < n:
            raise ValueError(f"class {data.classes[label]!r} has only {len(mine)} images, not {n}")
        chosen.append(mine[:n])
    picked, _ = torch.cat(chosen).sort()
    return ImageSet(
        data.name, data.split, data.images[picked], data.labels[picked], data.classes, data.source
    )


class TransferNet(nn.Module):
    """A network split into named ``stages`` (the body) and a linear ``head``.

    It takes images in [0, 1], standardises them with ``mean`` and ``std`` (and
    resizes them to ``input_size`` if given) before the body. Stages whose
    parameters are all frozen stay in eval mode even during training, so their
    batch-norm statistics do not drift either.
    """

    def __init__(
        self,
        stages: nn.Sequential,
        feature_dim: int,
        num_classes: int,
        mean: Sequence[float],
        std: Sequence[float],
        input_size: int | None = None,
        logit_scale: float = 1.0,
    ) -> None:
        super().__init__()
        self.stages = stages
        self.head = nn.Linear(feature_dim, num_classes)
        self.feature_dim = feature_dim
        self.input_size = input_size
        self.logit_scale = logit_scale
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The body's output: one feature vector per image."""
        x = (x - self.mean) / self.std
        if self.input_size is not None and x.shape[-1] != self.input_size:
            x = F.interpolate(x, size=self.input_size, mode="bilinear", align_corners=False)
        return self.stages(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)) * self.logit_scale

    def train(self, mode: bool = True) -> TransferNet:
        super().train(mode)
        if mode:
            for stage in self.stages:
                params = list(stage.parameters())
                if params and not any(p.requires_grad for p in params):
                    stage.eval()
        return self

    def new_head(self, num_classes: int) -> TransferNet:
        """A copy of this network with a freshly initialised head for ``num_classes``."""
        other = copy.deepcopy(self)
        other.head = nn.Linear(self.feature_dim, num_classes).to(self.mean.device)
        return other


def course_backbone(
    width: int, num_classes: int, mean: Sequence[float], std: Sequence[float]
) -> TransferNet:
    """A ``ResNet9`` body (stages prep, layer1, layer2, layer3, pool) with a linear head."""
    net = ResNet9(width=width, num_classes=num_classes)
    return TransferNet(net.features, net.feature_dim, num_classes, mean, std, logit_scale=0.125)


def imagenet_resnet18_file() -> Path | None:
    """torchvision's ImageNet ResNet-18 weights if they are already in torch.hub's cache."""
    name = Path(ResNet18_Weights.IMAGENET1K_V1.url).name
    path = Path(torch.hub.get_dir()) / "checkpoints" / name
    return path if path.is_file() else None


def resnet18_transfer(
    num_classes: int, input_size: int = 64, weights_file: Path | None = None
) -> TransferNet:
    """torchvision's ResNet-18 as a ``TransferNet``, random or with the ImageNet weights in ``weights_file``.

    The file is read, never downloaded, and its SHA-256 is checked against the
    prefix in its name (torchvision's convention). The body has the stages stem,
    layer1, ..., layer4, pool; 32x32 images are resized to ``input_size`` first.
    """
    net = resnet18(weights=None)
    if weights_file is not None:
        prefix = weights_file.stem.rsplit("-", 1)[-1]
        if not sha256_of(weights_file).startswith(prefix):
            raise RuntimeError(
                f"{weights_file} is damaged (its SHA-256 does not start with {prefix}); delete it"
            )
        net.load_state_dict(torch.load(weights_file, map_location="cpu", weights_only=True))
    stages = nn.Sequential()
    stages.add_module("stem", nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool))
    for name in ("layer1", "layer2", "layer3", "layer4"):
        stages.add_module(name, getattr(net, name))
    stages.add_module("pool", nn.Sequential(net.avgpool, nn.Flatten()))
    model = TransferNet(stages, 512, num_classes, IMAGENET_MEAN, IMAGENET_STD, input_size=input_size)
    if weights_file is not None and num_classes == net.fc.out_features:
        model.head = net.fc  # keep the pretrained ImageNet classifier as the head
    return model


def imagenet_resnet18(path: Path, num_classes: int, input_size: int = 64) -> TransferNet:
    """torchvision's ResNet-18 with the ImageNet weights in ``path`` (read, never downloaded)."""
    return resnet18_transfer(num_classes, input_size, weights_file=path)


def freeze_all_but(model: TransferNet, trainable: Iterable[str]) -> None:
    """Freeze every parameter, then unfreeze the named stages and the head."""
    keep = set(trainable)
    unknown = keep - {name for name, _ in model.stages.named_children()}
    if unknown:
        raise ValueError(f"unknown stages {sorted(unknown)}")
    for name, stage in model.stages.named_children():
        for p in stage.parameters():
            p.requires_grad = name in keep
    for p in model.head.parameters():
        p.requires_grad = True


def parameter_counts(model: nn.Module) -> tuple[int, int]:
    """(trainable, frozen) parameter counts."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    return trainable, frozen


@torch.no_grad()
def extract_features(model: TransferNet, x: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """The body's feature vectors for images ``x`` (eval mode), on the CPU."""
    was_training = model.training
    model.eval()
    out = [model.features(x[i : i + batch_size]).cpu() for i in range(0, len(x), batch_size)]
    model.train(was_training)
    return torch.cat(out)


def pretrain_course_backbone(
    *,
    steps: int,
    width: int,
    batch_size: int = 128,
    lr: float = 0.2,
    seed: int = 0,
    device: torch.device | str = "cpu",
    progress: bool = True,
) -> CachedModel:
    """The course's foundation model: ResNet-9 trained on all training images of the source classes.

    Loaded from the checkpoint cache when it was trained before with the same
    settings; otherwise trained (SGD, one-cycle schedule, label smoothing 0.1,
    random crops and flips) and cached. ``meta`` holds the source test accuracy.
    """
    config = {
        "arch": "ResNet9",
        "width": width,
        "steps": steps,
        "batch_size": batch_size,
        "lr": lr,
        "seed": seed,
        "classes": list(SOURCE_CLASSES),
        "version": 1,
    }
    train_set = select_classes(load_images("cifar10", train=True), SOURCE_CLASSES)
    mean, std = train_set.channel_stats()
    torch.manual_seed(seed)
    model = course_backbone(width, len(SOURCE_CLASSES), mean.tolist(), std.tolist()).to(device)

    def train(model: nn.Module) -> dict[str, float]:
        x, y = train_set.tensors(device, normalize=False)
        losses = train_steps(
            model, x, y, steps=steps, lr=lr, batch_size=batch_size, schedule="onecycle",
            label_smoothing=0.1, augment=RandomCropFlip(seed=seed),
            generator=torch.Generator().manual_seed(seed), progress=progress, desc="pretrain",
        )  # fmt: skip
        test = select_classes(load_images("cifar10", train=False), SOURCE_CLASSES)
        _, accuracy = evaluate(model, *test.tensors(device, normalize=False))
        return {"source_test_accuracy": accuracy, "final_loss": sum(losses[-20:]) / len(losses[-20:])}

    cached = load_or_train(model, "cifar6-resnet9", config, train)
    cached.model.eval()
    return cached
