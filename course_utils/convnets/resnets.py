"""Plain and residual networks for 32x32 images, and the small loops that train them.

- ``CifarNet``: the CIFAR-10 family of He et al. (2016), ``6n + 2`` layers in three
  stages of ``width``, ``2 * width`` and ``4 * width`` channels. ``residual=False``
  gives the *plain* network of the same depth, width and parameter count (the
  shortcuts are parameter-free: subsample and zero-pad, the paper's option A).
- ``ResNet9``: a compact, fast residual network for CIFAR-10 (a ResNet-9 in the
  style of Page's DAWNBench entries), split into ``features`` and ``classifier`` so
  that lessons can freeze and replace parts of it.
- ``train_steps``: a training loop that records the loss of every step, for curves.
- ``activation_stats``: the standard deviation of every block's output, to see
  signals vanish or explode with depth.
"""

from __future__ import annotations

from collections.abc import Callable

import matplotlib.pyplot as plt
import torch
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm

from ..core.training import batches
from .blocks import conv_bn_relu


def _norm(channels: int, batch_norm: bool) -> nn.Module:
    return nn.BatchNorm2d(channels) if batch_norm else nn.Identity()


def _init_weights(model: nn.Module) -> None:
    """He (Kaiming) initialisation for convolutions, the usual start for ReLU networks."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            if module.bias is not None:
                nn.init.zeros_(module.bias)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions; with ``residual=True`` the block outputs ``relu(F(x) + x)``.

    ``F`` is conv-BN-ReLU-conv-BN. When the block halves the resolution (``stride=2``)
    and widens the channels, the shortcut subsamples ``x`` and pads the new channels
    with zeros, so the residual block has exactly the parameters of the plain one.
    """

    def __init__(
        self, cin: int, cout: int, stride: int = 1, residual: bool = True, batch_norm: bool = True
    ) -> None:
        super().__init__()
        if cout < cin:
            raise ValueError("a block may keep or widen its channels, not narrow them")
        self.residual = residual
        self.stride = stride
        self.extra_channels = cout - cin
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=not batch_norm)
        self.bn1 = _norm(cout, batch_norm)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=not batch_norm)
        self.bn2 = _norm(cout, batch_norm)

    def shortcut(self, x: torch.Tensor) -> torch.Tensor:
        """The identity, or (when shapes change) subsampling plus zero channels."""
        if self.stride > 1:
            x = x[:, :, :: self.stride, :: self.stride]
        if self.extra_channels:
            x = F.pad(x, (0, 0, 0, 0, 0, self.extra_channels))
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.residual:
            out = out + self.shortcut(x)
        return F.relu(out)


class CifarNet(nn.Module):
    """He et al.'s CIFAR-10 network with ``depth = 6n + 2`` weight layers, plain or residual.

    A 3x3 convolution, then three stages of ``n`` basic blocks (two convolutions
    each) at 32x32, 16x16 and 8x8 (for 32x32 inputs), global average pooling and a
    linear layer. ``depth=20`` with ``residual=True`` is ResNet-20; ``depth=56`` is
    ResNet-56; ``residual=False`` gives the plain counterpart.
    """

    def __init__(
        self,
        depth: int = 20,
        width: int = 16,
        residual: bool = True,
        batch_norm: bool = True,
        in_channels: int = 3,
        num_classes: int = 10,
    ) -> None:
        super().__init__()
        if depth < 8 or (depth - 2) % 6:
            raise ValueError(f"depth must be 6n + 2 with n >= 1 (8, 14, 20, ...), got {depth}")
        n = (depth - 2) // 6
        self.depth, self.residual, self.batch_norm = depth, residual, batch_norm
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, 1, 1, bias=not batch_norm),
            _norm(width, batch_norm),
            nn.ReLU(),
        )
        blocks: list[nn.Module] = []
        cin = width
        for stage, cout in enumerate((width, 2 * width, 4 * width)):
            for index in range(n):
                stride = 2 if stage > 0 and index == 0 else 1
                blocks.append(BasicBlock(cin, cout, stride, residual, batch_norm))
                cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, num_classes))
        _init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.stem(x)))


