"""Image distances and k-nearest-neighbour classification, vectorized.

Images are compared as rows of pixel values: an N x C x H x W stack becomes an
N x (C*H*W) matrix. ``l1_distances`` and ``l2_distances`` return the whole
query-by-training distance matrix without a Python loop over pairs;
``nearest_neighbours`` finds only the k closest training images, in chunks, so it
also works for 10,000 queries against 50,000 training images without holding a
2 GB matrix. ``knn_vote`` turns neighbour labels into predictions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import cv2
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.patches import Rectangle
from tqdm.auto import tqdm

from ..core.plotting import to_display

METRICS = ("l1", "l2")
SAME_COLOR = "#1a9641"
OTHER_COLOR = "#d7191c"


def as_rows(images: Any) -> np.ndarray:
    """Flatten a stack of images (tensor or array, N x ...) to an N x D NumPy array."""
    if isinstance(images, torch.Tensor):
        images = images.detach().cpu().numpy()
    array = np.asarray(images)
    return array.reshape(len(array), -1)


def _check_metric(metric: str) -> str:
    key = metric.lower()
    if key not in METRICS:
        raise ValueError(f"Unknown distance {metric!r}; choose one of {METRICS}.")
    return key


def l2_distances(queries: Any, train: Any) -> np.ndarray:
    """Euclidean distances, queries x train, from one matrix product.

    Uses ``|q - t|^2 = |q|^2 + |t|^2 - 2 q.t`` after moving both sets by the
    training mean. Floating-point inputs are computed in their own precision
    (float32 is several times faster than float64 and accurate to about five
    digits, less for nearly identical images, where the subtraction cancels);
    integer inputs in float64.
    """
    q, t = as_rows(queries), as_rows(train)
    dtype = np.result_type(q.dtype, t.dtype)
    dtype = dtype if np.issubdtype(dtype, np.floating) else np.dtype(np.float64)
    # distances do not change when both sets move by the same vector; centring on
    # the training mean keeps the three terms small, so less precision cancels
    centre = t.mean(axis=0, dtype=np.float64).astype(dtype)
    q, t = q.astype(dtype) - centre, t.astype(dtype) - centre
    squared = np.einsum("ij,ij->i", q, q)[:, None] + np.einsum("ij,ij->i", t, t)[None, :]
    squared -= 2 * (q @ t.T)
    np.maximum(squared, 0, out=squared)
    return np.sqrt(squared, out=squared)


def l1_distances(queries: Any, train: Any, max_elements: int = 2**25) -> np.ndarray:
    """Manhattan (L1) distances, queries x train, by broadcasting.

    There is no matrix-product shortcut for L1, so the difference of every pair
    is formed explicitly. To bound memory, the queries are taken in blocks whose
    temporary array has at most ``max_elements`` entries.
    """
    q = as_rows(queries).astype(np.int32)
    t = as_rows(train).astype(np.int32)
    out = np.empty((len(q), len(t)), dtype=np.float64)
    block = max(1, max_elements // max(1, t.size))
    for start in range(0, len(q), block):
        diff = q[start : start + block, None, :] - t[None, :, :]
        np.abs(diff, out=diff)
        out[start : start + block] = diff.sum(axis=2)
    return out


def pairwise_distances(queries: Any, train: Any, metric: str = "l2") -> np.ndarray:
    """The queries x train distance matrix for ``metric`` ("l1" or "l2")."""
    metric = _check_metric(metric)
    return l1_distances(queries, train) if metric == "l1" else l2_distances(queries, train)


def nearest_neighbours(
    queries: Any,
    train: Any,
    k: int,
    metric: str = "l2",
    batch_size: int = 500,
    progress: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Distances and indices of the ``k`` nearest training rows of every query, nearest first.

    Works on 8-bit images with OpenCV's ``batchDistance`` (integer arithmetic,
    so distances are exact), a batch of queries at a time, keeping only the
    ``k`` best per query. Equal distances are ordered by training index.
    """
    metric = _check_metric(metric)
    q = np.ascontiguousarray(as_rows(queries))
    t = np.ascontiguousarray(as_rows(train))
    if q.dtype != np.uint8 or t.dtype != np.uint8:
        raise TypeError("nearest_neighbours expects uint8 images (pixel values 0-255)")
    if q.shape[1] != t.shape[1]:
        raise ValueError(f"queries have {q.shape[1]} values per image, training images {t.shape[1]}")
    if not 1 <= k <= len(t):
        raise ValueError(f"k must be between 1 and the {len(t)} training images, got {k}")
    norm = cv2.NORM_L1 if metric == "l1" else cv2.NORM_L2SQR
    distances = np.empty((len(q), k), dtype=np.float64)
    indices = np.empty((len(q), k), dtype=np.int64)
    starts = range(0, len(q), batch_size)
    for start in tqdm(starts, desc=f"{metric} neighbours", disable=not progress, leave=False):
        dist, idx = cv2.batchDistance(q[start : start + batch_size], t, cv2.CV_32S, normType=norm, K=k)
        order = np.lexsort((idx, dist), axis=1)  # by distance, then by index
        distances[start : start + batch_size] = np.take_along_axis(dist, order, axis=1)
        indices[start : start + batch_size] = np.take_along_axis(idx, order, axis=1)
    if metric == "l2":
        distances = np.sqrt(distances)
    return distances, indices


