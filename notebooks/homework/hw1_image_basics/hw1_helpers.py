"""Helpers for homework 1 (provided by the course; do not change this file).

- ``check_array`` and ``check_raises``: what the test cells use (from the course's
  ``checks.py``); a failing check says what was expected and what came back.
- ``sample_photo``: a small real photograph to try your functions on.
- ``psnr`` and ``show_images``: to compare and look at results.
"""

from __future__ import annotations

import os

import numpy as np

try:  # a released assignment: checks.py is shipped beside this file
    from checks import check_array, check_raises
except ModuleNotFoundError:  # the instructor's source folder, inside the course
    from course_utils.grading.checks import check_array, check_raises

__all__ = ["check_array", "check_raises", "psnr", "sample_photo", "show_images"]

GRADING_ENV = "COURSE_GRADING"  # set while the homework is graded: figures are skipped


def sample_photo() -> np.ndarray:
    """A 128 x 128 RGB crop of scikit-image's photograph of Chelsea the cat (uint8)."""
    from skimage import data

    return np.ascontiguousarray(data.chelsea()[30:286:2, 100:356:2])


def psnr(reference: np.ndarray, estimate: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB for 8-bit images (higher is closer)."""
    error = np.mean((np.asarray(reference, np.float64) - np.asarray(estimate, np.float64)) ** 2)
    return float("inf") if error == 0 else float(10 * np.log10(255.0**2 / error))


def show_images(images, titles=None, hist: bool = False) -> None:
    """Show images side by side (gray ones in gray), optionally with their histograms."""
    if os.environ.get(GRADING_ENV):
        return
    import matplotlib.pyplot as plt

    titles = list(titles) if titles is not None else [""] * len(images)
    rows = 2 if hist else 1
    fig, axes = plt.subplots(rows, len(images), figsize=(3.2 * len(images), 3.2 * rows), squeeze=False)
    for column, (image, title) in enumerate(zip(images, titles, strict=True)):
        image = np.asarray(image)
        gray = image.ndim == 2
        shown = image if image.dtype == np.uint8 or not gray else image.astype(np.float64)
        axes[0, column].imshow(shown, cmap="gray" if gray else None,
                               vmin=0 if gray and image.dtype == np.uint8 else None,
                               vmax=255 if gray and image.dtype == np.uint8 else None)  # fmt: skip
        axes[0, column].set_title(title)
        axes[0, column].axis("off")
        if hist:
            axes[1, column].hist(image.ravel(), bins=64, range=(0, 255), color="0.3")
            axes[1, column].set_yticks([])
    fig.tight_layout()
    plt.show()
