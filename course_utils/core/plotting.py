"""Plots in one consistent style: image grids, side-by-side comparisons, training curves."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch

COURSE_STYLE = {
    "figure.dpi": 100,
    "figure.facecolor": "white",
    "axes.grid": False,
    "axes.titlesize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "image.interpolation": "nearest",
    "font.size": 10,
}


def use_course_style() -> None:
    """Apply the course's matplotlib settings."""
    plt.rcParams.update(COURSE_STYLE)


def to_display(image: Any) -> np.ndarray:
    """Convert a tensor or array (C x H x W or H x W x C, any range) to an array imshow takes."""
    if isinstance(image, torch.Tensor):
        image = image.detach().cpu().numpy()
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[0] in (1, 3) and array.shape[-1] not in (1, 3):
        array = np.transpose(array, (1, 2, 0))
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.dtype == np.uint8 or array.dtype == bool:
        return array
    array = array.astype(np.float64)
    low, high = float(array.min()), float(array.max())
    if 0.0 <= low and high <= 1.0:
        return array
    return (array - low) / (high - low) if high > low else np.zeros_like(array)


def _imshow(ax: plt.Axes, image: Any, cmap: str) -> None:
    """Draw one image; uint8 grayscale keeps the fixed 0..255 scale so panels compare fairly."""
    shown = to_display(image)
    if shown.ndim == 2:
        limits = {"vmin": 0, "vmax": 255} if shown.dtype == np.uint8 else {}
        ax.imshow(shown, cmap=cmap, **limits)
    else:
        ax.imshow(shown)


def show_images(
    images: Sequence[Any] | torch.Tensor,
    titles: Sequence[str] | None = None,
    ncols: int = 8,
    cmap: str = "gray",
    size: float = 1.5,
    suptitle: str | None = None,
) -> plt.Figure:
    """Show images in a grid with optional titles; returns the figure."""
    count = len(images)
    if count == 0:
        raise ValueError("show_images needs at least one image")
    ncols = min(ncols, count)
    nrows = math.ceil(count / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.3), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= count:
            continue
        _imshow(ax, images[i], cmap)
        if titles is not None:
            ax.set_title(str(titles[i]), fontsize=8)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def compare(
    panels: Mapping[str, Any], cmap: str = "gray", size: float = 3.5, suptitle: str | None = None
) -> plt.Figure:
    """Show named images side by side, e.g. ``compare({"input": a, "output": b})``."""
    fig, axes = plt.subplots(1, len(panels), figsize=(size * len(panels), size), squeeze=False)
    for ax, (title, image) in zip(axes.flat, panels.items(), strict=True):
        _imshow(ax, image, cmap)
        ax.set_title(title)
        ax.axis("off")
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig
