"""Helpers of the grading tests' own copy of homework 1 (see ``grading_fixtures``).

The grading tests grade this frozen copy of an earlier homework 1, so that the course's
homework can change without changing the attacks and scores they check.
"""

from __future__ import annotations

import numpy as np

try:  # a released assignment: checks.py is shipped beside this file
    from checks import check_array, check_raises
except ModuleNotFoundError:  # the source folder, inside the course
    from course_utils.grading.checks import check_array, check_raises

__all__ = ["check_array", "check_raises", "psnr", "sample_photo", "show_images"]


def psnr(reference: np.ndarray, estimate: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB for 8-bit images (it runs in the sandboxed kernel,
    which cannot import course_utils)."""
    error = np.mean((np.asarray(reference, float) - np.asarray(estimate, float)) ** 2)
    return float("inf") if error == 0 else float(10 * np.log10(255.0**2 / error))


def sample_photo() -> np.ndarray:
    """A 128 x 128 RGB crop of scikit-image's photograph of Chelsea the cat (uint8)."""
    from skimage.data import chelsea

    return np.ascontiguousarray(chelsea()[30:286:2, 100:356:2])


def show_images(images, titles=None, hist: bool = False) -> None:
    """Figures are not needed where this copy is graded."""
