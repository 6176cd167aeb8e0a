"""One annotated scene for lesson 04: the coins photo as classification, detection,
semantic and instance segmentation; and keypoint matching between two images.

The annotations are made by a classic segmentation of the photograph (smoothing,
edge strength, watershed from intensity markers), not drawn by hand, so every
mask and box can be recomputed and checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import cv2
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.patches import Rectangle
from scipy import ndimage
from skimage import filters, segmentation

Task = Literal["classification", "detection", "semantic", "instance"]
TASKS: tuple[str, ...] = ("classification", "detection", "semantic", "instance")


# --------------------------------------------------------------------------- segmentation


def coin_markers(image: np.ndarray, background: float = 70, foreground: float = 140, sigma: float = 1.5) -> np.ndarray:
    """Seeds for the watershed: 1 where the smoothed image is darker than ``background``
    (surely background), 2 where it is brighter than ``foreground`` (surely a coin), 0 elsewhere."""
    if not background < foreground:
        raise ValueError(f"need background < foreground, got {background} and {foreground}")
    smoothed = filters.gaussian(np.asarray(image, dtype=np.float64), sigma=sigma, preserve_range=True)
    markers = np.zeros(smoothed.shape, dtype=np.int32)
    markers[smoothed < background] = 1
    markers[smoothed > foreground] = 2
    return markers


def segment_coins(
    image: np.ndarray,
    background: float = 70,
    foreground: float = 140,
    sigma: float = 1.5,
    min_area: int = 300,
) -> np.ndarray:
    """Instance labels of the coins photo: 0 is background, 1..N one coin each.

    The unsure pixels between the two marker sets are given to whichever seed the
    watershed reaches first when it floods the edge-strength (Sobel) image, so the
    boundary settles on the coin's rim. Holes are filled, thin bridges opened,
    objects under ``min_area`` pixels dropped; labels are numbered in raster order.
    """
    smoothed = filters.gaussian(np.asarray(image, dtype=np.float64), sigma=sigma, preserve_range=True)
    edges = filters.sobel(smoothed)
    flooded = segmentation.watershed(edges, coin_markers(image, background, foreground, sigma))
    mask = ndimage.binary_fill_holes(flooded == 2)
    mask = ndimage.binary_opening(mask, iterations=2)
    labels, count = ndimage.label(mask)
    areas = np.bincount(labels.ravel(), minlength=count + 1)
    keep = areas >= min_area
    keep[0] = False
    relabel = np.zeros(count + 1, dtype=np.int32)
    relabel[keep] = np.arange(1, keep.sum() + 1)
    return relabel[labels]


def boxes_from_labels(labels: np.ndarray) -> np.ndarray:
    """One COCO-style box ``[x, y, width, height]`` per instance label 1..N (pixel units).

    A box spans the columns ``x .. x + width - 1`` and rows ``y .. y + height - 1``.
    """
    boxes = []
    for k in range(1, int(labels.max()) + 1):
        rows, cols = np.nonzero(labels == k)
        if rows.size == 0:
            raise ValueError(f"label {k} is empty; labels must be numbered 1..N without gaps")
        boxes.append([cols.min(), rows.min(), cols.max() - cols.min() + 1, rows.max() - rows.min() + 1])
    return np.array(boxes, dtype=np.int64).reshape(-1, 4)


def coco_annotations(labels: np.ndarray, category_id: int = 1, image_id: int = 1) -> list[dict]:
    """COCO-style annotation records (id, image_id, category_id, bbox, area, iscrowd)."""
    areas = np.bincount(labels.ravel(), minlength=int(labels.max()) + 1)
    return [
        {
            "id": k,
            "image_id": image_id,
            "category_id": category_id,
            "bbox": [int(v) for v in box],
            "area": int(areas[k]),
            "iscrowd": 0,
        }
        for k, box in enumerate(boxes_from_labels(labels), start=1)
    ]


# ------------------------------------------------------------------------------- drawing


def instance_colors(count: int, seed: int = 0) -> np.ndarray:
    """``count`` distinct RGB colors in [0, 1] (a shuffled qualitative palette)."""
    palette = plt.get_cmap("tab20")(np.arange(20))[:, :3]
    order = np.random.default_rng(seed).permutation(max(count, 1))
    return palette[order % 20][:count]


def overlay(image: np.ndarray, labels: np.ndarray, colors: np.ndarray, alpha: float = 0.55) -> np.ndarray:
    """Blend ``colors[k - 1]`` over the pixels with label ``k`` (k >= 1); float RGB in [0, 1]."""
    base = np.asarray(image, dtype=np.float64) / 255.0
    if base.ndim == 2:
        base = np.repeat(base[..., None], 3, axis=2)
    out = base.copy()
    for k in range(1, int(labels.max()) + 1):
        inside = labels == k
        out[inside] = (1 - alpha) * base[inside] + alpha * np.asarray(colors[k - 1])
    return out


def draw_task(
    ax: plt.Axes,
    image: np.ndarray,
    labels: np.ndarray,
    task: Task,
    class_name: str = "coin",
    scene_label: str = "coins",
) -> None:
    """Draw one recognition task's answer for the scene on ``ax``."""
    gray = image.ndim == 2
    if task == "classification":
        ax.imshow(image, cmap="gray" if gray else None, vmin=0, vmax=255)
        ax.set_title(f'classification: "{scene_label}"')
    elif task == "detection":
        ax.imshow(image, cmap="gray" if gray else None, vmin=0, vmax=255)
        for x, y, w, h in boxes_from_labels(labels):
            ax.add_patch(Rectangle((x - 0.5, y - 0.5), w, h, fill=False, edgecolor="yellow", linewidth=1.5))
            ax.text(x, y - 2, class_name, color="black", fontsize=6, backgroundcolor="yellow")
        ax.set_title(f"object detection: {labels.max()} boxes")
    elif task == "semantic":
        ax.imshow(overlay(image, (labels > 0).astype(np.int32), np.array([[0.1, 0.45, 1.0]])))
        ax.set_title(f'semantic segmentation: "{class_name}" vs background')
    elif task == "instance":
        ax.imshow(overlay(image, labels, instance_colors(int(labels.max()))))
        ax.set_title(f"instance segmentation: {labels.max()} {class_name}s")
    else:
        raise ValueError(f"Unknown task {task!r}; choose one of: {', '.join(TASKS)}.")
    ax.axis("off")


