"""Boxes: formats, IoU and non-maximum suppression, for NumPy arrays or tensors.

Shared by the detection and segmentation lessons and the homework. The lessons write
each idea out by hand first; these are the checked, reusable versions:

- :func:`convert_boxes`, :func:`box_iou`: formats ``"xyxy"``, ``"xywh"`` (COCO) and
  ``"cxcywh"`` (YOLO); the result has the input's type;
- :func:`nms`, :func:`batched_nms`, :func:`postprocess`: wrappers of ``torchvision.ops``.

Boxes are in pixels, ``xyxy`` unless a function says otherwise; ``x1, y1`` is the top-left
corner and ``x2, y2`` the bottom-right one, so a box's width is ``x2 - x1``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
import torchvision

BoxFormat = Literal["xyxy", "xywh", "cxcywh"]


ArrayLike = np.ndarray | torch.Tensor


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
