"""Helpers for homework 2 (provided by the course; do not change this file).

- ``check_array``, ``check_scalar`` and ``check_choice``: what the test cells use (from
  the course's ``checks.py``); a failing check says what was expected and what came back.
- ``toy_images``: a small, deterministic data set of 8 x 8 gray images in four classes.
- ``test_function``: the functions the tests differentiate numerically.
- ``show_images`` and ``plot_curve``: to look at the data and at training.
"""

from __future__ import annotations

import os

import numpy as np

try:  # a released assignment: checks.py is shipped beside this file
    from checks import check_array, check_choice, check_scalar
except ModuleNotFoundError:  # the instructor's source folder, inside the course
    from course_utils.grading.checks import check_array, check_choice, check_scalar

__all__ = ["TOY_CLASSES", "check_array", "check_choice", "check_scalar", "plot_curve", "show_images",
           "test_function", "toy_images"]

GRADING_ENV = "COURSE_GRADING"  # set while the homework is graded: figures are skipped
TOY_CLASSES = ("horizontal bar", "vertical bar", "diagonal", "square")


def test_function(name: str, W: np.ndarray, *data: np.ndarray) -> float:
    """One of the scalar functions the tests hand to ``numerical_gradient``.

    ``"cube_sum"``: sum(W**3); ``"cube_of_sum"``: (sum W)**3; ``"fourth_power_sum"``:
    sum(W**4); ``"sin_of_product"``: sum(sin(A @ W)) with ``data = (A,)``.
    """
    if name == "cube_sum":
        return float(np.sum(W**3))
    if name == "cube_of_sum":
        return float(np.sum(W) ** 3)
    if name == "fourth_power_sum":
        return float(np.sum(W**4))
    if name == "sin_of_product":
        (A,) = data
        return float(np.sum(np.sin(A @ W)))
    raise ValueError(f"unknown test function {name!r}")


def toy_images(n_per_class: int, noise: float = 0.3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A data set of 8 x 8 gray images: a bar, a bar, a diagonal or a square on noise.

    Returns ``X`` of shape ``(4 * n_per_class, 64)`` (one flattened image per row, float)
    and the labels ``y`` (integers 0..3, see ``TOY_CLASSES``), shuffled. Each pattern sits
    at a random position, so no single pixel gives the class away.
    """
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for label in range(4):
        for _ in range(n_per_class):
            image = np.zeros((8, 8))
            a, b = rng.integers(1, 7), rng.integers(0, 3)  # across, along the pattern
            if label == 0:  # a bar of 6 pixels
                image[a, b : b + 6] = 1.0
            elif label == 1:
                image[b : b + 6, a] = 1.0
            elif label == 2:  # 5 pixels down and to the right
                top, left = rng.integers(0, 4, size=2)
                image[top + np.arange(5), left + np.arange(5)] = 1.0
            else:  # the outline of a 3 x 3 square
                top, left = rng.integers(0, 6, size=2)
                image[top : top + 3, left : left + 3] = 1.0
                image[top + 1, left + 1] = 0.0
            images.append(image + noise * rng.normal(size=(8, 8)))
            labels.append(label)
    order = rng.permutation(len(labels))
    X = np.array(images).reshape(len(labels), 64)[order]
    return X, np.array(labels)[order]


def show_images(X: np.ndarray, y: np.ndarray, count: int = 8) -> None:
    """Show the first ``count`` rows of ``X`` as 8 x 8 images with their class names."""
    if os.environ.get(GRADING_ENV):
        return
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, count, figsize=(1.6 * count, 2.0))
    for ax, row, label in zip(axes, X[:count], y[:count], strict=False):
        ax.imshow(row.reshape(8, 8), cmap="gray")
        ax.set_title(TOY_CLASSES[int(label)], fontsize=8)
        ax.axis("off")
    fig.tight_layout()
    plt.show()


def plot_curve(values, title: str, ylabel: str) -> None:
    """Plot one training curve (skipped while grading)."""
    if os.environ.get(GRADING_ENV):
        return
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3))
    ax.plot(values)
    ax.set(title=title, xlabel="step", ylabel=ylabel)
    fig.tight_layout()
    plt.show()
