"""Color models, color filter mosaics (Bayer patterns), and demosaicing (PSNR is in ``pixels``).

Conventions: color images are H x W x 3 arrays in RGB order, either uint8 (0..255)
or floating point in [0, 1]. The conversions accept both and return float64 in
[0, 1] (hue included: 0 = red, 1/3 = green, 2/3 = blue, as in scikit-image).
A Bayer layout is named by its top-left 2 x 2 tile read row by row, for example
``"GRBG"`` = row 0: G R, row 1: B G (the layout on the lecture's slide).
"""

from __future__ import annotations

from collections.abc import Mapping

import cv2
import matplotlib.pyplot as plt
import numpy as np
from scipy import ndimage

from .pixels import psnr, unit_to_uint8

CHANNELS = "RGB"
BAYER_LAYOUTS = ("RGGB", "BGGR", "GRBG", "GBRG")
SLIDE_BAYER_LAYOUT = "GRBG"

# Bilinear demosaicing as convolution: each kernel is applied to a channel's sparse
# plane (measured values, zeros elsewhere). The weights that land on measured sites
# always sum to 1, so measured values are kept and missing ones become neighbour means.
BILINEAR_GREEN_KERNEL = np.array([[0, 1, 0], [1, 4, 1], [0, 1, 0]], dtype=np.float64) / 4
BILINEAR_RED_BLUE_KERNEL = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=np.float64) / 4

# OpenCV names its Bayer conversions after a different tile than the one at the
# top-left corner; this table was found by checking that OpenCV's output keeps the
# measured value of every site (see the color lesson and tests/test_color.py).
_OPENCV_BAYER_NAME = {"GRBG": "GB", "RGGB": "BG", "BGGR": "RG", "GBRG": "GR"}
_OPENCV_VARIANTS = {"bilinear": "", "vng": "_VNG", "edge_aware": "_EA"}


def to_float(image: np.ndarray) -> np.ndarray:
    """uint8 -> float64 in [0, 1]; floating-point input is returned as float64 unchanged."""
    array = np.asarray(image)
    if array.dtype == np.uint8:
        return array.astype(np.float64) / 255.0
    if np.issubdtype(array.dtype, np.floating):
        return array.astype(np.float64)
    raise TypeError(f"expected uint8 or floating-point values, got {array.dtype}")


def _check_last_axis(array: np.ndarray, size: int, what: str) -> None:
    if array.shape[-1] != size:
        raise ValueError(f"{what} needs {size} values on the last axis, got shape {array.shape}")


def rgb_to_cmyk(rgb: np.ndarray, black: bool = True) -> np.ndarray:
    """RGB -> CMYK (..., 4) in [0, 1].

    With ``black`` (full black generation): K = 1 - max(R, G, B) and
    C = (1 - R - K) / (1 - K), likewise M from G and Y from B; pure black (K = 1)
    has C = M = Y = 0. Without it, K = 0 and C, M, Y = 1 - R, 1 - G, 1 - B.
    """
    rgb = to_float(rgb)
    _check_last_axis(rgb, 3, "rgb_to_cmyk")
    k = 1.0 - rgb.max(axis=-1) if black else np.zeros(rgb.shape[:-1])
    ink = 1.0 - k
    with np.errstate(invalid="ignore", divide="ignore"):
        cmy = np.where(ink[..., None] > 0, (1.0 - rgb - k[..., None]) / ink[..., None], 0.0)
    return np.concatenate([cmy, k[..., None]], axis=-1)


def cmyk_to_rgb(cmyk: np.ndarray) -> np.ndarray:
    """CMYK in [0, 1] -> RGB in [0, 1]: R = (1 - C)(1 - K), and likewise G, B."""
    cmyk = np.asarray(cmyk, dtype=np.float64)
    _check_last_axis(cmyk, 4, "cmyk_to_rgb")
    return (1.0 - cmyk[..., :3]) * (1.0 - cmyk[..., 3:])


