"""Helpers for homework 1 (provided by the course; do not change this file).

- ``check_array`` and ``check_raises``: what the test cells use; a failing check says
  what was expected and what came back.
- ``sample_photo``: a small real photograph to try your functions on.
- ``psnr`` and ``show_images``: to compare and look at results.
"""

from __future__ import annotations

import os

import numpy as np

GRADING_ENV = "COURSE_GRADING"  # set while the homework is graded: figures are skipped


def _describe(value: object) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"{type(value).__name__} {value!r}"[:200]


def check_array(name: str, got: object, expected: object, atol: float = 0.0) -> None:
    """Raise AssertionError, saying what differs, unless ``got`` matches ``expected``.

    Shapes must be equal; a uint8 ``expected`` needs a uint8 result; a float one needs
    a float (or integer) result; values may differ by at most ``atol``.
    """
    expected = np.asarray(expected)
    if not isinstance(got, np.ndarray):
        raise AssertionError(f"{name}: expected a numpy array, got {_describe(got)}")
    if got.shape != expected.shape:
        raise AssertionError(f"{name}: expected shape {expected.shape}, got {got.shape}")
    if expected.dtype == np.uint8 and got.dtype != np.uint8:
        raise AssertionError(
            f"{name}: expected dtype uint8, got {got.dtype} "
            "(round first, then convert with .astype(np.uint8))"
        )
    if got.dtype.kind not in "biuf":
        raise AssertionError(f"{name}: expected numbers, got dtype {got.dtype}")
    diff = np.abs(got.astype(np.float64) - expected.astype(np.float64))
    wrong = ~(diff <= atol)  # NaN counts as wrong
    if wrong.any():
        where = tuple(int(i) for i in np.argwhere(wrong)[0])
        message = (
            f"{name}: {int(wrong.sum())} of {wrong.size} values are wrong"
            + (f" (allowed difference {atol:g})" if atol else "")
            + f"; first at index {list(where)}: expected {expected[where]!r}, got {got[where]!r}"
        )
        if expected.size <= 48:
            message += f"\nexpected:\n{expected}\ngot:\n{got}"
        raise AssertionError(message)


def check_raises(error: type[BaseException], function, *args) -> None:
    """Raise AssertionError unless ``function(*args)`` raises ``error``."""
    shown = ", ".join(_describe(a) if isinstance(a, np.ndarray) else repr(a) for a in args)
    call = f"{getattr(function, '__name__', 'function')}({shown})"
    try:
        function(*args)
    except error:
        return
    except Exception as other:
        raise AssertionError(
            f"{call}: expected {error.__name__}, got {type(other).__name__}: {other}"
        ) from other
    raise AssertionError(f"{call}: expected {error.__name__}, but it returned normally")


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