def recognition_tasks_figure(
    image: np.ndarray, labels: np.ndarray, class_name: str = "coin", scene_label: str = "coins", size: float = 3.6
) -> plt.Figure:
    """The four recognition tasks side by side on one scene."""
    fig, axes = plt.subplots(1, 4, figsize=(4 * size, size * image.shape[0] / image.shape[1] + 0.5))
    for ax, task in zip(axes, TASKS, strict=True):
        draw_task(ax, image, labels, task, class_name, scene_label)
    fig.tight_layout()
    return fig


def task_panel(image: np.ndarray, labels: np.ndarray, task: Task = "detection") -> plt.Figure:
    """One task at a larger size (behind the lesson's drop-down)."""
    fig, ax = plt.subplots(figsize=(6, 6 * image.shape[0] / image.shape[1] + 0.4))
    draw_task(ax, image, labels, task)
    fig.tight_layout()
    return fig


def segmentation_panel(image: np.ndarray, background: float = 70, foreground: float = 140) -> plt.Figure:
    """Markers and the resulting instances for two thresholds (behind the lesson's sliders)."""
    markers = coin_markers(image, background, foreground)
    labels = segment_coins(image, background, foreground)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    axes[0].imshow(markers, cmap=ListedColormap(["0.5", "black", "gold"]), vmin=0, vmax=2)
    axes[0].set_title("markers: black = background, gold = coin, gray = unsure")
    axes[1].imshow(overlay(image, labels, instance_colors(int(labels.max()))))
    axes[1].set_title(f"watershed result: {labels.max()} instances")
    for ax in axes:
        ax.axis("off")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------- keypoint matching


