"""Instance and panoptic segmentation helpers: panoptic maps, their colours, figures and PQ.

A *panoptic map* here is an int64 array ``... x H x W x 2``: channel 0 holds the COCO
category id of every pixel (things and stuff, ids as in ``SceneSet.categories``; 0 means
void, "no label"), channel 1 the instance id (1, 2, ... for things, 0 for stuff). This is
the layout ``torchmetrics.detection.PanopticQuality`` reads.

Main entry points: :func:`panoptic_ground_truth`, :func:`colorize_panoptic`,
:func:`overlay_masks`, :func:`plot_instances`, :func:`plot_panoptic`,
:func:`torchmetrics_pq`, :func:`id_to_rgb`, :func:`rgb_to_id`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import cv2
import matplotlib.pyplot as plt
import numpy as np
import torch
from torchmetrics.detection import PanopticQuality

from .coco_format import palette
from .detection_plots import instance_caption
from .scene_sets import SceneSet

__all__ = [
    "colorize_panoptic",
    "id_to_rgb",
    "instance_colors",
    "overlay_masks",
    "panoptic_ground_truth",
    "plot_instances",
    "plot_panoptic",
    "rgb_to_id",
    "torchmetrics_pq",
]


def _numpy(x: Any) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def panoptic_ground_truth(scenes: SceneSet, indices: Sequence[int] | None = None) -> np.ndarray:
    """The true panoptic maps of ``scenes`` (N x H x W x 2, int64): category id, instance id.

    Category id = semantic label + 1 everywhere (things 1..T, stuff T+1..); instance id =
    the image's annotation number for thing pixels, 0 for stuff.
    """
    index = list(range(len(scenes))) if indices is None else [int(i) for i in indices]
    category = scenes.semantic[index].astype(np.int64) + 1
    instance = scenes.instances[index].astype(np.int64)
    instance[category > scenes.num_things] = 0
    return np.stack([category, instance], axis=-1)


def id_to_rgb(segment_id: np.ndarray) -> np.ndarray:
    """COCO panoptic PNG colour of segment ids: ``id = R + 256 G + 256² B`` (uint8 ... x 3)."""
    segment_id = np.asarray(segment_id, dtype=np.int64)
    return np.stack([segment_id % 256, segment_id // 256 % 256, segment_id // 256**2 % 256], axis=-1).astype(np.uint8)


def rgb_to_id(rgb: np.ndarray) -> np.ndarray:
    """Segment ids of a COCO panoptic PNG (``... x 3`` uint8): ``R + 256 G + 256² B`` (int64)."""
    rgb = np.asarray(rgb, dtype=np.int64)
    return rgb[..., 0] + 256 * rgb[..., 1] + 256**2 * rgb[..., 2]


def instance_colors(n: int, seed: int = 0) -> np.ndarray:
    """``n`` well separated bright colours (float RGB in [0, 1], n x 3) for instance masks."""
    if n == 0:
        return np.zeros((0, 3))
    hues = (np.arange(n) * 0.618034 + 0.1 * seed) % 1.0
    hsv = np.stack([hues * 360, np.full(n, 0.85), np.full(n, 1.0)], axis=1).astype(np.float32)
    return cv2.cvtColor(hsv[None], cv2.COLOR_HSV2RGB)[0].astype(np.float64)


def colorize_panoptic(panoptic: np.ndarray | torch.Tensor, num_things: int, num_classes: int) -> np.ndarray:
    """An H x W x 2 panoptic map as RGB uint8: stuff in its class colour, each thing in its own colour.

    Segment borders are drawn in white; void pixels (category 0) are black.
    """
    pan = _numpy(panoptic).astype(np.int64)
    category, instance = pan[..., 0], pan[..., 1]
    rgb = np.zeros((*category.shape, 3), dtype=np.float64)
    colors = palette(num_classes, num_things).astype(np.float64) / 255
    known = (category >= 1) & (category <= num_classes)
    rgb[known] = colors[category[known] - 1]
    things = known & (category <= num_things) & (instance > 0)
    ids = np.unique(instance[things])
    inst = instance_colors(int(ids.max()) if len(ids) else 0)
    for k in ids:
        on = things & (instance == k)
        rgb[on] = 0.35 * colors[category[on] - 1] + 0.65 * inst[k - 1]
    segment = category * 1000 + instance
    border = np.zeros(category.shape, dtype=bool)
    border[:-1] |= segment[:-1] != segment[1:]
    border[:, :-1] |= segment[:, :-1] != segment[:, 1:]
    rgb[border] = 1.0
    return np.round(rgb * 255).astype(np.uint8)


def overlay_masks(
    ax: plt.Axes,
    image: np.ndarray,
    masks: np.ndarray | torch.Tensor,
    labels: Sequence[int] | np.ndarray | torch.Tensor | None = None,
    scores: Sequence[float] | np.ndarray | torch.Tensor | None = None,
    names: Sequence[str] | None = None,
    alpha: float = 0.55,
    fontsize: float = 6,
) -> None:
    """Show ``image`` on ``ax`` with instance ``masks`` (k x H x W, bool or probabilities) over it.

    Each mask gets its own colour and outline; with ``labels`` (category ids) and ``names``
    a caption ``name score`` sits at the top of the mask.
    """
    masks_np = _numpy(masks).reshape(-1, *np.asarray(image).shape[:2]) >= 0.5
    labels_np = None if labels is None else _numpy(labels).reshape(-1)
    scores_np = None if scores is None else _numpy(scores).reshape(-1)
    canvas = np.asarray(image, dtype=np.float64) / 255
    colors = instance_colors(len(masks_np))
    for k, mask in enumerate(masks_np):
        canvas[mask] = (1 - alpha) * canvas[mask] + alpha * colors[k]
    ax.imshow(canvas)
    for k, mask in enumerate(masks_np):
        if not mask.any():
            continue
        ax.contour(mask.astype(float), levels=[0.5], colors=[colors[k]], linewidths=0.8)
        caption = instance_caption(k, labels_np, scores_np, names)
        if caption:
            ys, xs = np.nonzero(mask)
            ax.text(xs.min() - 0.5, ys.min() - 1, caption, fontsize=fontsize, color="white",
                    va="bottom", bbox={"facecolor": colors[k], "alpha": 0.75, "pad": 0.4, "linewidth": 0})
    ax.axis("off")


def plot_instances(
    image: np.ndarray,
    prediction: dict[str, Any],
    truth_masks: np.ndarray | None = None,
    truth_labels: Sequence[int] | np.ndarray | None = None,
    names: Sequence[str] | None = None,
    score_threshold: float = 0.5,
) -> plt.Figure:
    """Predicted instance masks with ``score >= score_threshold`` next to the true ones.

    ``prediction`` holds ``masks`` (k x 1 x H x W or k x H x W probabilities), ``labels``
    and ``scores``, as torchvision's Mask R-CNN returns them.
    """
    scores = _numpy(prediction["scores"]).reshape(-1)
    keep = scores >= score_threshold
    masks = _numpy(prediction["masks"]).reshape(len(scores), *np.asarray(image).shape[:2])[keep]
    panels = 3 if truth_masks is not None else 2
    fig, axes = plt.subplots(1, panels, figsize=(3 * panels, 3.2))
    axes[0].imshow(image)
    axes[0].axis("off")
    axes[0].set_title("image", fontsize=9)
    overlay_masks(axes[1], image, masks, _numpy(prediction["labels"]).reshape(-1)[keep], scores[keep], names)
    axes[1].set_title(f"{int(keep.sum())} predicted masks, score ≥ {score_threshold:.2f}", fontsize=9)
    if truth_masks is not None:
        overlay_masks(axes[2], image, truth_masks, truth_labels, None, names)
        axes[2].set_title(f"{len(truth_masks)} true masks", fontsize=9)
    fig.tight_layout()
    return fig


def plot_panoptic(
    image: np.ndarray,
    panels: dict[str, np.ndarray],
    num_things: int,
    num_classes: int,
) -> plt.Figure:
    """``image`` followed by one colourized panoptic map (H x W x 2) per entry of ``panels``."""
    fig, axes = plt.subplots(1, 1 + len(panels), figsize=(2.8 * (1 + len(panels)), 3))
    axes[0].imshow(image)
    axes[0].set_title("image", fontsize=9)
    for ax, (title, pan) in zip(axes[1:], panels.items(), strict=True):
        ax.imshow(colorize_panoptic(pan, num_things, num_classes))
        ax.set_title(title, fontsize=9)
    for ax in axes:
        ax.axis("off")
    fig.tight_layout()
    return fig


def torchmetrics_pq(
    preds: np.ndarray | torch.Tensor,
    targets: np.ndarray | torch.Tensor,
    things: Sequence[int],
    stuffs: Sequence[int],
) -> dict[str, Any]:
    """Panoptic, segmentation and recognition quality from ``torchmetrics.detection.PanopticQuality``.

    ``preds`` and ``targets`` are N x H x W x 2 panoptic maps. Predicted pixels of an
    unknown category (0, void) are ignored as the library does. Returns ``pq``, ``sq``,
    ``rq`` (class averages) and ``per_class``: a dict category id -> (pq, sq, rq), for the
    classes in the order things then stuff.
    """
    p = torch.as_tensor(_numpy(preds)).long()
    t = torch.as_tensor(_numpy(targets)).long()
    overall = PanopticQuality(things=set(things), stuffs=set(stuffs), allow_unknown_preds_category=True,
                              return_sq_and_rq=True)
    per_class = PanopticQuality(things=set(things), stuffs=set(stuffs), allow_unknown_preds_category=True,
                                return_sq_and_rq=True, return_per_class=True)
    pq, sq, rq = (float(v) for v in overall(p, t))
    table = per_class(p, t).reshape(-1, 3)
    order = sorted(things) + sorted(stuffs)
    return {"pq": pq, "sq": sq, "rq": rq,
            "per_class": {c: tuple(float(v) for v in row) for c, row in zip(order, table, strict=True)}}
