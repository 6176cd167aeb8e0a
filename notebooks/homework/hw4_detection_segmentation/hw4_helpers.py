"""Helpers for homework 4 (provided by the course; do not change this file).

- ``check_array``, ``check_choice``, ``check_raises`` and ``check_scalar``: what the test
  cells use (from the course's ``checks.py``); a failing check says what was expected and
  what came back.
- ``box_iou`` and ``transposed_conv2d``: building blocks you may use in your answers.
- ``random_boxes``, ``detection_scenes`` and ``panoptic_scene``: small synthetic data,
  the same every time (seeded), to try your functions on.
- ``show_boxes`` and ``show_panoptic``: to look at boxes and segmentations.
"""

from __future__ import annotations

import os

import numpy as np

try:  # a released assignment: checks.py is shipped beside this file
    from checks import check_array, check_choice, check_raises, check_scalar
except ModuleNotFoundError:  # the instructor's source folder, inside the course
    from course_utils.grading.checks import check_array, check_choice, check_raises, check_scalar

__all__ = [
    "box_iou",
    "check_array",
    "check_choice",
    "check_raises",
    "check_scalar",
    "detection_scenes",
    "panoptic_scene",
    "random_boxes",
    "show_boxes",
    "show_panoptic",
    "transposed_conv2d",
]

GRADING_ENV = "COURSE_GRADING"  # set while the homework is graded: figures are skipped


def box_iou(a, b) -> np.ndarray:  # noqa: ANN001 - array-likes
    """Pairwise IoU of xyxy boxes ``a`` (N, 4) and ``b`` (M, 4): an (N, M) float64 array."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    left, right = np.maximum(a[:, None, 0], b[None, :, 0]), np.minimum(a[:, None, 2], b[None, :, 2])
    top, bottom = np.maximum(a[:, None, 1], b[None, :, 1]), np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(right - left, 0, None) * np.clip(bottom - top, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / (area_a[:, None] + area_b[None, :] - inter)


def transposed_conv2d(x, kernel, stride: int = 1, padding: int = 0) -> np.ndarray:  # noqa: ANN001
    """Lesson 13's transposed convolution of a 2-D array with a square kernel, in NumPy.

    ``z[s*i + u, s*j + v] += x[i, j] * kernel[u, v]`` on a zero array of shape
    ((h-1)s + k, (w-1)s + k), then ``padding`` rows and columns cropped from every side.
    """
    x = np.asarray(x, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    (h, w), k = x.shape, kernel.shape[0]
    z = np.zeros(((h - 1) * stride + k, (w - 1) * stride + k))
    for i in range(h):
        for j in range(w):
            z[stride * i : stride * i + k, stride * j : stride * j + k] += x[i, j] * kernel
    return z[padding : z.shape[0] - padding, padding : z.shape[1] - padding]


def random_boxes(n: int, seed: int, size: float = 100.0) -> np.ndarray:
    """``n`` random boxes (x1, y1, x2, y2) inside a ``size`` x ``size`` image, float64."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 0.8 * size, (n, 2))
    wh = rng.uniform(0.05 * size, 0.4 * size, (n, 2))
    return np.concatenate([xy, np.minimum(xy + wh, size)], axis=1)


def detection_scenes(n_images: int = 6, seed: int = 0) -> list[dict[str, np.ndarray]]:
    """Synthetic images of one class with the output of a simulated detector.

    Each item has ``true_boxes`` (k x 4), ``difficult`` (k,) booleans (objects marked
    "difficult", as in PASCAL VOC), and the detector's ``boxes`` (d x 4) and ``scores``
    (d,): most objects are found with some position error, some twice, a few missed,
    plus a few false alarms with lower scores.
    """
    rng = np.random.default_rng(seed)
    scenes = []
    for _ in range(n_images):
        truth = random_boxes(int(rng.integers(1, 5)), int(rng.integers(1 << 30)))
        boxes, scores = [], []
        for box in truth:
            if rng.random() < 0.8:
                w, h = box[2] - box[0], box[3] - box[1]
                noisy = box + rng.normal(0, 0.1, 4) * np.array([w, h, w, h])
                boxes.append(noisy)
                scores.append(float(np.clip(rng.normal(0.75, 0.12), 0.05, 0.99)))
                if rng.random() < 0.3:  # a duplicate of the same object
                    boxes.append(noisy + rng.normal(0, 2.0, 4))
                    scores.append(scores[-1] * float(rng.uniform(0.4, 0.9)))
        for _ in range(int(rng.poisson(1.0))):  # false alarms
            boxes.append(random_boxes(1, int(rng.integers(1 << 30)))[0])
            scores.append(float(rng.uniform(0.05, 0.7)))
        boxes_array = np.array(boxes, dtype=np.float64).reshape(-1, 4)
        boxes_array[:, 2:] = np.maximum(boxes_array[:, 2:], boxes_array[:, :2] + 1.0)
        difficult = rng.random(len(truth)) < 0.25
        scenes.append({"true_boxes": truth, "difficult": difficult, "boxes": boxes_array, "scores": np.array(scores)})
    return scenes


