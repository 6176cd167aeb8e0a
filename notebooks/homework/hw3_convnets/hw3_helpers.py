"""Helpers for homework 3 (provided by the course; do not change this file).

- ``check_array``, ``check_number`` and ``check_raises``: what the test cells use; a
  failing check says what was expected and what came back.
- ``make_digits``: a small synthetic data set of handwritten-looking digits (20 x 20
  gray images, 10 classes), the same every time for the same seed.
- ``count_parameters``: the size of a PyTorch model.
- ``show_images``: to look at images.
"""

from __future__ import annotations

import functools
import os

import numpy as np

GRADING_ENV = "COURSE_GRADING"  # set while the homework is graded: figures are skipped
IMAGE_SIZE = 20
TIME_BUDGET_SECONDS = 30.0  # training must finish within this time (one CPU thread)
REQUIRED_ACCURACY = 0.90  # test accuracy the trained CNN must reach
MAX_PARAMETERS = 50_000  # "small": at most this many parameters


def _describe(value: object) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"{type(value).__name__} {value!r}"[:200]


def check_array(name: str, got: object, expected: object, atol: float = 0.0, rtol: float = 0.0) -> None:
    """Raise AssertionError, saying what differs, unless ``got`` matches ``expected``.

    Shapes must be equal; values may differ by at most ``atol + rtol * |expected|``.
    """
    expected = np.asarray(expected)
    if not isinstance(got, np.ndarray):
        raise AssertionError(f"{name}: expected a numpy array, got {_describe(got)}")
    if got.shape != expected.shape:
        raise AssertionError(f"{name}: expected shape {expected.shape}, got {got.shape}")
    if got.dtype.kind not in "biuf":
        raise AssertionError(f"{name}: expected numbers, got dtype {got.dtype}")
    e, g = expected.astype(np.float64), got.astype(np.float64)
    wrong = ~(np.abs(g - e) <= atol + rtol * np.abs(e))  # NaN counts as wrong
    if wrong.any():
        where = tuple(int(i) for i in np.argwhere(wrong)[0])
        allowed = f"{atol:g}" + (f" + {rtol:g} * |expected|" if rtol else "")
        message = (
            f"{name}: {int(wrong.sum())} of {wrong.size} values are wrong"
            + (f" (allowed difference {allowed})" if atol or rtol else "")
            + f"; first at index {list(where)}: expected {expected[where]!r}, got {got[where]!r}"
        )
        if expected.size <= 48:
            message += f"\nexpected:\n{expected}\ngot:\n{got}"
        raise AssertionError(message)


def check_number(name: str, got: object, expected: float, atol: float = 1e-9) -> None:
    """Raise AssertionError unless ``got`` is a real number within ``atol`` of ``expected``."""
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, float, np.integer, np.floating)):
        raise AssertionError(f"{name}: expected a number, got {_describe(got)}")
    if not abs(float(got) - expected) <= atol:
        raise AssertionError(f"{name}: expected {expected!r}, got {float(got)!r}")


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


# Digits as strokes between the points of a 2 x 3 grid (x, y), like a seven-segment
# display with a few diagonals: (0, 0) top left, (1, 0) top right, ..., (1, 2) bottom right.
_STROKES = {
    0: [((0, 0), (1, 0)), ((1, 0), (1, 2)), ((1, 2), (0, 2)), ((0, 2), (0, 0))],
    1: [((0.3, 0.4), (0.7, 0)), ((0.7, 0), (0.7, 2))],
    2: [((0, 0), (1, 0)), ((1, 0), (1, 1)), ((1, 1), (0, 2)), ((0, 2), (1, 2))],
    3: [((0, 0), (1, 0)), ((1, 0), (1, 2)), ((0.2, 1), (1, 1)), ((0, 2), (1, 2))],
    4: [((0, 0), (0, 1)), ((0, 1), (1, 1)), ((1, 0), (1, 2))],
    5: [((1, 0), (0, 0)), ((0, 0), (0, 1)), ((0, 1), (1, 1)), ((1, 1), (1, 2)), ((1, 2), (0, 2))],
    6: [((1, 0), (0, 0)), ((0, 0), (0, 2)), ((0, 2), (1, 2)), ((1, 2), (1, 1)), ((1, 1), (0, 1))],
    7: [((0, 0), (1, 0)), ((1, 0), (0.3, 2))],
    8: [((0, 0), (1, 0)), ((1, 0), (1, 2)), ((1, 2), (0, 2)), ((0, 2), (0, 0)), ((0, 1), (1, 1))],
    9: [((1, 1), (0, 1)), ((0, 1), (0, 0)), ((0, 0), (1, 0)), ((1, 0), (1, 2)), ((1, 2), (0, 2))],
}


