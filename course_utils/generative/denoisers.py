"""The denoising network of the diffusion lesson, and the image scalings around it.

- ``TinyUNet``: a two-level U-Net that takes a noisy image, a time ``t`` in [0, 1]
  and (optionally) a class label, where label ``num_classes`` means "no prompt";
- ``sinusoidal_embedding``: the time embedding; ``ResidualBlock``: its building block;
- ``to_model_range``, ``to_unit_range``, ``half_size``: [0, 1] <-> [-1, 1] and 28 -> 14 pixels.

Images are N x C x H x W tensors scaled to [-1, 1]; H and W must be even.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


def to_model_range(images: torch.Tensor) -> torch.Tensor:
    """uint8 (0..255) or float (0..1) images to float in [-1, 1]."""
    x = images.float()
    if images.dtype == torch.uint8:
        x = x / 255
    return x * 2 - 1


def to_unit_range(x: torch.Tensor) -> torch.Tensor:
    """Model-range images ([-1, 1]) back to [0, 1], clipped."""
    return ((x + 1) / 2).clamp(0, 1)


def half_size(images: torch.Tensor) -> torch.Tensor:
    """Average every 2 x 2 block (28 x 28 -> 14 x 14); uint8 in, float in [0, 1] out."""
    x = images.float() / 255 if images.dtype == torch.uint8 else images.float()
    return F.avg_pool2d(x, 2)


# ---------------------------------------------------------------------------------------------
# The denoising network
# ---------------------------------------------------------------------------------------------


def sinusoidal_embedding(t: torch.Tensor, dim: int, scale: float = 1000.0) -> torch.Tensor:
    """Transformer-style sine/cosine features of the times ``t`` (shape N), N x ``dim``."""
    if dim % 2:
        raise ValueError(f"dim must be even, got {dim}")
    half = dim // 2
    freqs = torch.exp(-math.log(10_000.0) * torch.arange(half, device=t.device) / half)
    angles = scale * t.float()[:, None] * freqs[None, :]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


class ResidualBlock(nn.Module):
    """Two 3x3 convolutions (GroupNorm, SiLU) with the time/label embedding added in between."""

    def __init__(self, in_channels: int, out_channels: int, emb_dim: int, groups: int = 8) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(math.gcd(groups, in_channels), in_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.emb = nn.Linear(emb_dim, out_channels)
        self.norm2 = nn.GroupNorm(math.gcd(groups, out_channels), out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.skip = (
            nn.Identity()
            if in_channels == out_channels
            else nn.Conv2d(in_channels, out_channels, 1)
        )

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.emb(emb)[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return h + self.skip(x)


class TinyUNet(nn.Module):
    """A two-level U-Net: H x W with ``width`` channels, H/2 x W/2 with ``2 * width``.

    ``forward(x, t, labels)`` returns a tensor shaped like ``x`` (the predicted noise
    for a diffusion model, the velocity for a flow-matching model). ``t`` holds one
    time in [0, 1] per image; ``labels`` holds class indices, where ``num_classes``
    (``model.null_label``) means "no prompt". ``labels=None`` uses that label for all.
    """

    def __init__(
        self, in_channels: int = 1, width: int = 32, num_classes: int = 10, emb_dim: int = 128
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.num_classes = num_classes
        self.emb_dim = emb_dim
        self.time_mlp = nn.Sequential(
            nn.Linear(emb_dim, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim)
        )
        self.label_emb = nn.Embedding(num_classes + 1, emb_dim)
        self.stem = nn.Conv2d(in_channels, width, 3, padding=1)
        self.down1 = ResidualBlock(width, width, emb_dim)
        self.downsample = nn.Conv2d(width, width, 3, stride=2, padding=1)
        self.down2 = ResidualBlock(width, 2 * width, emb_dim)
        self.middle = ResidualBlock(2 * width, 2 * width, emb_dim)
        self.up2 = ResidualBlock(4 * width, 2 * width, emb_dim)
        self.up1 = ResidualBlock(3 * width, width, emb_dim)
        self.head = nn.Sequential(
            nn.GroupNorm(math.gcd(8, width), width),
            nn.SiLU(),
            nn.Conv2d(width, in_channels, 3, padding=1),
        )
        nn.init.zeros_(self.head[-1].weight)
        nn.init.zeros_(self.head[-1].bias)

    @property
    def null_label(self) -> int:
        return self.num_classes

    def forward(
        self, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor | None = None
    ) -> torch.Tensor:
        if x.shape[-1] % 2 or x.shape[-2] % 2:
            raise ValueError(f"TinyUNet needs even image sizes, got {tuple(x.shape[-2:])}")
        if labels is None:
            labels = torch.full((len(x),), self.null_label, device=x.device, dtype=torch.long)
        t = t.to(x.device).float().expand(len(x)) if t.ndim == 0 else t.to(x.device)
        emb = self.time_mlp(sinusoidal_embedding(t, self.emb_dim)) + self.label_emb(labels)
        h1 = self.down1(self.stem(x), emb)
        h2 = self.down2(self.downsample(h1), emb)
        h = self.middle(h2, emb)
        h = self.up2(torch.cat([h, h2], dim=1), emb)
        h = F.interpolate(h, scale_factor=2, mode="nearest")
        h = self.up1(torch.cat([h, h1], dim=1), emb)
        return self.head(h)
