"""Two ways of looking at a linear classifier ``scores = W x + b``.

- Geometric: in a 2-D feature space each class score is zero on a line (a
  hyperplane in higher dimensions) and the classifier cuts the plane into convex
  regions where one score is the largest (``plot_decision_regions``).
- Matching: each row of ``W`` is an image-sized template that the input is
  compared with by a dot product (``class_templates``, ``show_templates``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.colors import ListedColormap

from ..core.plotting import show_images

PALETTE = ("#4c72b0", "#55a868", "#c44e52", "#8172b2", "#ccb974", "#64b5cd")


def _numpy(value: Any) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=np.float64)


def linear_scores(weight: Any, bias: Any, points: Any) -> np.ndarray:
    """Scores ``points @ W.T + b`` of N points (N x D) for K classes (W is K x D)."""
    return _numpy(points) @ _numpy(weight).T + _numpy(bias)


def class_templates(weight: Any, image_shape: Sequence[int] = (3, 32, 32)) -> np.ndarray:
    """The rows of ``W`` as images (K x H x W x C), each stretched to [0, 1] for display."""
    w = _numpy(weight).reshape(-1, *image_shape)
    low = w.reshape(len(w), -1).min(axis=1).reshape(-1, 1, 1, 1)
    high = w.reshape(len(w), -1).max(axis=1).reshape(-1, 1, 1, 1)
    scaled = (w - low) / np.maximum(high - low, 1e-12)
    return np.transpose(scaled, (0, 2, 3, 1))


def show_templates(
    weight: Any,
    classes: Sequence[str],
    image_shape: Sequence[int] = (3, 32, 32),
    title: str | None = None,
    size: float = 1.3,
) -> plt.Figure:
    """Draw every class's row of ``W`` as an image, titled with the class name."""
    return show_images(
        list(class_templates(weight, image_shape)), titles=list(classes), ncols=len(classes),
        size=size, suptitle=title,
    )  # fmt: skip


def rotate_class(
    weight: Any, bias: Any, cls: int, angle_degrees: float, bias_shift: float
) -> tuple[np.ndarray, np.ndarray]:
    """Copies of a 2-D classifier's ``W`` and ``b`` with class ``cls`` turned and shifted."""
    w, b = _numpy(weight).copy(), _numpy(bias).copy()
    if w.shape[1] != 2:
        raise ValueError("rotate_class works on classifiers of two features")
    theta = np.deg2rad(angle_degrees)
    rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    w[cls] = rotation @ w[cls]
    b[cls] = b[cls] + bias_shift
    return w, b


def plot_decision_regions(
    weight: Any,
    bias: Any,
    points: Any,
    labels: Any,
    class_names: Sequence[str],
    feature_names: Sequence[str] = ("feature 1", "feature 2"),
    ax: plt.Axes | None = None,
    title: str | None = None,
    resolution: int = 300,
    max_points: int = 600,
) -> float:
    """Regions where each class scores highest, with each class's zero-score line.

    The dashed line of class k is where ``w_k . x + b_k = 0``; its arrow points
    along ``w_k``, the direction in which that class's score grows. Returns the
    accuracy of the classifier on all ``points``.
    """
    w, b = _numpy(weight), _numpy(bias)
    x, y = _numpy(points), np.asarray(labels)
    if w.shape[1] != 2 or x.shape[1] != 2:
        raise ValueError("plot_decision_regions draws classifiers of exactly two features")
    ax = ax or plt.subplots(figsize=(6, 5))[1]
    colors = PALETTE[: len(w)]
    # the view spans the middle 99 % of the points, so a few outliers do not shrink it
    low, high = np.percentile(x, 0.5, axis=0), np.percentile(x, 99.5, axis=0)
    pad = 0.08 * (high - low)
    (x0, y0), (x1, y1) = low - pad, high + pad
    gx, gy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    region = linear_scores(w, b, grid).argmax(axis=1).reshape(gx.shape)
    ax.contourf(gx, gy, region, levels=np.arange(len(w) + 1) - 0.5, cmap=ListedColormap(colors), alpha=0.25)
    shown = np.random.default_rng(0).permutation(len(x))[:max_points]
    for k, name in enumerate(class_names):
        mine = shown[y[shown] == k]
        ax.scatter(x[mine, 0], x[mine, 1], s=9, color=colors[k], label=name, edgecolor="none")
    center = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
    span = max(x1 - x0, y1 - y0)
    for k in range(len(w)):
        norm = np.linalg.norm(w[k])
        if norm == 0:
            continue
        unit = w[k] / norm
        # the point of the line w.x + b = 0 closest to the centre of the plot
        foot = center - (w[k] @ center + b[k]) / norm * unit
        along = np.array([-unit[1], unit[0]])
        ends = np.stack([foot - 2 * span * along, foot + 2 * span * along])
        ax.plot(ends[:, 0], ends[:, 1], "--", color=colors[k], linewidth=1.5)
        ax.annotate(
            "", xy=foot + 0.12 * span * unit, xytext=foot,
            arrowprops={"arrowstyle": "->", "color": colors[k], "linewidth": 2},
        )  # fmt: skip
    ax.set(xlim=(x0, x1), ylim=(y0, y1), xlabel=feature_names[0], ylabel=feature_names[1])
    accuracy = float((linear_scores(w, b, x).argmax(axis=1) == y).mean())
    ax.set_title((title + "\n" if title else "") + f"accuracy {accuracy:.3f}")
    ax.legend(loc="upper right", fontsize=8, markerscale=2)
    return accuracy


# Takes plot_decision_regions's arguments after the slider values (cls, angle, shift), so
# that ipywidgets.interact can fix the data and move only the sliders; the shared
# signature is deliberate.
def explore_decision_regions(
    cls: int,
    angle_degrees: float,
    bias_shift: float,
    weight: Any,
    bias: Any,
    points: Any,
    labels: Any,
    class_names: Sequence[str],
    feature_names: Sequence[str] = ("feature 1", "feature 2"),
) -> float:
    """Turn and shift one class's line of a trained 2-D classifier and redraw the regions.

    The function behind lesson 05's sliders; returns the accuracy after the change.
    """
    w, b = rotate_class(weight, bias, cls, angle_degrees, bias_shift)
    fig, ax = plt.subplots(figsize=(6, 5))
    accuracy = plot_decision_regions(
        w, b, points, labels, class_names, feature_names, ax=ax,
        title=f"{class_names[cls]}: turned {angle_degrees:+.0f} deg, bias {bias_shift:+.2f}",
    )  # fmt: skip
    fig.tight_layout()
    return accuracy
