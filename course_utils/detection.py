"""Boxes and detections: formats, IoU, non-maximum suppression, precision/recall and mAP.

Shared by the detection and segmentation lessons and the homework. The lessons write
each idea out by hand first; these are the checked, reusable versions:

- :func:`convert_boxes`, :func:`box_iou`: formats ``"xyxy"``, ``"xywh"`` (COCO) and
  ``"cxcywh"`` (YOLO), for NumPy arrays or tensors (the result has the input's type);
- :func:`nms`, :func:`batched_nms`, :func:`postprocess`: wrappers of ``torchvision.ops``;
- :func:`match_detections`, :func:`precision_recall`, :func:`average_precision`: the
  COCO matching rule and the 101-point interpolated AP for one class;
- :func:`to_coco_results`, :func:`coco_evaluate`, :func:`torchmetrics_map`: scoring with
  ``pycocotools`` (``COCOeval``) or ``torchmetrics`` (``MeanAveragePrecision``);
- :func:`draw_boxes`, :func:`plot_iou`, :func:`plot_nms`, :func:`plot_precision_recall`:
  figures behind the lessons' interactive controls;
- :func:`small_rcnn`, :class:`SmallBackbone`: lesson 14's two-stage detector (Faster or
  Mask R-CNN, no pretrained weights) for 64 x 64 scenes.

Boxes are in pixels, ``xyxy`` unless a function says otherwise; ``x1, y1`` is the top-left
corner and ``x2, y2`` the bottom-right one, so a box's width is ``x2 - x1``.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence
from typing import Any, Literal

import matplotlib.pyplot as plt
import numpy as np
import torch
import torchvision
from matplotlib.patches import Rectangle
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

BoxFormat = Literal["xyxy", "xywh", "cxcywh"]
ArrayLike = np.ndarray | torch.Tensor

__all__ = [
    "COCO_STAT_NAMES",
    "SmallBackbone",
    "average_precision",
    "batched_nms",
    "box_iou",
    "coco_evaluate",
    "convert_boxes",
    "draw_boxes",
    "match_detections",
    "nms",
    "plot_iou",
    "plot_nms",
    "plot_precision_recall",
    "postprocess",
    "precision_recall",
    "small_rcnn",
    "to_coco_results",
    "torchmetrics_map",
]

# The twelve numbers COCOeval.summarize() prints, in its order.
COCO_STAT_NAMES = (
    "map", "map_50", "map_75", "map_small", "map_medium", "map_large",
    "mar_1", "mar_10", "mar_100", "mar_small", "mar_medium", "mar_large",
)  # fmt: skip


def _as_tensor(boxes: ArrayLike) -> tuple[torch.Tensor, bool]:
    if isinstance(boxes, torch.Tensor):
        return boxes, False
    return torch.as_tensor(np.asarray(boxes, dtype=np.float64)), True


def _back(result: torch.Tensor, was_numpy: bool) -> ArrayLike:
    return result.numpy() if was_numpy else result


def convert_boxes(boxes: ArrayLike, in_fmt: BoxFormat, out_fmt: BoxFormat) -> ArrayLike:
    """Convert k x 4 boxes between ``xyxy``, ``xywh`` and ``cxcywh`` (``torchvision.ops.box_convert``)."""
    tensor, was_numpy = _as_tensor(boxes)
    return _back(torchvision.ops.box_convert(tensor, in_fmt=in_fmt, out_fmt=out_fmt), was_numpy)


def box_iou(a: ArrayLike, b: ArrayLike, fmt: BoxFormat = "xyxy") -> ArrayLike:
    """Pairwise intersection over union of boxes ``a`` (n x 4) and ``b`` (m x 4): n x m."""
    ta, was_numpy = _as_tensor(a)
    tb, _ = _as_tensor(b)
    tb = tb.to(ta.dtype)
    if fmt != "xyxy":
        ta = torchvision.ops.box_convert(ta, in_fmt=fmt, out_fmt="xyxy")
        tb = torchvision.ops.box_convert(tb, in_fmt=fmt, out_fmt="xyxy")
    return _back(torchvision.ops.box_iou(ta.reshape(-1, 4), tb.reshape(-1, 4)), was_numpy)


def nms(boxes: ArrayLike, scores: ArrayLike, iou_threshold: float) -> ArrayLike:
    """Indices of the boxes that non-maximum suppression keeps, by decreasing score."""
    tb, was_numpy = _as_tensor(boxes)
    ts, _ = _as_tensor(scores)
    keep = torchvision.ops.nms(tb.float().reshape(-1, 4), ts.float().reshape(-1), iou_threshold)
    return _back(keep, was_numpy)


def batched_nms(
    boxes: ArrayLike, scores: ArrayLike, labels: ArrayLike, iou_threshold: float
) -> ArrayLike:
    """Non-maximum suppression within each label separately; kept indices by decreasing score."""
    tb, was_numpy = _as_tensor(boxes)
    ts, _ = _as_tensor(scores)
    tl, _ = _as_tensor(labels)
    keep = torchvision.ops.batched_nms(
        tb.float().reshape(-1, 4), ts.float().reshape(-1), tl.long().reshape(-1), iou_threshold
    )
    return _back(keep, was_numpy)


def postprocess(
    boxes: torch.Tensor,
    scores: torch.Tensor,
    labels: torch.Tensor,
    score_threshold: float = 0.05,
    iou_threshold: float = 0.5,
    max_detections: int = 100,
) -> dict[str, torch.Tensor]:
    """Drop low scores, suppress duplicates per class, keep the best ``max_detections``.

    Returns ``{"boxes", "scores", "labels"}`` like a torchvision detection model.
    """
    keep = scores >= score_threshold
    boxes, scores, labels = boxes[keep], scores[keep], labels[keep]
    keep = torchvision.ops.batched_nms(boxes.float(), scores.float(), labels, iou_threshold)
    keep = keep[:max_detections]
    return {"boxes": boxes[keep], "scores": scores[keep], "labels": labels[keep]}


# -- precision, recall and average precision for one class ----------------------------
def match_detections(
    pred_boxes: Sequence[ArrayLike],
    pred_scores: Sequence[ArrayLike],
    gt_boxes: Sequence[ArrayLike],
    iou_threshold: float = 0.5,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Match one class's detections to its ground truth, image by image, as COCO does.

    Each argument is a list over images. Within an image, detections are taken by
    decreasing score, and each claims the still unmatched ground-truth box it overlaps
    most, if that IoU is at least ``iou_threshold``. Returns the scores and a
    true-positive flag of all detections, sorted by decreasing score, and the number
    of ground-truth boxes.
    """
    all_scores, all_tp, n_gt = [], [], 0
    for boxes, scores, gts in zip(pred_boxes, pred_scores, gt_boxes, strict=True):
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        scores = np.asarray(scores, dtype=np.float64).reshape(-1)
        gts = np.asarray(gts, dtype=np.float64).reshape(-1, 4)
        n_gt += len(gts)
        order = np.argsort(-scores, kind="mergesort")
        ious = np.asarray(box_iou(boxes[order], gts)) if len(gts) else np.zeros((len(boxes), 0))
        taken = np.zeros(len(gts), dtype=bool)
        tp = np.zeros(len(order), dtype=bool)
        for d in range(len(order)):
            best, best_iou = -1, min(iou_threshold, 1 - 1e-10)
            for g in range(len(gts)):
                if not taken[g] and ious[d, g] >= best_iou:
                    best, best_iou = g, ious[d, g]
            if best >= 0:
                taken[best], tp[d] = True, True
        all_scores.append(scores[order])
        all_tp.append(tp)
    scores = np.concatenate(all_scores) if all_scores else np.zeros(0)
    tp = np.concatenate(all_tp) if all_tp else np.zeros(0, dtype=bool)
    order = np.argsort(-scores, kind="mergesort")
    return scores[order], tp[order], n_gt


