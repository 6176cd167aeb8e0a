"""Sampling and quantization: how a scene becomes a grid of discrete numbers.

Sampling digitizes the coordinates (which positions are measured), quantization
digitizes the amplitudes (which values a measurement may take). The functions
here work on NumPy arrays of shape H x W (grayscale) or H x W x C (color) and sit
behind the sliders of the digital-images lesson.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np


def _check_positive(name: str, value: int) -> None:
    if int(value) != value or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def sample(image: np.ndarray, step: int) -> np.ndarray:
    """Keep every ``step``-th pixel in both directions (point sampling, no pre-filter)."""
    _check_positive("step", step)
    return image[::step, ::step]


def integrate_cells(image: np.ndarray, cell: int) -> np.ndarray:
    """Average over non-overlapping ``cell`` x ``cell`` blocks, as a sensor array does.

    Each sensor's output is proportional to the light integrated over its area.
    Rows and columns that do not fill a whole cell are dropped. Returns float64.
    """
    _check_positive("cell", cell)
    rows, cols = image.shape[0] // cell, image.shape[1] // cell
    if rows == 0 or cols == 0:
        raise ValueError(f"a {cell} x {cell} cell does not fit into an image of shape {image.shape}")
    cropped = np.asarray(image, dtype=np.float64)[: rows * cell, : cols * cell]
    blocks = cropped.reshape(rows, cell, cols, cell, *image.shape[2:])
    return blocks.mean(axis=(1, 3))


def enlarge(image: np.ndarray, factor: int, shape: tuple[int, int] | None = None) -> np.ndarray:
    """Repeat each pixel ``factor`` times in both directions (nearest neighbour).

    ``shape`` crops the result to that height and width, so a sampled image can be
    shown at the size of the original.
    """
    _check_positive("factor", factor)
    big = np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)
    if shape is not None:
        big = big[: shape[0], : shape[1]]
    return big


def quantize(image: np.ndarray, bits: int) -> np.ndarray:
    """Re-quantize a uint8 image to ``2 ** bits`` gray levels spread over 0..255.

    The level of a value ``v`` is ``v >> (8 - bits)`` (its ``bits`` most significant
    bits); level ``k`` is shown as ``round(k * 255 / (2 ** bits - 1))``, so 0 stays
    black and the top level is white. ``bits=8`` returns the image unchanged.
    """
    if image.dtype != np.uint8:
        raise TypeError(f"quantize expects a uint8 image, got {image.dtype}")
    if bits not in range(1, 9):
        raise ValueError(f"bits must be 1..8, got {bits!r}")
    levels = image >> (8 - bits)
    return quantization_levels(bits)[levels]


def quantization_levels(bits: int) -> np.ndarray:
    """The ``2 ** bits`` uint8 values that :func:`quantize` can output, in increasing order."""
    if bits not in range(1, 9):
        raise ValueError(f"bits must be 1..8, got {bits!r}")
    count = 2**bits
    return np.round(np.arange(count) * 255 / (count - 1)).astype(np.uint8)


def digitize(image: np.ndarray, step: int, bits: int) -> np.ndarray:
    """Sample with ``step``, quantize to ``bits``, and enlarge back to the original size."""
    coarse = quantize(sample(image, step), bits)
    return enlarge(coarse, step, image.shape[:2])


def storage_bytes(height: int, width: int, channels: int = 1, bits_per_value: int = 8) -> int:
    """Bytes needed to store an uncompressed image (whole bytes, rounded up)."""
    for name, value in (("height", height), ("width", width), ("channels", channels),
                        ("bits_per_value", bits_per_value)):
        _check_positive(name, value)
    return math.ceil(height * width * channels * bits_per_value / 8)


def zone_plate(size: int, max_frequency: float = 0.5) -> np.ndarray:
    """A radial chirp in [0, 1]: its local frequency grows linearly with the radius.

    At the middle of each edge (radius ``size / 2``) the local frequency is
    ``max_frequency`` cycles per pixel; 0.5 is the highest a pixel grid can carry.
    """
    _check_positive("size", size)
    coords = np.arange(size) - (size - 1) / 2
    radius2 = coords[:, None] ** 2 + coords[None, :] ** 2
    r_max = size / 2
    return 0.5 + 0.5 * np.cos(2 * np.pi * max_frequency * radius2 / (2 * r_max))


def alias_frequency(frequency: float, step: int) -> float:
    """Frequency (cycles per sample) at which a sinusoid appears after sampling every ``step`` pixels.

    A sinusoid of ``frequency`` cycles per pixel has ``frequency * step`` cycles per
    sample; only frequencies up to 0.5 cycles per sample (the Nyquist limit) survive
    unchanged, higher ones fold back to ``|f * step - round(f * step)|``.
    """
    _check_positive("step", step)
    per_sample = abs(frequency) * step
    return abs(per_sample - round(per_sample))


def expose_sensor_array(
    irradiance: np.ndarray,
    cell: int,
    photons_at_white: float,
    rng: np.random.Generator | int | None = 0,
) -> np.ndarray:
    """Simulate one exposure of a sensor array and return its normalized readout.

    ``irradiance`` in [0, 1] is the light falling on the focal plane, sampled finely.
    Each sensor covers ``cell`` x ``cell`` of those positions and counts the photons
    that hit it: a Poisson number whose mean is ``photons_at_white`` per position
    times the light integrated over the cell. The counts are divided by the count
    expected for white, so the result is near ``integrate_cells(irradiance, cell)``
    plus photon (shot) noise.
    """
    if photons_at_white <= 0:
        raise ValueError(f"photons_at_white must be positive, got {photons_at_white!r}")
    irradiance = np.asarray(irradiance, dtype=np.float64)
    if irradiance.min() < 0:
        raise ValueError("irradiance cannot be negative")
    generator = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    white_count = photons_at_white * cell * cell
    expected = white_count * integrate_cells(irradiance, cell)
    return generator.poisson(expected) / white_count


def show_digitized(image: np.ndarray, step: int = 1, bits: int = 8, size: float = 3.0) -> plt.Figure:
    """Original, sampled only, quantized only, and both, side by side (the lesson's sliders)."""
    height, width = image.shape[:2]
    sampled = enlarge(sample(image, step), step, (height, width))
    rows, cols = sample(image, step).shape[:2]
    panels = {
        f"original {height} x {width}, 8 bits": image,
        f"sampled: step {step} -> {rows} x {cols}": sampled,
        f"quantized: {bits} bits = {2**bits} levels": quantize(image, bits),
        "both": digitize(image, step, bits),
    }
    fig, axes = plt.subplots(1, len(panels), figsize=(size * len(panels), size))
    for ax, (title, shown) in zip(axes, panels.items(), strict=True):
        # smooth when the screen has fewer pixels than the image, or the display itself aliases
        ax.imshow(shown, cmap="gray", vmin=0, vmax=255, interpolation="antialiased")
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    fig.tight_layout()
    return fig


def show_exposure(
    irradiance: np.ndarray, cell: int = 4, photons_at_white: float = 100.0, seed: int = 0,
    size: float = 3.5,
) -> plt.Figure:
    """A sensor array's noise-free integral next to one noisy exposure (the lesson's sliders)."""
    clean = integrate_cells(irradiance, cell)
    noisy = expose_sensor_array(irradiance, cell, photons_at_white, seed)
    white = photons_at_white * cell * cell
    fig, axes = plt.subplots(1, 2, figsize=(2 * size, size))
    titles = (
        f"integrated light, {clean.shape[0]} x {clean.shape[1]} sensors",
        f"one exposure: {white:g} photons per white cell (SNR {math.sqrt(white):.1f})",
    )
    for ax, shown, title in zip(axes, (clean, noisy), titles, strict=True):
        ax.imshow(np.clip(shown, 0, 1), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    fig.tight_layout()
    return fig