class Residual(nn.Module):
    """``x + F(x)`` with ``F`` two conv-BN-ReLU layers that keep the shape."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(*conv_bn_relu(channels, channels), *conv_bn_relu(channels, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResNet9(nn.Module):
    """A 9-layer residual network for 32x32 images (8 convolutions and a linear layer).

    ``features`` holds four stages, named so that lessons can freeze some of them:
    ``prep`` (w channels, 32x32), ``layer1`` (2w, 16x16, with a residual block),
    ``layer2`` (4w, 8x8) and ``layer3`` (8w, 4x4, with a residual block), then
    global max pooling to an ``8 * width`` vector. ``classifier`` is one linear layer;
    its output is scaled by ``logit_scale`` (a small factor keeps early training stable).
    """

    def __init__(
        self,
        width: int = 64,
        in_channels: int = 3,
        num_classes: int = 10,
        logit_scale: float = 0.125,
    ) -> None:
        super().__init__()
        w = width
        self.features = nn.Sequential()
        self.features.add_module("prep", nn.Sequential(*conv_bn_relu(in_channels, w)))
        self.features.add_module(
            "layer1", nn.Sequential(*conv_bn_relu(w, 2 * w), nn.MaxPool2d(2), Residual(2 * w))
        )
        self.features.add_module("layer2", nn.Sequential(*conv_bn_relu(2 * w, 4 * w), nn.MaxPool2d(2)))
        self.features.add_module(
            "layer3", nn.Sequential(*conv_bn_relu(4 * w, 8 * w), nn.MaxPool2d(2), Residual(8 * w))
        )
        self.features.add_module("pool", nn.Sequential(nn.AdaptiveMaxPool2d(1), nn.Flatten()))
        self.classifier = nn.Linear(8 * w, num_classes, bias=False)
        self.logit_scale = logit_scale
        self.feature_dim = 8 * w
        _init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x)) * self.logit_scale


def train_steps(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    steps: int,
    lr: float,
    batch_size: int = 64,
    momentum: float = 0.9,
    weight_decay: float = 5e-4,
    schedule: str = "cosine",
    label_smoothing: float = 0.0,
    augment: Callable[[torch.Tensor], torch.Tensor] | None = None,
    generator: torch.Generator | None = None,
    progress: bool = True,
    desc: str = "train",
) -> list[float]:
    """Train for ``steps`` SGD steps (Nesterov momentum) and return every step's loss.

    Only parameters with ``requires_grad`` are updated. ``schedule`` is ``"cosine"``
    (start at ``lr`` and decay to zero) or ``"onecycle"`` (warm up to ``lr``, then
    anneal). Mini-batches are drawn epoch by epoch in a fresh random order. A loss
    that becomes NaN or infinite stops training early; the list then ends with it.
    """
    if steps < 1:
        raise ValueError(f"steps must be positive, got {steps}")
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(
        params, lr=lr, momentum=momentum, weight_decay=weight_decay, nesterov=momentum > 0
    )
    if schedule == "cosine":
        scheduler: torch.optim.lr_scheduler.LRScheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
            optimizer, T_max=steps
        )
    elif schedule == "onecycle":
        scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps)
    else:
        raise ValueError(f"schedule must be 'cosine' or 'onecycle', got {schedule!r}")
    losses: list[float] = []
    model.train()
    # A notebook progress bar sends a message to the front end at every refresh; refresh
    # at most once a second so that long runs do not flood the kernel's output channel.
    with tqdm(total=steps, desc=desc, disable=not progress, leave=False, mininterval=1.0) as bar:
        while len(losses) < steps:
            for xb, yb in batches(x, y, batch_size, shuffle=True, generator=generator):
                if augment is not None:
                    xb = augment(xb)
                loss = F.cross_entropy(model(xb), yb, label_smoothing=label_smoothing)
                losses.append(loss.item())
                if not torch.isfinite(loss):
                    return losses
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                scheduler.step()
                bar.set_postfix(loss=f"{losses[-1]:.3f}", refresh=False)
                bar.update(1)
                if len(losses) == steps:
                    break
    return losses


def smooth(values: list[float], window: int = 20) -> list[float]:
    """Running mean over the last ``window`` values (shorter at the start), for noisy curves."""
    out, total = [], 0.0
    for i, value in enumerate(values):
        total += value
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


@torch.no_grad()
def activation_stats(model: CifarNet, x: torch.Tensor) -> list[float]:
    """Standard deviation of the stem's and of every block's output for the batch ``x``.

    Runs in training mode (batch statistics, as during training) without changing
    the model's running statistics.
    """
    was_training = model.training
    saved = {
        name: buffer.clone() for name, buffer in model.named_buffers()
    }  # running means and variances
    model.train()
    stds = []
    h = model.stem(x)
    stds.append(h.std().item())
    for block in model.blocks:
        h = block(h)
        stds.append(h.std().item())
    for name, buffer in model.named_buffers():
        buffer.copy_(saved[name])
    model.train(was_training)
    return stds


def signal_profiles(
    x: torch.Tensor, depth: int, width: int = 8, seed: int = 0
) -> dict[str, list[float]]:
    """Activation standard deviation per block at initialisation, for the four variants.

    Keys are ``"plain"``, ``"plain + BN"``, ``"residual"`` and ``"residual + BN"``;
    every network is a freshly initialised ``CifarNet(depth, width)``.
    """
    profiles = {}
    for residual in (False, True):
        for batch_norm in (False, True):
            torch.manual_seed(seed)
            model = CifarNet(depth, width, residual=residual, batch_norm=batch_norm).to(x.device)
            name = ("residual" if residual else "plain") + (" + BN" if batch_norm else "")
            profiles[name] = activation_stats(model, x)
    return profiles


def plot_signal_profiles(x: torch.Tensor, depth: int, width: int = 8, seed: int = 0):
    """Plot ``signal_profiles`` on a log scale; returns the matplotlib figure."""
    profiles = signal_profiles(x, depth, width, seed)
    fig, ax = plt.subplots(figsize=(6.5, 3.4))
    for (name, stds), style in zip(profiles.items(), ("--", "-", "--", "-"), strict=True):
        ax.plot(range(len(stds)), stds, style, marker=".", label=name)
    ax.set_yscale("log")
    ax.set(
        xlabel="block (0 = first convolution)",
        ylabel="std of activations",
        title=f"signal through a freshly initialised {depth}-layer network",
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


@torch.no_grad()
def evaluate_flip_tta(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1024
) -> float:
    """Accuracy when the logits of each image and its mirror image are averaged."""
    was_training = model.training
    model.eval()
    correct = 0
    for xb, yb in batches(x, y, batch_size):
        logits = model(xb) + model(xb.flip(3))
        correct += (logits.argmax(dim=1) == yb).sum().item()
    model.train(was_training)
    return correct / len(y)