@functools.lru_cache(maxsize=4)
def _pixel_centres(size: int) -> np.ndarray:
    yy, xx = np.mgrid[:size, :size]
    return np.stack([xx.ravel() + 0.5, yy.ravel() + 0.5], 1)[None]


def _render(strokes, rng: np.random.Generator, size: int) -> np.ndarray:
    """Draw one digit with a random slant, size, position, wobble and stroke width."""
    points = np.array([p for stroke in strokes for p in stroke], dtype=np.float64)
    points += rng.normal(0, 0.08, points.shape)  # handwriting wobble
    height = rng.uniform(0.55, 0.75) * size
    width = height * rng.uniform(0.4, 0.6)
    slant = rng.uniform(-0.35, 0.25)
    xy = np.stack([points[:, 0] * width - slant * (points[:, 1] - 1) * height / 2, points[:, 1] * height / 2], 1)
    angle = rng.uniform(-0.2, 0.2)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    xy = (xy - xy.mean(0)) @ rotation.T + size / 2 + rng.uniform(-2.5, 2.5, 2)
    a, b = xy[0::2][:, None, :], xy[1::2][:, None, :]  # segment ends, (S, 1, 2)
    pixels = _pixel_centres(size)  # (1, P, 2)
    ab = b - a
    t = np.clip(((pixels - a) * ab).sum(-1) / np.maximum((ab**2).sum(-1), 1e-9), 0, 1)
    distance = np.linalg.norm(pixels - (a + t[..., None] * ab), axis=-1).min(0)
    thickness = rng.uniform(0.7, 1.5)
    image = np.clip(thickness + 0.5 - distance, 0, 1).reshape(size, size)
    return image * rng.uniform(0.7, 1.0)


def make_digits(n: int, seed: int, noise: float = 0.15) -> tuple[np.ndarray, np.ndarray]:
    """``n`` synthetic digit images and their labels, deterministic for a given seed.

    Returns ``images``, float32 of shape (n, 1, 20, 20) with values in [0, 1], and
    ``labels``, int64 of shape (n,), balanced over the 10 classes.
    """
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % 10).astype(np.int64)
    images = np.empty((n, 1, IMAGE_SIZE, IMAGE_SIZE), dtype=np.float32)
    for k, label in enumerate(labels):
        image = _render(_STROKES[int(label)], rng, IMAGE_SIZE)
        image += rng.normal(0, noise, image.shape)
        images[k, 0] = np.clip(image, 0, 1)
    return images, labels


def count_parameters(model) -> int:  # noqa: ANN001 - a torch.nn.Module
    """Number of trainable parameters of a PyTorch model."""
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad))


def show_images(images, titles=None, columns: int = 10) -> None:
    """Show gray images in a grid (an (n, 1, H, W) or (n, H, W) array or a list)."""
    if os.environ.get(GRADING_ENV):
        return
    import matplotlib.pyplot as plt

    images = [np.asarray(image).squeeze() for image in images]
    titles = list(titles) if titles is not None else [""] * len(images)
    rows = (len(images) + columns - 1) // columns
    fig, axes = plt.subplots(rows, columns, figsize=(1.3 * columns, 1.45 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, image, title in zip(axes.ravel(), images, titles, strict=False):
        ax.imshow(image, cmap="gray", vmin=0, vmax=1)
        ax.set_title(str(title), fontsize=9)
    fig.tight_layout()
    plt.show()
