"""Prompts for the promptable segmenter: clicks and boxes as padded point sets.

:func:`point_prompt`, :func:`box_prompt`, :func:`sample_prompts` (training prompts drawn
from instance maps), :func:`corrective_clicks` (a batch of them),
:func:`center_click`, :func:`corrective_click`, :func:`draw_prompt`.

Coordinates are continuous pixel coordinates ``(x, y)`` with the image's top-left corner
at ``(0, 0)``, so pixel ``(col, row)`` has its centre at ``(col + 0.5, row + 0.5)``.
Point labels: ``1`` positive click, ``0`` negative click, ``2`` / ``3`` the top-left /
bottom-right corner of a box, ``-1`` an empty slot (padding).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import matplotlib.pyplot as plt
import numpy as np
import torch

PAD, NEGATIVE, POSITIVE, BOX_TL, BOX_BR = -1, 0, 1, 2, 3


# -- prompts -------------------------------------------------------------------------
@dataclass
class Prompts:
    """A batch of prompts: which image, the prompt points and labels, and the target mask."""

    image_index: torch.Tensor  # P, int64
    points: torch.Tensor  # P x K x 2, float (x, y) in pixels
    labels: torch.Tensor  # P x K, int64 (see the module docstring)
    targets: torch.Tensor  # P x H x W, bool

    def __len__(self) -> int:
        return len(self.image_index)


def point_prompt(x: float, y: float, slots: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    """One positive click at pixel ``(x, y)`` (its centre), as points 1 x K x 2 and labels 1 x K."""
    points = torch.zeros(1, slots, 2)
    labels = torch.full((1, slots), PAD)
    points[0, 0] = torch.tensor([x + 0.5, y + 0.5])
    labels[0, 0] = POSITIVE
    return points, labels


def box_prompt(box: Sequence[float], slots: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    """A box ``(x1, y1, x2, y2)`` in pixels as two corner points (labels 2 and 3)."""
    points = torch.zeros(1, slots, 2)
    labels = torch.full((1, slots), PAD)
    points[0, 0], points[0, 1] = torch.tensor(box[:2], dtype=torch.float32), torch.tensor(box[2:], dtype=torch.float32)
    labels[0, 0], labels[0, 1] = BOX_TL, BOX_BR
    return points, labels


def _random_pixel(masks: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """One uniformly drawn pixel centre (x, y) inside each mask (P x H x W, all non-empty)."""
    w = masks.shape[-1]
    weights = masks.flatten(1).float()
    if generator is not None and generator.device != weights.device:
        weights = weights.to(generator.device)  # draw where the generator lives (a CPU one, say)
    flat = torch.multinomial(weights, 1, generator=generator)[:, 0].to(masks.device)
    return torch.stack([flat % w, flat // w], dim=1).float() + 0.5


def _boxes_of(masks: torch.Tensor) -> torch.Tensor:
    """Tight boxes (x1, y1, x2, y2), pixel-corner coordinates, of P non-empty masks."""
    h, w = masks.shape[-2:]
    rows, cols = masks.any(2), masks.any(1)
    ar_h, ar_w = torch.arange(h, device=masks.device), torch.arange(w, device=masks.device)
    y1 = torch.where(rows, ar_h, h).amin(1)
    y2 = torch.where(rows, ar_h, -1).amax(1) + 1
    x1 = torch.where(cols, ar_w, w).amin(1)
    x2 = torch.where(cols, ar_w, -1).amax(1) + 1
    return torch.stack([x1, y1, x2, y2], dim=1).float()


def sample_prompts(
    instances: torch.Tensor,
    counts: torch.Tensor,
    per_image: int = 4,
    box_fraction: float = 0.25,
    two_point_fraction: float = 0.25,
    box_noise: float = 0.1,
    generator: torch.Generator | None = None,
) -> Prompts:
    """Draw ``per_image`` prompts on each of N images.

    ``instances`` N x H x W (0 = no object, j = object j), ``counts`` N objects per image
    (at least 1). Each prompt picks an object at random; its target is that object's mask.
    The prompt is a box around it (fraction ``box_fraction``, corners moved by Gaussian
    noise of ``box_noise`` x the box side), one positive click inside it and a second
    click (fraction ``two_point_fraction``: half positive inside, half negative outside),
    or else one positive click. Slots not used are padding (label -1).
    """
    device = instances.device
    n, h, w = instances.shape
    image_index = torch.arange(n, device=device).repeat_interleave(per_image)
    p = len(image_index)
    pick = torch.rand(p, generator=generator).to(device)
    object_id = 1 + (pick * counts[image_index].float()).long().clamp(max=counts[image_index] - 1)
    targets = instances[image_index] == object_id[:, None, None].to(instances.dtype)
    points = torch.zeros(p, 2, 2, device=device)
    labels = torch.full((p, 2), PAD, dtype=torch.long, device=device)
    points[:, 0] = _random_pixel(targets, generator).to(device)
    labels[:, 0] = POSITIVE
    kind = torch.rand(p, generator=generator).to(device)
    is_box = kind < box_fraction
    two = (kind >= box_fraction) & (kind < box_fraction + two_point_fraction)
    negative = two & (torch.rand(p, generator=generator).to(device) < 0.5)
    if two.any():
        second_region = torch.where(negative[:, None, None], ~targets, targets)
        points[:, 1] = torch.where(two[:, None], _random_pixel(second_region | ~two[:, None, None], generator).to(device),
                                   points[:, 1])
        labels[:, 1] = torch.where(negative, NEGATIVE, torch.where(two, POSITIVE, PAD))
    if is_box.any():
        boxes = _boxes_of(targets)
        side = torch.cat([boxes[:, 2:] - boxes[:, :2]] * 2, dim=1)
        noise = torch.randn(p, 4, generator=generator).to(device) * box_noise * side
        boxes = (boxes + noise).clamp(0, float(max(h, w)))
        corners = boxes.reshape(p, 2, 2)
        points = torch.where(is_box[:, None, None], corners, points)
        labels = torch.where(is_box[:, None], torch.tensor([BOX_TL, BOX_BR], device=device), labels)
    return Prompts(image_index, points, labels, targets)


def corrective_clicks(predicted: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`corrective_click` for a batch: P x H x W boolean masks -> points P x 2, labels P.

    Points are pixel centres; label -1 (padding) where a mask has no error. Training
    uses it to simulate the same user that the evaluation simulates.
    """
    points = torch.zeros(len(predicted), 2)
    labels = torch.full((len(predicted),), PAD, dtype=torch.long)
    for k, (pred, target) in enumerate(zip(predicted.cpu().numpy(), targets.cpu().numpy(), strict=True)):
        x, y, label = corrective_click(pred, target)
        if label != PAD:
            points[k] = torch.tensor([x + 0.5, y + 0.5])
            labels[k] = label
    return points.to(predicted.device), labels.to(predicted.device)


