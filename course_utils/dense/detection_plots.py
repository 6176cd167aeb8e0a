"""Figures of boxes and detections, behind the lessons' interactive controls.

:func:`draw_boxes`, :func:`instance_caption`, :func:`plot_iou`, :func:`plot_nms`,
:func:`plot_precision_recall`.

Boxes are in pixels, ``xyxy`` unless a function says otherwise; ``x1, y1`` is the top-left
corner and ``x2, y2`` the bottom-right one, so a box's width is ``x2 - x1``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.patches import Rectangle

from .boxes import ArrayLike, BoxFormat, batched_nms, box_iou, convert_boxes, nms
from .detection_metrics import average_precision, precision_recall


# -- figures ----------------------------------------------------------------------------
def instance_caption(
    k: int, labels: np.ndarray | None, scores: np.ndarray | None, names: Sequence[str] | None
) -> str:
    """The caption of the ``k``-th box or mask: its category (``names[label - 1]`` or the id)
    and its score, whichever are given; ``""`` when neither is."""
    caption = []
    if labels is not None:
        label = int(labels[k])
        caption.append(names[label - 1] if names is not None else str(label))
    if scores is not None:
        caption.append(f"{scores[k]:.2f}")
    return " ".join(caption)


def draw_boxes(
    ax: plt.Axes,
    boxes: ArrayLike,
    labels: ArrayLike | None = None,
    scores: ArrayLike | None = None,
    names: Sequence[str] | None = None,
    color: str | Sequence[Any] | None = None,
    fmt: BoxFormat = "xyxy",
    linewidth: float = 1.5,
    fontsize: float = 7,
) -> None:
    """Draw boxes on ``ax`` (pixel coordinates, edges at pixel borders), with optional captions.

    ``labels`` are category ids; with ``names`` the caption shows ``names[label - 1]``.
    Without ``color`` each label gets its own colour.
    """
    xyxy = np.asarray(convert_boxes(np.asarray(boxes, dtype=np.float64).reshape(-1, 4), fmt, "xyxy"))
    labels_np = None if labels is None else np.asarray(torch.as_tensor(labels).cpu()).reshape(-1)
    scores_np = None if scores is None else np.asarray(torch.as_tensor(scores).cpu()).reshape(-1)
    cmap = plt.get_cmap("tab10")
    for k, (x1, y1, x2, y2) in enumerate(xyxy):
        if color is None:
            c = cmap(int(labels_np[k]) % 10) if labels_np is not None else "yellow"
        elif isinstance(color, str):
            c = color
        else:
            c = color[k]
        ax.add_patch(Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False, edgecolor=c, linewidth=linewidth))
        caption = instance_caption(k, labels_np, scores_np, names)
        if caption:
            ax.text(x1 - 0.5, y1 - 1, caption, color="white", fontsize=fontsize,
                    va="bottom", bbox={"facecolor": c, "alpha": 0.7, "pad": 0.5, "linewidth": 0})


def plot_iou(box_a: Sequence[float], box_b: Sequence[float], size: int = 100) -> plt.Figure:
    """Two xyxy boxes on a ``size`` x ``size`` canvas, their overlap shaded and the IoU in the title."""
    a = np.asarray(box_a, dtype=np.float64)
    b = np.asarray(box_b, dtype=np.float64)
    iou = float(np.asarray(box_iou(a[None], b[None]))[0, 0])
    fig, ax = plt.subplots(figsize=(3.6, 3.6))
    ax.set_xlim(0, size)
    ax.set_ylim(size, 0)
    ax.set_aspect("equal")
    for box, c, name in ((a, "tab:blue", "A"), (b, "tab:orange", "B")):
        ax.add_patch(Rectangle(box[:2], *(box[2:] - box[:2]), fill=False, edgecolor=c, linewidth=2, label=name))
    x1, y1 = np.maximum(a[:2], b[:2])
    x2, y2 = np.minimum(a[2:], b[2:])
    if x2 > x1 and y2 > y1:
        ax.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, color="tab:green", alpha=0.4, label="A ∩ B"))
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(f"IoU = {iou:.3f}")
    fig.tight_layout()
    return fig


def plot_nms(
    image: np.ndarray,
    boxes: ArrayLike,
    scores: ArrayLike,
    iou_threshold: float = 0.5,
    score_threshold: float = 0.0,
    labels: ArrayLike | None = None,
    names: Sequence[str] | None = None,
) -> tuple[plt.Figure, np.ndarray]:
    """Detections before and after non-maximum suppression; returns the figure and kept indices.

    With ``labels``, suppression works per class (``batched_nms``).
    """
    boxes_np = np.asarray(torch.as_tensor(boxes).cpu(), dtype=np.float64).reshape(-1, 4)
    scores_np = np.asarray(torch.as_tensor(scores).cpu(), dtype=np.float64).reshape(-1)
    candidates = np.flatnonzero(scores_np >= score_threshold)
    if labels is None:
        kept = np.asarray(nms(boxes_np[candidates], scores_np[candidates], iou_threshold))
    else:
        labels_np = np.asarray(torch.as_tensor(labels).cpu()).reshape(-1)
        kept = np.asarray(batched_nms(boxes_np[candidates], scores_np[candidates], labels_np[candidates], iou_threshold))
    kept = candidates[kept]
    fig, axes = plt.subplots(1, 2, figsize=(7, 3.6))
    for ax, chosen, title in (
        (axes[0], candidates, f"{len(candidates)} detections with score ≥ {score_threshold:.2f}"),
        (axes[1], kept, f"{len(kept)} kept by NMS at IoU {iou_threshold:.2f}"),
    ):
        ax.imshow(image)
        ax.axis("off")
        ax.set_title(title, fontsize=9)
        draw_boxes(ax, boxes_np[chosen], None if labels is None else np.asarray(labels)[chosen],
                   scores_np[chosen], names=names, linewidth=1)
    fig.tight_layout()
    return fig, kept


def plot_precision_recall(
    scores: np.ndarray, tp: np.ndarray, n_gt: int, threshold: float = 0.5
) -> tuple[plt.Figure, float, float]:
    """The precision-recall curve of score-sorted detections, marking a confidence threshold.

    Returns the figure and the precision and recall of the detections with score >= threshold.
    """
    scores = np.asarray(scores, dtype=np.float64)
    precision, recall = precision_recall(tp, n_gt)
    kept = int(np.sum(scores >= threshold))
    p_at = float(precision[kept - 1]) if kept else 1.0
    r_at = float(recall[kept - 1]) if kept else 0.0
    ap = average_precision(precision, recall)
    fig, (ax_pr, ax_s) = plt.subplots(1, 2, figsize=(8, 3.3))
    ax_pr.plot(recall, precision, drawstyle="steps-post", label=f"AP (101-point) = {ap:.3f}")
    ax_pr.plot(recall, np.maximum.accumulate(precision[::-1])[::-1], "--", lw=1, label="interpolated")
    ax_pr.plot([r_at], [p_at], "o", color="tab:red", label=f"threshold {threshold:.2f}")
    ax_pr.set(xlabel="recall", ylabel="precision", xlim=(0, 1.02), ylim=(0, 1.02), title="precision-recall")
    ax_pr.legend(fontsize=8, loc="lower left")
    grid = np.linspace(0, 1, 101)
    ps = [float(precision[np.sum(scores >= t) - 1]) if np.sum(scores >= t) else 1.0 for t in grid]
    rs = [float(recall[np.sum(scores >= t) - 1]) if np.sum(scores >= t) else 0.0 for t in grid]
    ax_s.plot(grid, ps, label="precision")
    ax_s.plot(grid, rs, label="recall")
    ax_s.axvline(threshold, color="tab:red", lw=1)
    ax_s.set(xlabel="confidence threshold", ylim=(0, 1.02), title=f"P = {p_at:.2f}, R = {r_at:.2f}")
    ax_s.legend(fontsize=8)
    fig.tight_layout()
    return fig, p_at, r_at
