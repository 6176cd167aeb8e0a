"""Image-to-image operations of lesson 03, written with NumPy and checked against OpenCV.

Every function works on a grayscale image (H x W) and, where it makes sense, on a
color one (H x W x C, each channel on its own). Results are float64 in the input's
intensity range (0..255 for uint8 photos); :func:`~course_utils.images.pixels.round_to_uint8` rounds and clips them.

Conventions (the same as OpenCV's, so results can be compared):

- pixel centres sit at integer coordinates and an image of width ``w`` covers
  ``[-0.5, w - 0.5]``; resizing maps output pixel ``x'`` to input position
  ``(x' + 0.5) * w / w' - 0.5`` (the "half-pixel" rule);
- filters are *correlations* (``cv2.filter2D``'s convention, and the lecture's
  "actually, correlation"); :func:`convolve` flips the kernel first;
- the border is extended as named by ``border``: ``"reflect101"`` (``gfedcb|abcdefgh``,
  OpenCV's default), ``"reflect"`` (``fedcba|abcdefgh``), ``"replicate"``
  (``aaaaaa|abcdefgh``) or ``"zero"`` (``000000|abcdefgh``).

The ``*_panel`` functions draw the figures behind the lesson's sliders.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import matplotlib.pyplot as plt
import numpy as np

from ..core.plotting import to_display
from .pixels import round_to_uint8

Border = Literal["reflect101", "reflect", "replicate", "zero"]
Method = Literal["nearest", "bilinear", "bicubic"]

BORDERS: tuple[str, ...] = ("reflect101", "reflect", "replicate", "zero")
RESIZE_METHODS: tuple[str, ...] = ("nearest", "bilinear", "bicubic")
_NUMPY_PAD_MODE = {"reflect101": "reflect", "reflect": "symmetric", "replicate": "edge", "zero": "constant"}

# The 4-neighbour Laplacian (second differences in x plus in y); cv2.Laplacian(ksize=1).
LAPLACIAN_4 = np.array([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])


def _check_border(border: str) -> str:
    if border not in _NUMPY_PAD_MODE:
        raise ValueError(f"Unknown border {border!r}; choose one of: {', '.join(BORDERS)}.")
    return _NUMPY_PAD_MODE[border]


# ----------------------------------------------------------------------------- resizing


def cubic_weight(t: np.ndarray, a: float = -0.75) -> np.ndarray:
    """Keys' cubic convolution kernel; ``a=-0.75`` is OpenCV's choice, ``-0.5`` PIL's."""
    t = np.abs(np.asarray(t, dtype=np.float64))
    near = ((a + 2) * t - (a + 3)) * t * t + 1
    far = ((a * t - 5 * a) * t + 8 * a) * t - 4 * a
    return np.where(t <= 1, near, np.where(t < 2, far, 0.0))


def interpolation_matrix(n_in: int, n_out: int, method: Method, a: float = -0.75) -> np.ndarray:
    """The ``n_out x n_in`` matrix whose row ``i`` holds the weights that make output pixel ``i``.

    Resizing an image is then ``rows @ image @ cols.T`` (separable interpolation).
    Taps that fall outside the image use the nearest edge pixel (OpenCV's rule).
    """
    if n_in < 1 or n_out < 1:
        raise ValueError(f"sizes must be positive, got {n_in} -> {n_out}")
    position = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5  # in input pixel units
    matrix = np.zeros((n_out, n_in))
    rows = np.arange(n_out)
    if method == "nearest":
        source = np.clip(np.floor(position + 0.5), 0, n_in - 1).astype(int)
        matrix[rows, source] = 1.0
        return matrix
    if method == "bilinear":
        offsets, weight = (0, 1), lambda t: np.maximum(0.0, 1.0 - np.abs(t))
    elif method == "bicubic":
        offsets, weight = (-1, 0, 1, 2), lambda t: cubic_weight(t, a)
    else:
        raise ValueError(f"Unknown method {method!r}; choose one of: {', '.join(RESIZE_METHODS)}.")
    left = np.floor(position).astype(int)
    for offset in offsets:
        tap = left + offset
        w = weight(position - tap)
        np.add.at(matrix, (rows, np.clip(tap, 0, n_in - 1)), w)
    return matrix