def precision_recall(tp: np.ndarray, n_gt: int) -> tuple[np.ndarray, np.ndarray]:
    """Precision and recall after each detection of a score-sorted true-positive list."""
    tp = np.asarray(tp, dtype=bool)
    tps = np.cumsum(tp)
    fps = np.cumsum(~tp)
    precision = tps / np.maximum(tps + fps, np.finfo(np.float64).eps)
    recall = tps / n_gt if n_gt else np.zeros(len(tp))
    return precision, recall


def average_precision(precision: np.ndarray, recall: np.ndarray, points: int | None = 101) -> float:
    """Area under the interpolated precision-recall curve.

    Precision is first made non-increasing (each value becomes the best precision at
    that recall or higher). ``points=101`` samples it at recall 0, 0.01, ..., 1 as COCO
    does (11 for the PASCAL VOC 2007 rule); ``points=None`` integrates every step
    exactly (VOC 2010 and later).
    """
    precision = np.asarray(precision, dtype=np.float64)
    recall = np.asarray(recall, dtype=np.float64)
    if len(precision) == 0:
        return 0.0
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    if points is None:
        r = np.concatenate([[0.0], recall])
        return float(np.sum((r[1:] - r[:-1]) * envelope))
    thresholds = np.linspace(0.0, 1.0, points)
    index = np.searchsorted(recall, thresholds, side="left")
    sampled = np.where(index < len(envelope), envelope[np.minimum(index, len(envelope) - 1)], 0.0)
    return float(sampled.mean())


