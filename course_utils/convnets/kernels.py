"""Hand-crafted convolution kernels (blur, sharpen, edges) and a figure of their effect.

Kernels are applied as the deep-learning frameworks do it, by cross-correlation
(``torch.nn.functional.conv2d``), with zero padding so the output keeps the
input's size.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch.nn import functional as F

KERNELS: dict[str, np.ndarray] = {
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=np.float64),
    "box blur": np.full((3, 3), 1 / 9),
    "gaussian blur": np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]) / 256.0,
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=np.float64),
    "sobel x": np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=np.float64),
    "sobel y": np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]], dtype=np.float64),
    "laplacian": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=np.float64),
}


def filter_image(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Cross-correlate a grayscale (H x W) or colour (H x W x C) image with ``kernel``.

    Each colour channel is filtered on its own; the image is zero-padded by half
    the kernel size so the result has the input's height and width. Returns float64.
    """
    kernel = np.asarray(kernel, dtype=np.float64)
    if kernel.ndim != 2 or kernel.shape[0] % 2 == 0 or kernel.shape[1] % 2 == 0:
        raise ValueError(f"expected a 2-D kernel with odd sides, got shape {kernel.shape}")
    array = np.asarray(image, dtype=np.float64)
    planes = array[None] if array.ndim == 2 else np.moveaxis(array, -1, 0)
    x = torch.from_numpy(np.ascontiguousarray(planes))[:, None]  # C x 1 x H x W
    w = torch.from_numpy(kernel)[None, None]
    out = F.conv2d(x, w, padding=(kernel.shape[0] // 2, kernel.shape[1] // 2))[:, 0].numpy()
    return out[0] if array.ndim == 2 else np.moveaxis(out, 0, -1)


def show_filter(image: np.ndarray, name: str = "sobel x") -> plt.Figure:
    """The image, one of ``KERNELS`` with its numbers, and the filtered image side by side."""
    if name not in KERNELS:
        raise ValueError(f"Unknown kernel {name!r}; choose one of: {', '.join(KERNELS)}.")
    kernel = KERNELS[name]
    scaled = np.asarray(image, dtype=np.float64)
    scaled = scaled / 255.0 if scaled.max() > 1 else scaled
    result = filter_image(scaled, kernel)
    fig, (ax_in, ax_k, ax_out) = plt.subplots(
        1, 3, figsize=(10, 3.6), gridspec_kw={"width_ratios": [3, 1.4, 3]}
    )
    ax_in.imshow(scaled, cmap="gray", vmin=0, vmax=1)
    ax_in.set_title("input")
    limit = np.abs(kernel).max()
    ax_k.imshow(kernel, cmap="RdBu_r", vmin=-limit, vmax=limit)
    if kernel.shape[0] <= 5:
        for (r, c), value in np.ndenumerate(kernel):
            ax_k.text(c, r, f"{value:.2g}", ha="center", va="center", fontsize=7)
    ax_k.set_title(f"kernel: {name}")
    signed = result.min() < -1e-9
    if signed and result.ndim == 3:
        result = result.mean(axis=-1)  # signed colour responses: show their channel mean
    if signed:  # scale to the 99.5th percentile so a few extreme pixels do not wash out the rest
        bound = max(float(np.percentile(np.abs(result), 99.5)), 1e-12)
        ax_out.imshow(result, cmap="RdBu_r", vmin=-bound, vmax=bound)
    else:
        ax_out.imshow(np.clip(result, 0, 1), cmap="gray", vmin=0, vmax=1)
    ax_out.set_title("output" + (" (red +, blue -)" if signed else ""))
    for ax in (ax_in, ax_k, ax_out):
        ax.axis("off")
    fig.tight_layout()
    return fig