def resize(
    image: np.ndarray,
    size: tuple[int, int] | None = None,
    *,
    scale: float | None = None,
    method: Method = "bilinear",
    a: float = -0.75,
) -> np.ndarray:
    """Resize to ``size=(height, width)`` or by ``scale``; float64 result, no anti-aliasing.

    Matches ``cv2.resize`` with ``INTER_NEAREST_EXACT``, ``INTER_LINEAR`` and
    ``INTER_CUBIC`` on float input when shrinking by less than 2 or enlarging. Shrinking
    further samples the input sparsely (aliasing): smooth first, see :func:`smooth`.
    """
    image = np.asarray(image, dtype=np.float64)
    height, width = image.shape[:2]
    if size is None:
        if scale is None or scale <= 0:
            raise ValueError("give a size=(height, width) or a positive scale")
        size = (max(1, round(height * scale)), max(1, round(width * scale)))
    rows = interpolation_matrix(height, size[0], method, a)
    cols = interpolation_matrix(width, size[1], method, a)
    out = np.tensordot(rows, image, axes=(1, 0))  # resize the columns: H' x W (x C)
    out = np.tensordot(cols, out, axes=(1, 1))  # then the rows: W' x H' (x C)
    return np.swapaxes(out, 0, 1)


# ---------------------------------------------------------------------------- filtering


def pad(image: np.ndarray, radius_y: int, radius_x: int, border: Border = "reflect101") -> np.ndarray:
    """Extend the image by ``radius_y`` rows and ``radius_x`` columns on each side."""
    mode = _check_border(border)
    widths = [(radius_y, radius_y), (radius_x, radius_x)] + [(0, 0)] * (np.ndim(image) - 2)
    return np.pad(np.asarray(image, dtype=np.float64), widths, mode=mode)


def correlate(image: np.ndarray, kernel: np.ndarray, border: Border = "reflect101") -> np.ndarray:
    """``out[y, x] = sum_{s,t} kernel[s, t] * image[y + s, x + t]`` with ``s, t`` centred on 0.

    The kernel must have odd height and width. Same output size as the input.
    """
    kernel = np.asarray(kernel, dtype=np.float64)
    if kernel.ndim != 2 or kernel.shape[0] % 2 == 0 or kernel.shape[1] % 2 == 0:
        raise ValueError(f"the kernel must be 2-D with odd sides, got shape {kernel.shape}")
    ry, rx = kernel.shape[0] // 2, kernel.shape[1] // 2
    padded = pad(image, ry, rx, border)
    height, width = np.shape(image)[:2]
    out = np.zeros(padded.shape[:0] + (height, width) + padded.shape[2:])
    for s in range(-ry, ry + 1):
        for t in range(-rx, rx + 1):
            weight = kernel[s + ry, t + rx]
            if weight != 0.0:
                out += weight * padded[ry + s : ry + s + height, rx + t : rx + t + width]
    return out


def convolve(image: np.ndarray, kernel: np.ndarray, border: Border = "reflect101") -> np.ndarray:
    """True convolution: correlation with the kernel flipped in both directions."""
    return correlate(image, np.asarray(kernel)[::-1, ::-1], border)


def box_kernel_1d(size: int) -> np.ndarray:
    """``size`` equal weights that sum to 1 (a moving average along one direction)."""
    if size < 1 or size % 2 == 0:
        raise ValueError(f"size must be a positive odd number, got {size}")
    return np.full(size, 1.0 / size)


def box_kernel(size: int) -> np.ndarray:
    """A ``size x size`` kernel of equal weights that sum to 1 (a moving average)."""
    return np.outer(box_kernel_1d(size), box_kernel_1d(size))


def gaussian_kernel_1d(size: int, sigma: float) -> np.ndarray:
    """Samples of exp(-x^2 / (2 sigma^2)) at x = -(size//2)..size//2, normalised to sum 1."""
    if size < 1 or size % 2 == 0:
        raise ValueError(f"size must be a positive odd number, got {size}")
    if sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    x = np.arange(size) - size // 2
    weights = np.exp(-(x**2) / (2.0 * sigma**2))
    return weights / weights.sum()


def gaussian_kernel(size: int, sigma: float) -> np.ndarray:
    """The 2-D Gaussian kernel: the outer product of two 1-D ones (it is separable)."""
    g = gaussian_kernel_1d(size, sigma)
    return np.outer(g, g)


def gaussian_size(sigma: float, truncate: float = 3.0) -> int:
    """An odd kernel size that keeps the Gaussian out to ``truncate`` standard deviations."""
    return 2 * int(np.ceil(truncate * sigma)) + 1