def center_click(mask: np.ndarray) -> tuple[int, int]:
    """The pixel ``(x, y)`` of a mask farthest from its boundary (ties: first in row-major order)."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        raise ValueError("the mask is empty")
    distance = cv2.distanceTransform(np.pad(mask, 1).astype(np.uint8), cv2.DIST_L2, 5)[1:-1, 1:-1]
    row, col = np.unravel_index(int(np.argmax(distance)), mask.shape)
    return int(col), int(row)


def corrective_click(pred: np.ndarray, target: np.ndarray) -> tuple[int, int, int]:
    """The next click of an interactive user: ``(x, y, label)``.

    The click goes to the centre of the largest error (the error pixel farthest from the
    error region's boundary): positive where the object was missed, negative where the
    mask spills over. Returns label -1 when there is no error.
    """
    pred, target = np.asarray(pred, dtype=bool), np.asarray(target, dtype=bool)
    missed, spilled = target & ~pred, pred & ~target
    best = (-1.0, 0, 0, PAD)
    for region, label in ((missed, POSITIVE), (spilled, NEGATIVE)):
        if region.any():
            d = cv2.distanceTransform(np.pad(region, 1).astype(np.uint8), cv2.DIST_L2, 5)[1:-1, 1:-1]
            row, col = np.unravel_index(int(np.argmax(d)), region.shape)
            if d[row, col] > best[0]:
                best = (float(d[row, col]), int(col), int(row), label)
    return best[1], best[2], best[3]


def draw_prompt(ax: plt.Axes, points: np.ndarray, labels: np.ndarray) -> None:
    points, labels = points.reshape(-1, 2), labels.reshape(-1)
    for (x, y), label in zip(points, labels, strict=True):
        if label in (POSITIVE, NEGATIVE):  # pixel coordinates -> imshow coordinates (centres at integers)
            ax.plot(x - 0.5, y - 0.5, marker="*", markersize=13, markeredgecolor="white",
                    color="lime" if label == POSITIVE else "red")
    corners = points[(labels == BOX_TL) | (labels == BOX_BR)]
    if len(corners) == 2:
        (x1, y1), (x2, y2) = corners
        ax.add_patch(plt.Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False, color="lime", lw=1.5))
