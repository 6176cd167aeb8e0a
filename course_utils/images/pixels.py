"""Pixel values and image fidelity: float <-> uint8, mean squared error and PSNR.

Two float conventions meet in the course, so each conversion says which it takes:
:func:`unit_to_uint8` maps [0, 1] floats (color models, lesson 02) to 0..255, and
:func:`round_to_uint8` rounds floats already on the 0..255 scale (filters, lesson 03).
"""

from __future__ import annotations

import numpy as np


def unit_to_uint8(image: np.ndarray) -> np.ndarray:
    """Floats in [0, 1] -> uint8 0..255, scaled, rounded (half to even) and clipped."""
    return np.round(np.clip(np.asarray(image, dtype=np.float64), 0.0, 1.0) * 255).astype(np.uint8)


def round_to_uint8(image: np.ndarray) -> np.ndarray:
    """Floats on the 0..255 scale -> uint8, rounded (half to even) and clipped."""
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def mse(image: np.ndarray, reference: np.ndarray) -> float:
    """Mean squared error over all pixels and channels."""
    image, reference = np.asarray(image), np.asarray(reference)
    if image.shape != reference.shape:
        raise ValueError(f"shapes differ: {image.shape} vs {reference.shape}")
    return float(np.mean((image.astype(np.float64) - reference.astype(np.float64)) ** 2))


def psnr(image: np.ndarray, reference: np.ndarray, data_range: float = 255.0) -> float:
    """Peak signal-to-noise ratio in dB: 10 log10(data_range^2 / MSE); inf for identical images.

    ``data_range`` is the largest possible value: 255 for 8-bit images, 1 for [0, 1] floats.
    """
    error = mse(image, reference)
    if error == 0:
        return float("inf")
    return float(10.0 * np.log10(data_range**2 / error))