def knn_vote(neighbour_labels: Any, k: int, num_classes: int) -> np.ndarray:
    """Majority vote of the first ``k`` neighbour labels; a tie goes to the smaller label."""
    labels = np.asarray(neighbour_labels)[:, :k]
    counts = np.zeros((len(labels), num_classes), dtype=np.int64)
    np.add.at(counts, (np.arange(len(labels))[:, None], labels), 1)
    return counts.argmax(axis=1)


def knn_predict(
    queries: Any,
    train: Any,
    train_labels: Any,
    k: int,
    metric: str = "l2",
    num_classes: int | None = None,
) -> np.ndarray:
    """Predicted labels of the queries by a k-nearest-neighbour vote."""
    labels = np.asarray(train_labels)
    num_classes = num_classes or int(labels.max()) + 1
    _, idx = nearest_neighbours(queries, train, k, metric)
    return knn_vote(labels[idx], k, num_classes)


def _framed(ax: plt.Axes, image: Any, color: str | None, width: float = 3.0) -> None:
    shown = to_display(image)
    ax.imshow(shown, cmap="gray" if shown.ndim == 2 else None)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    if color is not None:
        h, w = shown.shape[:2]
        ax.add_patch(
            Rectangle((-0.5, -0.5), w, h, fill=False, edgecolor=color, linewidth=width, clip_on=False)
        )


def plot_neighbour_grid(
    query_images: Any,
    query_labels: Sequence[int],
    neighbour_images: Any,
    neighbour_labels: Any,
    classes: Sequence[str],
    size: float = 0.9,
    title: str | None = None,
) -> plt.Figure:
    """One row per query: the query, then its neighbours framed green (same class) or red."""
    neighbour_labels = np.asarray(neighbour_labels)
    rows, k = neighbour_labels.shape
    fig, axes = plt.subplots(rows, k + 1, figsize=(size * (k + 1.3), size * rows + 0.4), squeeze=False)
    for r in range(rows):
        _framed(axes[r, 0], query_images[r], None)
        axes[r, 0].set_ylabel(classes[int(query_labels[r])], rotation=0, ha="right", va="center")
        for c in range(k):
            same = int(neighbour_labels[r, c]) == int(query_labels[r])
            _framed(axes[r, c + 1], neighbour_images[r][c], SAME_COLOR if same else OTHER_COLOR)
    axes[0, 0].set_title("test image", fontsize=8)
    for c in range(k):
        axes[0, c + 1].set_title(f"#{c + 1}", fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout(w_pad=0.2, h_pad=0.2)
    return fig


def show_knn_query(
    index: int,
    k: int,
    metric: str,
    test_images: Any,
    test_labels: Any,
    train_images: Any,
    train_labels: Any,
    classes: Sequence[str],
) -> int:
    """Classify test image ``index`` by kNN and draw it, its k neighbours and the vote.

    Returns the predicted label. This is the function behind lesson 06's controls.
    """
    train_labels = np.asarray(train_labels)
    true = int(np.asarray(test_labels)[index])
    dist, idx = nearest_neighbours(test_images[index : index + 1], train_images, k, metric)
    labels = train_labels[idx[0]]
    votes = np.bincount(labels, minlength=len(classes))
    predicted = int(votes.argmax())
    shown = min(k, 10)
    fig = plt.figure(figsize=(11, 2.9))
    grid = fig.add_gridspec(2, shown + 1, height_ratios=[1, 1.1])
    _framed(fig.add_subplot(grid[0, 0]), test_images[index], None)
    fig.axes[0].set_title(f"test: {classes[true]}", fontsize=9)
    for c in range(shown):
        ax = fig.add_subplot(grid[0, c + 1])
        color = SAME_COLOR if labels[c] == true else OTHER_COLOR
        _framed(ax, train_images[idx[0, c]], color)
        ax.set_title(f"{dist[0, c]:.0f}", fontsize=7)
    ax = fig.add_subplot(grid[1, :])
    bars = ax.bar(range(len(classes)), votes, color="#999999")
    bars[predicted].set_color(SAME_COLOR if predicted == true else OTHER_COLOR)
    ax.set_xticks(range(len(classes)), classes, fontsize=8)
    ax.set_ylabel("votes")
    ax.set_title(
        f"{metric.upper()}, k = {k}: predicted {classes[predicted]}"
        + ("" if k <= 10 else f" (first 10 of {k} neighbours shown; numbers are distances)"),
        fontsize=9,
    )
    fig.tight_layout()
    return predicted
