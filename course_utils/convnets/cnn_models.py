"""Small convolutional networks that several lessons train: LeNet-5 and a compact CIFAR-10 CNN.

Both keep their convolution and pooling layers in ``features`` and the classifier
in ``classifier`` (each an ``nn.Sequential``), so lessons can look inside them with
``activations``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch
from torch import nn


class LeNet5(nn.Module):
    """LeNet-5 (LeCun et al. 1998): conv 6@5x5, pool, conv 16@5x5, pool, 120, 84, classes.

    The original network reads 32x32 images; for 28x28 ones (MNIST) the first
    convolution pads by 2 pixels so every later layer has its classic size
    (6@28x28, 6@14x14, 16@10x10, 16@5x5). ``classic=True`` uses the original's
    tanh and average pooling ("subsampling") instead of ReLU and max pooling.
    """

    def __init__(
        self, in_channels: int = 1, num_classes: int = 10, image_size: int = 28, classic: bool = False
    ) -> None:
        super().__init__()
        if image_size not in (28, 32):
            raise ValueError("LeNet5 takes 28x28 (padded by 2) or 32x32 images")
        act: type[nn.Module] = nn.Tanh if classic else nn.ReLU
        pool: type[nn.Module] = nn.AvgPool2d if classic else nn.MaxPool2d
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5, padding=(32 - image_size) // 2),
            act(),
            pool(2),
            nn.Conv2d(6, 16, kernel_size=5),
            act(),
            pool(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120),
            act(),
            nn.Linear(120, 84),
            act(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


def _conv_block(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]


class CompactCNN(nn.Module):
    """A small VGG-style CNN for 32x32 colour images that trains in minutes on a CPU.

    Three stages of 3x3 convolution + batch norm + ReLU + 2x2 max pooling with
    ``width``, ``2 * width`` and ``4 * width`` channels (32 -> 16 -> 8 -> 4 pixels),
    then a linear classifier on the flattened 4x4 maps (with dropout ``dropout``).
    """

    def __init__(
        self, in_channels: int = 3, num_classes: int = 10, width: int = 32, dropout: float = 0.0
    ) -> None:
        super().__init__()
        self.features = nn.Sequential(
            *_conv_block(in_channels, width),
            nn.MaxPool2d(2),
            *_conv_block(width, 2 * width),
            nn.MaxPool2d(2),
            *_conv_block(2 * width, 4 * width),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Dropout(dropout), nn.Linear(4 * width * 4 * 4, num_classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable) parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


@torch.no_grad()
def activations(model: nn.Module, x: torch.Tensor) -> list[tuple[str, torch.Tensor]]:
    """Run ``x`` through ``model.features`` and ``model.classifier`` layer by layer.

    Returns ``(name, output)`` for every layer, e.g. ``("features.0 Conv2d", ...)``;
    the last entry is the model's output. The model is put in eval mode for the call.
    """
    was_training = model.training
    model.eval()
    found = []
    for part in ("features", "classifier"):
        for index, layer in enumerate(getattr(model, part)):
            x = layer(x)
            found.append((f"{part}.{index} {type(layer).__name__}", x))
    model.train(was_training)
    return found


def show_filters(
    weight: torch.Tensor, ncols: int = 8, size: float = 1.0, title: str | None = None
) -> plt.Figure:
    """Draw first-layer kernels (F x C x k x k): RGB kernels in colour, others in red/blue.

    Each kernel is scaled on its own so its pattern is visible; for colour kernels
    mid-grey means zero.
    """
    weight = weight.detach().cpu().float()
    count, channels = weight.shape[:2]
    ncols = min(ncols, count)
    nrows = -(-count // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.4), squeeze=False)
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index >= count:
            continue
        kernel = weight[index]
        bound = float(kernel.abs().max()) or 1.0
        if channels == 3:
            ax.imshow((kernel / (2 * bound) + 0.5).permute(1, 2, 0).numpy())
        else:
            ax.imshow(kernel.mean(0).numpy(), cmap="RdBu_r", vmin=-bound, vmax=bound)
        ax.set_title(str(index), fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_feature_maps(
    model: nn.Module, image: torch.Tensor, layer: int = 0, max_maps: int = 16, size: float = 1.2
) -> plt.Figure:
    """The input image and the feature maps of ``model.features[layer]`` for it.

    ``image`` is one C x H x W tensor, prepared like the training data.
    """
    if not 0 <= layer < len(model.features):
        raise ValueError(f"layer must be between 0 and {len(model.features) - 1}")
    device = next(model.parameters()).device
    name, maps = activations(model, image[None].to(device))[layer]
    maps = maps[0].cpu()
    shown = min(max_maps, len(maps))
    ncols = min(8, shown + 1)
    nrows = -(-(shown + 1) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.5), squeeze=False)
    picture = image.detach().cpu().float()
    picture = (picture - picture.min()) / (picture.max() - picture.min() + 1e-12)
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index == 0:
            ax.imshow(picture.permute(1, 2, 0).numpy() if len(picture) == 3 else picture[0].numpy(),
                      cmap="gray")
            ax.set_title("input", fontsize=7)
        elif index <= shown:
            ax.imshow(maps[index - 1].numpy(), cmap="viridis")
            ax.set_title(f"map {index - 1}", fontsize=7)
    fig.suptitle(f"{name}: {shown} of {len(maps)} feature maps, {maps.shape[-2]}x{maps.shape[-1]}")
    fig.tight_layout()
    return fig