def smooth(
    image: np.ndarray,
    method: Literal["box", "gaussian"] = "gaussian",
    size: int = 5,
    sigma: float = 1.0,
    border: Border = "reflect101",
) -> np.ndarray:
    """Smooth with a ``size x size`` box or Gaussian kernel (``sigma`` only for Gaussian).

    Both kernels are separable (an outer product of two 1-D kernels), so the image is
    filtered by a row pass and a column pass: the same result as the 2-D kernel up to
    rounding, with ``2 * size`` instead of ``size**2`` operations per pixel.
    """
    if method == "box":
        weights = box_kernel_1d(size)
    elif method == "gaussian":
        weights = gaussian_kernel_1d(size, sigma)
    else:
        raise ValueError(f"Unknown smoothing method {method!r}; choose 'box' or 'gaussian'.")
    return correlate(correlate(image, weights[None, :], border), weights[:, None], border)


def unsharp_mask(
    image: np.ndarray,
    sigma: float = 1.0,
    amount: float = 1.0,
    size: int | None = None,
    border: Border = "reflect101",
) -> np.ndarray:
    """``image + amount * (image - gaussian_blur(image))``, not clipped."""
    size = size or gaussian_size(sigma)
    image = np.asarray(image, dtype=np.float64)
    return image + amount * (image - smooth(image, "gaussian", size, sigma, border))


def laplacian(image: np.ndarray, border: Border = "reflect101") -> np.ndarray:
    """The 4-neighbour Laplacian: large where intensity curves, zero on flat or linear parts."""
    return correlate(image, LAPLACIAN_4, border)


def laplacian_sharpen(image: np.ndarray, amount: float = 1.0, border: Border = "reflect101") -> np.ndarray:
    """``image - amount * laplacian(image)``, not clipped."""
    image = np.asarray(image, dtype=np.float64)
    return image - amount * laplacian(image, border)


def sharpen(
    image: np.ndarray,
    method: Literal["unsharp", "laplacian"] = "unsharp",
    amount: float = 1.0,
    sigma: float = 1.0,
) -> np.ndarray:
    """Sharpen by unsharp masking (Gaussian of ``sigma``) or with the Laplacian."""
    if method == "unsharp":
        return unsharp_mask(image, sigma, amount)
    if method == "laplacian":
        return laplacian_sharpen(image, amount)
    raise ValueError(f"Unknown sharpening method {method!r}; choose 'unsharp' or 'laplacian'.")


# ----------------------------------------------------------------------------- contrast


def histogram(image: np.ndarray) -> np.ndarray:
    """How many pixels have each of the 256 intensity levels of a uint8 image."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise TypeError(f"expected a uint8 image, got {image.dtype}")
    return np.bincount(image.ravel(), minlength=256)


def stretch_contrast(image: np.ndarray, low: float = 2.0, high: float = 98.0) -> np.ndarray:
    """Map the ``low``-th..``high``-th percentile linearly onto 0..255 and clip the rest."""
    if not 0 <= low < high <= 100:
        raise ValueError(f"need 0 <= low < high <= 100, got {low}, {high}")
    image = np.asarray(image, dtype=np.float64)
    lo, hi = np.percentile(image, [low, high])
    if hi <= lo:
        return np.clip(image, 0, 255)
    return np.clip((image - lo) * 255.0 / (hi - lo), 0, 255)


def equalization_lut(image: np.ndarray) -> np.ndarray:
    """The 256-entry lookup table of histogram equalization (OpenCV's formula).

    ``lut[v] = round(255 * (cdf[v] - cdf_min) / (N - cdf_min))``, where ``cdf`` counts the
    pixels at or below ``v`` and ``cdf_min`` is the count at the darkest level present.
    """
    cdf = np.cumsum(histogram(image))
    total, cdf_min = cdf[-1], cdf[cdf > 0][0]
    if total == cdf_min:  # a constant image: nothing to spread
        return np.arange(256, dtype=np.uint8)
    return round_to_uint8(255.0 * (cdf - cdf_min) / (total - cdf_min))


def equalize(image: np.ndarray) -> np.ndarray:
    """Histogram equalization of a uint8 grayscale image (uint8 result)."""
    return equalization_lut(image)[image]


def enhance_contrast(
    image: np.ndarray,
    method: Literal["stretch", "equalize"] = "stretch",
    low: float = 2.0,
    high: float = 98.0,
) -> np.ndarray:
    """The contrast operation behind the lesson's slider, as uint8."""
    if method == "stretch":
        return round_to_uint8(stretch_contrast(image, low, high))
    if method == "equalize":
        return equalize(image)
    raise ValueError(f"Unknown contrast method {method!r}; choose 'stretch' or 'equalize'.")


# ------------------------------------------------------------------------ slider figures


def _show(ax: plt.Axes, image: np.ndarray, title: str) -> None:
    shown = to_display(image)
    if shown.ndim == 2 and shown.dtype == np.uint8:
        ax.imshow(shown, cmap="gray", vmin=0, vmax=255)
    else:
        ax.imshow(shown, cmap="gray" if shown.ndim == 2 else None)
    ax.set_title(title)
    ax.axis("off")


def side_by_side(panels: Mapping[str, np.ndarray], size: float = 3.2, suptitle: str | None = None) -> plt.Figure:
    """Named images in a row, grayscale ``uint8`` ones on the fixed 0..255 scale.

    ``imshow`` would otherwise stretch every grayscale panel to its own min..max, which
    hides exactly the contrast changes this lesson is about.
    """
    fig, axes = plt.subplots(1, len(panels), figsize=(size * len(panels), size), squeeze=False)
    for ax, (title, image) in zip(axes.flat, panels.items(), strict=True):
        _show(ax, image, title)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def scaling_panel(image: np.ndarray, scale: float = 2.0, method: Method = "bilinear") -> plt.Figure:
    """Input and resized image drawn at the same display size, so pixels can be compared."""
    out = round_to_uint8(resize(image, scale=scale, method=method))
    fig, axes = plt.subplots(1, 2, figsize=(8, 4.2))
    _show(axes[0], image, f"input {image.shape[0]}x{image.shape[1]}")
    _show(axes[1], out, f"{method} x{scale:g}: {out.shape[0]}x{out.shape[1]}")
    fig.tight_layout()
    return fig


def smoothing_panel(
    image: np.ndarray, method: Literal["box", "gaussian"] = "gaussian", size: int = 5, sigma: float = 1.0
) -> plt.Figure:
    """Input, smoothed image and the kernel with its weights."""
    kernel = box_kernel(size) if method == "box" else gaussian_kernel(size, sigma)
    out = round_to_uint8(smooth(image, method, size, sigma))
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.8), gridspec_kw={"width_ratios": [1, 1, 0.8]})
    _show(axes[0], image, "input")
    label = f"box {size}x{size}" if method == "box" else f"Gaussian {size}x{size}, sigma={sigma:g}"
    _show(axes[1], out, label)
    shown = axes[2].imshow(kernel, cmap="viridis")
    axes[2].set_title(f"kernel (sum {kernel.sum():.3f})")
    axes[2].set_xticks([])
    axes[2].set_yticks([])
    fig.colorbar(shown, ax=axes[2], fraction=0.046)
    fig.tight_layout()
    return fig


