"""Data augmentation for mini-batches of image tensors that already sit in memory.

torchvision's transforms draw *one* set of random parameters per call, so a
``v2.RandomCrop`` applied to a whole N x C x H x W batch crops every image in the
same place. The functions here draw parameters per image instead: ``per_image``
loops a torchvision transform over the batch, ``random_crop_flip`` does the same
job as ``v2.RandomCrop(size, padding) + v2.RandomHorizontalFlip()`` for the
whole batch in one indexing operation.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.nn import functional as F


def crop_flip(
    x: torch.Tensor, offsets: torch.Tensor, flips: torch.Tensor, padding: int, fill: float = 0.0
) -> torch.Tensor:
    """Pad every image by ``padding``, crop it back to H x W at its own offset, maybe flip it.

    ``offsets`` is N x 2 (top, left) in ``[0, 2 * padding]``; ``flips`` is N booleans
    (flip left-right after cropping). Deterministic: the randomness lives in the caller.
    """
    if x.ndim != 4:
        raise ValueError(f"expected a batch N x C x H x W, got shape {tuple(x.shape)}")
    n, c, h, w = x.shape
    offsets = offsets.to(x.device, torch.long)
    flips = flips.to(x.device, torch.bool)
    if offsets.shape != (n, 2) or flips.shape != (n,):
        raise ValueError("offsets must be N x 2 and flips N long")
    if offsets.min() < 0 or offsets.max() > 2 * padding:
        raise ValueError(f"offsets must lie in [0, {2 * padding}]")
    padded = F.pad(x, (padding, padding, padding, padding), value=fill) if padding else x
    rows = offsets[:, :1] + torch.arange(h, device=x.device)  # N x H
    cols = offsets[:, 1:] + torch.arange(w, device=x.device)  # N x W
    cols = torch.where(flips[:, None], cols.flip(1), cols)
    batch = torch.arange(n, device=x.device)[:, None, None, None]
    channel = torch.arange(c, device=x.device)[None, :, None, None]
    return padded[batch, channel, rows[:, None, :, None], cols[:, None, None, :]]


def random_crop_flip(
    x: torch.Tensor,
    padding: int = 4,
    flip_prob: float = 0.5,
    fill: float = 0.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Random crop with zero padding plus random horizontal flip, drawn per image."""
    n = len(x)
    offsets = torch.randint(0, 2 * padding + 1, (n, 2), generator=generator)
    flips = torch.rand(n, generator=generator) < flip_prob
    return crop_flip(x, offsets, flips, padding, fill)


class RandomCropFlip:
    """``random_crop_flip`` with its own seeded generator, to pass as ``fit(augment=...)``."""

    def __init__(self, padding: int = 4, flip_prob: float = 0.5, fill: float = 0.0, seed: int = 0):
        self.padding = padding
        self.flip_prob = flip_prob
        self.fill = fill
        self.generator = torch.Generator().manual_seed(seed)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return random_crop_flip(x, self.padding, self.flip_prob, self.fill, self.generator)

    def __repr__(self) -> str:
        return f"RandomCropFlip(padding={self.padding}, flip_prob={self.flip_prob}, fill={self.fill})"


def per_image(transform: Callable[[torch.Tensor], torch.Tensor]) -> Callable[[torch.Tensor], torch.Tensor]:
    """Wrap an image transform so that it runs on each image of a batch separately."""

    def apply(x: torch.Tensor) -> torch.Tensor:
        return torch.stack([transform(image) for image in x])

    return apply