# -- COCO-style scoring ---------------------------------------------------------------
def to_coco_results(
    predictions: Sequence[dict[str, torch.Tensor]], image_ids: Sequence[int]
) -> list[dict[str, Any]]:
    """Detections in the COCO results format: ``image_id, category_id, bbox (xywh), score``.

    ``predictions`` are dicts with ``boxes`` (xyxy), ``scores`` and ``labels`` (category
    ids); a ``masks`` entry (k x H x W, probabilities or 0/1) adds RLE ``segmentation``.
    """
    from .coco_scenes import encode_masks

    results = []
    for pred, image_id in zip(predictions, image_ids, strict=True):
        boxes = torch.as_tensor(pred["boxes"]).detach().cpu().double().reshape(-1, 4)
        xywh = torchvision.ops.box_convert(boxes, "xyxy", "xywh").tolist()
        scores = torch.as_tensor(pred["scores"]).detach().cpu().tolist()
        labels = torch.as_tensor(pred["labels"]).detach().cpu().tolist()
        rles = None
        if "masks" in pred:
            masks = torch.as_tensor(pred["masks"]).detach().cpu()
            masks = masks.reshape(len(scores), *masks.shape[-2:]) >= 0.5
            rles = encode_masks(masks.numpy())
        for k, (box, score, label) in enumerate(zip(xywh, scores, labels, strict=True)):
            entry = {
                "image_id": int(image_id),
                "category_id": int(label),
                "bbox": [float(v) for v in box],
                "score": float(score),
            }
            if rles is not None:
                entry["segmentation"] = rles[k]
            results.append(entry)
    return results


def coco_evaluate(
    coco_gt: COCO | dict[str, Any],
    results: list[dict[str, Any]],
    iou_type: Literal["bbox", "segm"] = "bbox",
    image_ids: Sequence[int] | None = None,
    verbose: bool = False,
) -> dict[str, float]:
    """Score COCO-format ``results`` with ``pycocotools``' ``COCOeval``.

    Returns the twelve summary numbers under :data:`COCO_STAT_NAMES` (``map`` is AP
    averaged over IoU 0.50:0.95, ``map_50`` AP at IoU 0.5, ...). ``verbose`` prints
    COCO's usual table.
    """
    from .coco_scenes import load_coco

    gt = coco_gt if isinstance(coco_gt, COCO) else load_coco(coco_gt)
    sink = contextlib.nullcontext() if verbose else contextlib.redirect_stdout(io.StringIO())
    with sink:
        if results:
            dt = gt.loadRes([dict(r) for r in results])
        else:
            dt = COCO()
            dt.dataset = {"images": gt.dataset["images"], "categories": gt.dataset["categories"], "annotations": []}
            dt.createIndex()
        evaluator = COCOeval(gt, dt, iouType=iou_type)
        if image_ids is not None:
            evaluator.params.imgIds = list(image_ids)
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return {name: float(v) for name, v in zip(COCO_STAT_NAMES, evaluator.stats, strict=True)}


def torchmetrics_map(
    predictions: Sequence[dict[str, torch.Tensor]],
    targets: Sequence[dict[str, torch.Tensor]],
    iou_type: Literal["bbox", "segm"] = "bbox",
) -> dict[str, float]:
    """Score with ``torchmetrics.detection.MeanAveragePrecision`` (pycocotools backend).

    ``predictions``: dicts with ``boxes`` (xyxy), ``scores``, ``labels`` (and ``masks``
    for ``segm``); ``targets``: dicts with ``boxes`` and ``labels`` (and ``masks``).
    Returns the scalar results (``map``, ``map_50``, ``map_75``, ``mar_100``, ...).
    """
    from torchmetrics.detection import MeanAveragePrecision

    metric = MeanAveragePrecision(iou_type=iou_type, backend="pycocotools")

    def clean(d: dict[str, torch.Tensor], keys: tuple[str, ...]) -> dict[str, torch.Tensor]:
        out = {k: torch.as_tensor(d[k]).detach().cpu() for k in keys if k in d}
        if "masks" in out:
            out["masks"] = out["masks"].reshape(len(out["labels"]), *out["masks"].shape[-2:]) >= 0.5
        if "boxes" in out:
            out["boxes"] = out["boxes"].float().reshape(-1, 4)
        out["labels"] = out["labels"].long()
        return out

    metric.update(
        [clean(p, ("boxes", "scores", "labels", "masks")) for p in predictions],
        [clean(t, ("boxes", "labels", "masks")) for t in targets],
    )
    scores = metric.compute()
    return {k: float(v) for k, v in scores.items() if torch.as_tensor(v).numel() == 1 and k != "classes"}


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