def _disc(height: int, width: int, cy: float, cx: float, r: float) -> np.ndarray:
    yy, xx = np.mgrid[:height, :width]
    return (yy - cy) ** 2 + (xx - cx) ** 2 <= r**2


def panoptic_scene(seed: int = 0, size: int = 48, void: bool = False) -> dict[str, np.ndarray]:
    """A synthetic panoptic truth and an imperfect prediction of it.

    Classes: 0 sky and 1 grass ("stuff", instance id 0), 2 ball and 3 box ("things",
    instance ids 1, 2, ...). Returns ``true_class``, ``true_instance``, ``pred_class``
    and ``pred_instance``, each an (size, size) int64 map. With ``void``, the truth's
    object borders (pixels of an object next to a pixel of another segment) are
    unlabelled: class 255, instance 0.
    """
    rng = np.random.default_rng(seed)
    cls = np.zeros((size, size), dtype=np.int64)
    horizon = int(rng.integers(size // 3, size // 2))
    cls[horizon:] = 1
    inst = np.zeros_like(cls)
    next_id = 1
    for _ in range(int(rng.integers(2, 5))):
        cy, cx = rng.uniform(0.2 * size, 0.8 * size, 2)
        r = rng.uniform(0.06 * size, 0.14 * size)
        if rng.random() < 0.5:
            mask = _disc(size, size, cy, cx, r)
            cls[mask], inst[mask] = 2, next_id
        else:
            y0, x0 = int(cy - r), int(cx - r)
            cls[y0 : int(cy + r), x0 : int(cx + r)] = 3
            inst[y0 : int(cy + r), x0 : int(cx + r)] = next_id
        next_id += 1
    if void:
        segment = cls * 1000 + inst
        padded = np.pad(segment, 1, mode="edge")
        border = np.zeros_like(segment, dtype=bool)
        for dy, dx in ((0, 1), (2, 1), (1, 0), (1, 2)):
            border |= padded[dy : dy + size, dx : dx + size] != segment
        true_cls, true_inst = cls.copy(), inst.copy()
        true_cls[border & (inst > 0)], true_inst[border & (inst > 0)] = 255, 0
    dy, dx = (int(v) for v in rng.integers(-2, 3, 2))  # a slightly misplaced prediction
    rows = np.clip(np.arange(size) - dy, 0, size - 1)
    cols = np.clip(np.arange(size) - dx, 0, size - 1)
    pred_cls, pred_inst = cls[np.ix_(rows, cols)], inst[np.ix_(rows, cols)]
    if next_id > 2:  # one object labelled with the wrong class
        wrong = pred_inst == 1
        pred_cls[wrong] = 5 - pred_cls[wrong]
    mask = _disc(size, size, *rng.uniform(0.1 * size, 0.9 * size, 2), 0.08 * size)
    pred_cls[mask], pred_inst[mask] = 2, next_id  # a false alarm
    if void:
        cls, inst = true_cls, true_inst
    return {"true_class": cls, "true_instance": inst, "pred_class": pred_cls, "pred_instance": pred_inst}


def show_boxes(boxes_list, titles=None, size: float = 100.0, scores_list=None) -> None:
    """Draw lists of xyxy boxes in separate panels (scores, if given, as labels)."""
    if os.environ.get(GRADING_ENV):
        return
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    titles = list(titles) if titles is not None else [""] * len(boxes_list)
    fig, axes = plt.subplots(1, len(boxes_list), figsize=(3.4 * len(boxes_list), 3.4), squeeze=False)
    for k, (ax, boxes, title) in enumerate(zip(axes[0], boxes_list, titles, strict=True)):
        for n, (x1, y1, x2, y2) in enumerate(np.asarray(boxes).reshape(-1, 4)):
            color = plt.cm.tab10(n % 10)
            ax.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, color=color, lw=1.5))
            if scores_list is not None:
                ax.text(x1, y1, f"{scores_list[k][n]:.2f}", color=color, fontsize=7, va="bottom")
        ax.set(xlim=(0, size), ylim=(size, 0), title=title, aspect="equal")
    fig.tight_layout()
    plt.show()


def show_panoptic(maps, titles=None) -> None:
    """Show (class map, instance map) pairs as colour images: one colour per segment."""
    if os.environ.get(GRADING_ENV):
        return
    import matplotlib.pyplot as plt

    titles = list(titles) if titles is not None else [""] * len(maps)
    fig, axes = plt.subplots(1, len(maps), figsize=(3.2 * len(maps), 3.2), squeeze=False)
    for ax, (classes, instances), title in zip(axes[0], maps, titles, strict=True):
        ax.imshow(np.asarray(classes) * 7 + np.asarray(instances), cmap="tab20", interpolation="nearest",
                  vmin=0, vmax=40)  # fmt: skip
        ax.set_title(title)
        ax.axis("off")
    fig.tight_layout()
    plt.show()
