"""Scoring detections: the COCO matching rule, precision/recall, AP and mAP.

- :func:`match_detections`, :func:`precision_recall`, :func:`average_precision`: the
  COCO matching rule and the 101-point interpolated AP for one class, by hand;
- :func:`to_coco_results`, :func:`coco_evaluate`, :func:`torchmetrics_map`: scoring with
  ``pycocotools`` (``COCOeval``) or ``torchmetrics`` (``MeanAveragePrecision``).

Boxes are in pixels, ``xyxy`` unless a function says otherwise; ``x1, y1`` is the top-left
corner and ``x2, y2`` the bottom-right one, so a box's width is ``x2 - x1``.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import torch
import torchvision
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
from torchmetrics.detection import MeanAveragePrecision

from .boxes import ArrayLike, box_iou
from .coco_format import encode_masks, load_coco

# The twelve numbers COCOeval.summarize() prints, in its order.
COCO_STAT_NAMES = (
    "map", "map_50", "map_75", "map_small", "map_medium", "map_large",
    "mar_1", "mar_10", "mar_100", "mar_small", "mar_medium", "mar_large",
)  # fmt: skip


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