def rgb_to_hsv(rgb: np.ndarray) -> np.ndarray:
    """RGB -> HSV, all three in [0, 1] (hue as a fraction of a full turn).

    V = max, S = (max - min) / max, and the hue says which channel is largest and
    how far the second one pulls it towards its neighbour on the color wheel.
    Gray pixels (max = min) get hue 0; black gets saturation 0.
    """
    rgb = to_float(rgb)
    _check_last_axis(rgb, 3, "rgb_to_hsv")
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    v = rgb.max(axis=-1)
    chroma = v - rgb.min(axis=-1)
    safe = np.where(chroma > 0, chroma, 1.0)
    sector = np.where(
        v == r, ((g - b) / safe) % 6.0, np.where(v == g, (b - r) / safe + 2.0, (r - g) / safe + 4.0)
    )
    h = np.where(chroma > 0, sector / 6.0, 0.0) % 1.0
    s = np.where(v > 0, chroma / np.where(v > 0, v, 1.0), 0.0)
    return np.stack([h, s, v], axis=-1)


def hsv_to_rgb(hsv: np.ndarray) -> np.ndarray:
    """HSV in [0, 1] -> RGB in [0, 1] (the inverse of :func:`rgb_to_hsv`)."""
    hsv = np.asarray(hsv, dtype=np.float64)
    _check_last_axis(hsv, 3, "hsv_to_rgb")
    h, s, v = (hsv[..., 0] % 1.0) * 6.0, hsv[..., 1], hsv[..., 2]
    # Each channel is V minus a share of the chroma V * S that depends on how far the
    # hue is from that channel's place on the wheel (R at 0, G at 2, B at 4 sixths).
    channels = []
    for offset in (5.0, 3.0, 1.0):
        k = (offset + h) % 6.0
        channels.append(v - v * s * np.clip(np.minimum(k, 4.0 - k), 0.0, 1.0))
    return np.stack(channels, axis=-1)


def adjust_hsv(
    image: np.ndarray, hue_shift: float = 0.0, saturation: float = 1.0, value: float = 1.0
) -> np.ndarray:
    """Rotate the hue by ``hue_shift`` degrees and scale saturation and value; returns uint8."""
    hsv = rgb_to_hsv(image)
    hsv[..., 0] = (hsv[..., 0] + hue_shift / 360.0) % 1.0
    hsv[..., 1] = np.clip(hsv[..., 1] * saturation, 0.0, 1.0)
    hsv[..., 2] = np.clip(hsv[..., 2] * value, 0.0, 1.0)
    return unit_to_uint8(hsv_to_rgb(hsv))


def show_hsv_adjustment(
    image: np.ndarray, hue_shift: float = 0.0, saturation: float = 1.0, value: float = 1.0,
    size: float = 3.5,
) -> plt.Figure:
    """The photo before and after :func:`adjust_hsv` (the color lesson's sliders)."""
    adjusted = adjust_hsv(image, hue_shift, saturation, value)
    fig, axes = plt.subplots(1, 2, figsize=(2 * size, size))
    titles = ("original", f"hue {hue_shift:+.0f} deg, S x {saturation:.2f}, V x {value:.2f}")
    for ax, shown, title in zip(axes, (image, adjusted), titles, strict=True):
        ax.imshow(shown)
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    fig.tight_layout()
    return fig


def _check_layout(layout: str) -> str:
    layout = layout.upper()
    if layout not in BAYER_LAYOUTS:
        raise ValueError(f"unknown Bayer layout {layout!r}; choose one of {', '.join(BAYER_LAYOUTS)}")
    return layout


def bayer_masks(shape: tuple[int, int], layout: str = SLIDE_BAYER_LAYOUT) -> np.ndarray:
    """Boolean H x W x 3 array: ``masks[y, x, c]`` is True where the filter at (y, x) passes channel c."""
    layout = _check_layout(layout)
    height, width = shape[:2]
    masks = np.zeros((height, width, 3), dtype=bool)
    for index, letter in enumerate(layout):
        dy, dx = divmod(index, 2)
        masks[dy::2, dx::2, CHANNELS.index(letter)] = True
    return masks


def bayer_notation(layout: str = SLIDE_BAYER_LAYOUT, rows: int = 4, cols: int = 4) -> list[list[str]]:
    """The lecture's notation for a filter mosaic: at each site the measured channel is
    a capital letter and the two interpolated ones are lower case (``"rGb"``)."""
    masks = bayer_masks((rows, cols), layout)
    return [
        ["".join(c.upper() if masks[y, x, i] else c.lower() for i, c in enumerate(CHANNELS))
         for x in range(cols)]
        for y in range(rows)
    ]