def to_gray(image: np.ndarray) -> np.ndarray:
    """uint8 grayscale from a grayscale or RGB uint8 image (C x H x W tensors too)."""
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[0] == 3 and array.shape[-1] != 3:
        array = np.transpose(array, (1, 2, 0))
    if array.ndim == 3:
        array = cv2.cvtColor(np.ascontiguousarray(array), cv2.COLOR_RGB2GRAY)
    return np.ascontiguousarray(array.astype(np.uint8))


def rotate_and_scale(image: np.ndarray, angle: float, scale: float) -> np.ndarray:
    """Rotate by ``angle`` degrees and scale about the centre; same canvas size, black outside."""
    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, scale)
    return cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)


@dataclass
class KeypointMatch:
    """ORB keypoints of two images, their cross-checked matches and which matches agree
    on one rotation + scale + shift (RANSAC inliers)."""

    keypoints_a: tuple
    keypoints_b: tuple
    matches: list
    inliers: np.ndarray

    @property
    def n_inliers(self) -> int:
        return int(self.inliers.sum())


def match_keypoints(image_a: np.ndarray, image_b: np.ndarray, n_features: int = 500) -> KeypointMatch:
    """Match ORB features (Rublee et al. 2011) and keep those consistent with one similarity
    transform, found by RANSAC with a 3-pixel tolerance."""
    orb = cv2.ORB_create(nfeatures=n_features, fastThreshold=10, edgeThreshold=15, patchSize=15)
    keys_a, desc_a = orb.detectAndCompute(to_gray(image_a), None)
    keys_b, desc_b = orb.detectAndCompute(to_gray(image_b), None)
    if desc_a is None or desc_b is None:
        return KeypointMatch(keys_a, keys_b, [], np.zeros(0, dtype=bool))
    matches = list(cv2.BFMatcher(cv2.NORM_HAMMING, crossCheck=True).match(desc_a, desc_b))
    matches.sort(key=lambda m: (m.distance, m.queryIdx))
    inliers = np.zeros(len(matches), dtype=bool)
    if len(matches) >= 3:
        src = np.float32([keys_a[m.queryIdx].pt for m in matches])
        dst = np.float32([keys_b[m.trainIdx].pt for m in matches])
        cv2.setRNGSeed(0)
        _, mask = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=3.0)
        if mask is not None:
            inliers = mask.ravel().astype(bool)
    return KeypointMatch(keys_a, keys_b, matches, inliers)


def _rgb(image: np.ndarray) -> np.ndarray:
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[0] == 3 and array.shape[-1] != 3:
        array = np.transpose(array, (1, 2, 0))
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=2)
    return np.ascontiguousarray(array.astype(np.uint8))


def matching_panel(image_a: np.ndarray, image_b: np.ndarray, title: str = "", max_lines: int = 40) -> plt.Figure:
    """Both images side by side, joined by lines for (up to ``max_lines``) inlier matches."""
    result = match_keypoints(image_a, image_b)
    good = [m for m, keep in zip(result.matches, result.inliers, strict=True) if keep][:max_lines]
    canvas = cv2.drawMatches(
        _rgb(image_a), result.keypoints_a, _rgb(image_b), result.keypoints_b, good, None,
        matchColor=(255, 200, 0), flags=cv2.DrawMatchesFlags_NOT_DRAW_SINGLE_POINTS,
    )
    fig, ax = plt.subplots(figsize=(9, 9 * canvas.shape[0] / canvas.shape[1] + 0.5))
    ax.imshow(canvas)
    prefix = f"{title}: " if title else ""
    ax.set_title(f"{prefix}{len(result.matches)} matches, {result.n_inliers} agree on one transform")
    ax.axis("off")
    fig.tight_layout()
    return fig
