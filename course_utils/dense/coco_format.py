"""The COCO annotation format for the generated scenes: masks as RLE and polygons, colours.

COCO stores each object's mask as run-length encoding (RLE, ``iscrowd=0`` objects
often as polygons instead) with its box as ``[x, y, w, h]``; ``pycocotools`` reads and
evaluates it. These helpers turn the scenes' label maps into that format, draw label
maps in a fixed palette, and give the PASCAL VOC colour map.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO


def palette(num_classes: int, num_things: int | None = None) -> np.ndarray:
    """A fixed uint8 colour per class (num_classes x 3): vivid for things, earthy for stuff."""
    things = num_classes if num_things is None else num_things
    colors = []
    for k in range(num_classes):
        if k < things:
            hue = (k / max(things, 1) * 180 + 10) % 180
            hsv = np.array([[[hue, 200, 240]]], dtype=np.uint8)
        else:
            s = k - things
            hsv = np.array([[[(30 + 40 * s) % 180, 90, 110 + 30 * (s % 3)]]], dtype=np.uint8)
        colors.append(cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0])
    return np.array(colors, dtype=np.uint8)


def colorize(labels: np.ndarray | torch.Tensor, num_classes: int, num_things: int | None = None) -> np.ndarray:
    """A label map (H x W or N x H x W of class indices) as RGB uint8 using :func:`palette`."""
    if isinstance(labels, torch.Tensor):
        labels = labels.detach().cpu().numpy()
    return palette(num_classes, num_things)[np.asarray(labels, dtype=np.int64)]


def encode_masks(masks: np.ndarray) -> list[dict[str, Any]]:
    """Compressed COCO RLE of bool masks (k x H x W), with ``counts`` as text for JSON."""
    masks = np.asarray(masks, dtype=np.uint8)
    if masks.ndim != 3:
        raise ValueError(f"masks must be k x H x W, got shape {masks.shape}")
    if len(masks) == 0:
        return []
    rles = mask_utils.encode(np.asfortranarray(masks.transpose(1, 2, 0)))
    for rle in rles:
        rle["counts"] = rle["counts"].decode("ascii")
    return rles


def load_coco(annotations: dict[str, Any] | str | Path) -> COCO:
    """A ``pycocotools.coco.COCO`` from a dict or a JSON file, without its progress prints."""
    with contextlib.redirect_stdout(io.StringIO()):
        if isinstance(annotations, dict):
            coco = COCO()
            coco.dataset = json.loads(json.dumps(annotations))
            coco.createIndex()
        else:
            coco = COCO(str(annotations))
    return coco


def thing_annotations(
    instances: np.ndarray, classes: list[int], image_id: int, first_id: int
) -> list[dict[str, Any]]:
    masks = instances[None] == np.arange(1, len(classes) + 1, dtype=np.uint8)[:, None, None]
    anns = []
    for k, (rle, cls) in enumerate(zip(encode_masks(masks), classes, strict=True)):
        ys, xs = np.nonzero(masks[k])
        x0, y0 = int(xs.min()), int(ys.min())
        anns.append(
            {
                "id": first_id + k,
                "image_id": image_id,
                "category_id": cls + 1,
                "bbox": [x0, y0, int(xs.max()) + 1 - x0, int(ys.max()) + 1 - y0],
                "area": int(masks[k].sum()),
                "iscrowd": 0,
                "segmentation": rle,
            }
        )
    return anns


def stuff_annotations(semantic: np.ndarray, num_things: int, image_id: int, first_id: int) -> list[dict[str, Any]]:
    present = [int(v) for v in np.unique(semantic) if v >= num_things]
    masks = semantic[None] == np.array(present, dtype=np.uint8)[:, None, None]
    anns = []
    for k, (label, rle) in enumerate(zip(present, encode_masks(masks), strict=True)):
        x, y, w, h = (float(v) for v in mask_utils.toBbox(
            {"size": rle["size"], "counts": rle["counts"].encode("ascii")}
        ))
        anns.append(
            {
                "id": first_id + k,
                "image_id": image_id,
                "category_id": label + 1,
                "bbox": [x, y, w, h],
                "area": int(masks[k].sum()),
                "iscrowd": 0,
                "segmentation": rle,
            }
        )
    return anns


# -- files on disk -----------------------------------------------------------------------
def mask_polygons(mask: np.ndarray) -> list[list[float]]:
    """Outer contours of a bool mask as COCO polygons [x1, y1, x2, y2, ...] (pixel corners)."""
    contours, _ = cv2.findContours(
        np.pad(mask.astype(np.uint8), 1), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
    )
    polygons = []
    for contour in contours:
        points = contour[:, 0, :].astype(np.float64) - 1 + 0.5  # pixel centres
        if len(points) >= 3:
            polygons.append([round(float(v), 2) for v in points.ravel()])
    return polygons


# The PASCAL VOC colour map: class k gets the bits of k spread over R, G and B.
def voc_colormap(n: int = 256) -> np.ndarray:
    cmap = np.zeros((n, 3), dtype=np.uint8)
    for k in range(n):
        c, r, g, b = k, 0, 0, 0
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        cmap[k] = (r, g, b)
    return cmap