# The panels share one shape (input, result, a third view) on purpose: each is the figure
# behind one slider of lesson 03, and a common helper would hide what each one shows.
def sharpening_panel(
    image: np.ndarray,
    method: Literal["unsharp", "laplacian"] = "unsharp",
    amount: float = 1.0,
    sigma: float = 1.0,
) -> plt.Figure:
    """Input, sharpened image and the detail that was added (sharpened - input)."""
    out = sharpen(image, method, amount, sigma)
    detail = out - np.asarray(image, dtype=np.float64)
    fig, axes = plt.subplots(1, 3, figsize=(11, 4.2))
    _show(axes[0], image, "input")
    _show(axes[1], round_to_uint8(out), f"{method}, amount={amount:g}")
    limit = max(float(np.percentile(np.abs(detail), 99.5)), 1e-9)  # a few extremes would wash it out
    axes[2].imshow(detail, cmap="RdBu_r", vmin=-limit, vmax=limit)
    axes[2].set_title("added detail (red +, blue -)")
    axes[2].axis("off")
    fig.tight_layout()
    return fig


def contrast_panel(
    image: np.ndarray,
    method: Literal["stretch", "equalize"] = "stretch",
    low: float = 2.0,
    high: float = 98.0,
) -> plt.Figure:
    """Before and after images with their histograms and cumulative histograms."""
    out = enhance_contrast(image, method, low, high)
    fig, axes = plt.subplots(2, 2, figsize=(9, 6.5), gridspec_kw={"height_ratios": [1.4, 1]})
    title = "equalized" if method == "equalize" else f"stretched {low:g}..{high:g} percentile"
    for column, (name, picture) in enumerate((("input", image), (title, out))):
        _show(axes[0, column], picture, name)
        counts = histogram(picture)
        ax = axes[1, column]
        ax.stairs(counts, np.arange(257) - 0.5, fill=True, color="0.3")
        ax.set(xlim=(-1, 256), xlabel="intensity", ylabel="pixels")
        cdf_axis = ax.twinx()
        cdf_axis.plot(np.arange(256), np.cumsum(counts) / counts.sum(), color="tab:orange")
        cdf_axis.set(ylim=(0, 1.02), ylabel="cumulative fraction")
        cdf_axis.spines["right"].set_visible(True)
    fig.tight_layout()
    return fig