def mosaic(rgb: np.ndarray, layout: str = SLIDE_BAYER_LAYOUT) -> np.ndarray:
    """What a single sensor behind a color filter mosaic records: one value per site (H x W)."""
    rgb = np.asarray(rgb)
    _check_last_axis(rgb, 3, "mosaic")
    masks = bayer_masks(rgb.shape[:2], layout)
    return (rgb * masks).sum(axis=-1).astype(rgb.dtype)


def mosaic_in_filter_colors(raw: np.ndarray, layout: str = SLIDE_BAYER_LAYOUT) -> np.ndarray:
    """Show a raw mosaic with each site in its filter's color (H x W x 3, same dtype)."""
    raw = np.asarray(raw)
    return (raw[..., None] * bayer_masks(raw.shape, layout)).astype(raw.dtype)


def demosaic_bilinear(raw: np.ndarray, layout: str = SLIDE_BAYER_LAYOUT) -> np.ndarray:
    """Bilinear demosaicing written as convolution; returns an image of ``raw``'s dtype.

    Each channel's sparse plane (its measured values, zeros elsewhere) is convolved
    with :data:`BILINEAR_GREEN_KERNEL` or :data:`BILINEAR_RED_BLUE_KERNEL`. Borders
    are mirrored without repeating the edge, which keeps the mosaic's pattern intact.
    """
    raw = np.asarray(raw)
    if raw.ndim != 2:
        raise ValueError(f"a raw mosaic has one value per site (H x W), got shape {raw.shape}")
    masks = bayer_masks(raw.shape, layout)
    values = raw.astype(np.float64)
    planes = []
    for c, kernel in enumerate((BILINEAR_RED_BLUE_KERNEL, BILINEAR_GREEN_KERNEL, BILINEAR_RED_BLUE_KERNEL)):
        planes.append(ndimage.convolve(values * masks[..., c], kernel, mode="mirror"))
    full = np.stack(planes, axis=-1)
    if raw.dtype == np.uint8:
        return np.round(np.clip(full, 0, 255)).astype(np.uint8)
    return full.astype(raw.dtype)


def opencv_bayer_code(layout: str = SLIDE_BAYER_LAYOUT, method: str = "bilinear") -> int:
    """The ``cv2.COLOR_Bayer*2RGB*`` code that demosaics ``layout`` with ``method``
    ("bilinear", "vng" or "edge_aware")."""
    layout = _check_layout(layout)
    if method not in _OPENCV_VARIANTS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(_OPENCV_VARIANTS)}")
    return getattr(cv2, f"COLOR_Bayer{_OPENCV_BAYER_NAME[layout]}2RGB{_OPENCV_VARIANTS[method]}")


def demosaic_opencv(raw: np.ndarray, layout: str = SLIDE_BAYER_LAYOUT, method: str = "bilinear") -> np.ndarray:
    """Demosaic a uint8 raw mosaic with OpenCV; returns H x W x 3 RGB."""
    raw = np.ascontiguousarray(raw)
    if raw.dtype != np.uint8 or raw.ndim != 2:
        raise ValueError(f"expected an H x W uint8 mosaic, got {raw.dtype} {raw.shape}")
    return cv2.cvtColor(raw, opencv_bayer_code(layout, method))


def show_demosaic_crop(
    original: np.ndarray,
    results: Mapping[str, np.ndarray],
    top: int,
    left: int,
    size: int = 48,
    panel: float = 2.6,
) -> plt.Figure:
    """Zoomed crop of the original and of each demosaiced result, with the PSNR of each crop."""
    height, width = original.shape[:2]
    top = int(np.clip(top, 0, max(height - size, 0)))
    left = int(np.clip(left, 0, max(width - size, 0)))
    window = (slice(top, top + size), slice(left, left + size))
    panels = {f"original [{top}:{top + size}, {left}:{left + size}]": original[window]}
    for name, result in results.items():
        crop = result[window]
        panels[f"{name}: {psnr(crop, original[window]):.1f} dB"] = crop
    fig, axes = plt.subplots(1, len(panels), figsize=(panel * len(panels), panel), squeeze=False)
    for ax, (title, shown) in zip(axes.flat, panels.items(), strict=True):
        ax.imshow(shown, cmap="gray" if shown.ndim == 2 else None, interpolation="nearest")
        ax.set_title(title, fontsize=8)
        ax.axis("off")
    fig.tight_layout()
    return fig