# -- a small two-stage detector for the course's 64 x 64 scenes ---------------------------
def _conv_bn_relu(c_in: int, c_out: int, stride: int = 1) -> list[torch.nn.Module]:
    return [
        torch.nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False),
        torch.nn.BatchNorm2d(c_out),
        torch.nn.ReLU(inplace=True),
    ]


class SmallBackbone(torch.nn.Module):
    """Image -> stride-4 feature map (``out_channels``), trained from scratch.

    An encoder down to 1/16 and a decoder back to 1/4 with transposed convolutions and
    skip connections, so the stride-4 features see whole objects. The backbone of
    lesson 14's Faster R-CNN; ``FasterRCNN`` reads ``out_channels``.
    """

    def __init__(self, width: int = 16, out_channels: int = 64):
        super().__init__()
        w, nn = width, torch.nn
        self.enc1 = nn.Sequential(*_conv_bn_relu(3, w, 2), *_conv_bn_relu(w, w))
        self.enc2 = nn.Sequential(*_conv_bn_relu(w, 2 * w, 2), *_conv_bn_relu(2 * w, 2 * w))
        self.enc3 = nn.Sequential(*_conv_bn_relu(2 * w, 4 * w, 2), *_conv_bn_relu(4 * w, 4 * w))
        self.enc4 = nn.Sequential(*_conv_bn_relu(4 * w, 4 * w, 2), *_conv_bn_relu(4 * w, 4 * w))
        self.up4 = nn.ConvTranspose2d(4 * w, 4 * w, 2, stride=2)
        self.dec3 = nn.Sequential(*_conv_bn_relu(8 * w, 4 * w))
        self.up3 = nn.ConvTranspose2d(4 * w, 2 * w, 2, stride=2)
        self.dec2 = nn.Sequential(*_conv_bn_relu(4 * w, out_channels))
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e2 = self.enc2(self.enc1(x))
        e3 = self.enc3(e2)
        d3 = self.dec3(torch.cat([self.up4(self.enc4(e3)), e3], dim=1))
        return self.dec2(torch.cat([self.up3(d3), e2], dim=1))


def small_rcnn(
    num_classes: int,
    image_size: int = 64,
    masks: bool = False,
    anchor_sizes: tuple[int, ...] = (12, 20, 32),
    aspect_ratios: tuple[float, ...] = (0.5, 1.0, 2.0),
) -> torch.nn.Module:
    """Lesson 14's Faster R-CNN (or, with ``masks=True``, a Mask R-CNN) for small scenes.

    ``num_classes`` counts the background (things + 1). No pretrained weights are used
    or downloaded. Images keep their size (``min_size = max_size = image_size``).
    """
    from torchvision.models.detection import FasterRCNN, MaskRCNN
    from torchvision.models.detection.anchor_utils import AnchorGenerator
    from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
    from torchvision.models.detection.mask_rcnn import MaskRCNNHeads, MaskRCNNPredictor
    from torchvision.ops import MultiScaleRoIAlign

    backbone = SmallBackbone()
    channels = backbone.out_channels
    settings: dict[str, Any] = {
        "min_size": image_size,
        "max_size": image_size,
        "image_mean": [0.5, 0.5, 0.5],
        "image_std": [0.25, 0.25, 0.25],
        "rpn_anchor_generator": AnchorGenerator(sizes=(anchor_sizes,), aspect_ratios=(aspect_ratios,)),
        "rpn_pre_nms_top_n_train": 600,
        "rpn_post_nms_top_n_train": 200,
        "rpn_pre_nms_top_n_test": 300,
        "rpn_post_nms_top_n_test": 100,
        "rpn_batch_size_per_image": 128,
        "box_roi_pool": MultiScaleRoIAlign(featmap_names=["0"], output_size=7, sampling_ratio=2),
        "box_head": TwoMLPHead(channels * 7 * 7, 128),
        "box_predictor": FastRCNNPredictor(128, num_classes),
        "box_batch_size_per_image": 64,
        "box_score_thresh": 0.01,
        "box_detections_per_img": 50,
    }
    if not masks:
        return FasterRCNN(backbone, **settings)
    return MaskRCNN(
        backbone,
        mask_roi_pool=MultiScaleRoIAlign(featmap_names=["0"], output_size=14, sampling_ratio=2),
        mask_head=MaskRCNNHeads(channels, (64, 64), 1),
        mask_predictor=MaskRCNNPredictor(64, 64, num_classes),
        **settings,
    )
