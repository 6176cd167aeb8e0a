"""Synthetic street-level scenes with COCO annotations, for segmentation and detection.

PASCAL VOC and MS COCO are too large to ship with the course, so lessons 13-16 train on
scenes generated here: Fashion-MNIST items (the *things*: countable objects with an
instance each) pasted, with their masks, on ground made of photographed textures (the
*stuff*: grass, gravel and brick regions from ``course_utils.load_photo``). Scenes have
several objects, occlusion, scale variation and clutter, and every scene comes with

- an RGB image (uint8, H x W x 3),
- a semantic label map (uint8, H x W; label ``k`` is ``class_names[k]``, category id ``k + 1``),
- an instance map (uint8, H x W; 0 where there is no object, ``j`` on the ``j``-th object
  of that image, in the order of its COCO annotations),
- COCO annotations: ``images``, ``annotations`` (``bbox`` as ``[x, y, w, h]``,
  ``segmentation`` as compressed RLE, ``area``, ``iscrowd``) and ``categories`` (things
  and stuff, each with ``isthing``), readable by ``pycocotools.coco.COCO``.

Generation is deterministic: scene ``i`` of a split depends only on ``(seed, split, i)``
and the configuration, so ``make_scenes(100)`` is the first 100 scenes of
``make_scenes(1000)``. Results are cached under ``course_utils.paths.cache_dir()``.

Main entry points: :func:`make_scenes` -> :class:`SceneSet`; :func:`export_coco`,
:func:`load_exported`, :func:`export_voc_segmentation`, :func:`load_coco`,
:func:`encode_masks`, :func:`colorize`.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from .datasets import load_images
from .paths import cache_dir
from .photos import load_photo

__all__ = [
    "SPLITS",
    "SceneConfig",
    "SceneSet",
    "colorize",
    "encode_masks",
    "export_coco",
    "export_voc_segmentation",
    "load_coco",
    "load_exported",
    "make_scenes",
    "palette",
]

_VERSION = 2  # part of the cache key: bump it whenever the generator changes
SPLITS = ("train", "val", "test")

# Stuff textures: a photo from course_utils.load_photo and a typical tint (RGB in [0, 1]).
_STUFF_TINTS = {
    "grass": (0.36, 0.56, 0.22),
    "gravel": (0.58, 0.54, 0.48),
    "brick": (0.66, 0.34, 0.26),
}
# Item sources: the data set and which of its labels are drawn, with short names.
_SOURCES = {
    "fashion_mnist": {
        "labels": (0, 1, 3, 7, 8, 9),
        "names": ("top", "trouser", "dress", "sneaker", "bag", "boot"),
        "supercategory": "clothing",
    },
    "mnist": {
        "labels": tuple(range(10)),
        "names": tuple(str(d) for d in range(10)),
        "supercategory": "digit",
    },
}


@dataclass(frozen=True)
class SceneConfig:
    """How scenes look. Every field changes the cache key.

    ``objects`` is the (min, max) number of things per scene, ``object_size`` the
    (min, max) length in pixels of an object's longer side (drawn log-uniformly),
    ``max_occlusion`` the largest fraction of an object that later objects may hide,
    ``clutter`` the most unlabelled blobs (pebbles, leaves) strewn on the ground,
    ``regions`` the (min, max) number of ground regions.
    """

    size: int = 64
    source: str = "fashion_mnist"
    thing_labels: tuple[int, ...] = (0, 1, 3, 7, 8, 9)
    thing_names: tuple[str, ...] = ("top", "trouser", "dress", "sneaker", "bag", "boot")
    stuff_names: tuple[str, ...] = ("grass", "gravel", "brick")
    objects: tuple[int, int] = (2, 5)
    object_size: tuple[int, int] = (14, 34)
    max_occlusion: float = 0.5
    clutter: int = 4
    regions: tuple[int, int] = (2, 3)
    noise: float = 0.03

    def __post_init__(self) -> None:
        if self.source not in _SOURCES:
            raise ValueError(f"source must be one of {sorted(_SOURCES)}, got {self.source!r}")
        if len(self.thing_labels) != len(self.thing_names) or not self.thing_labels:
            raise ValueError("thing_labels and thing_names must be non-empty and equally long")
        unknown = [s for s in self.stuff_names if s not in _STUFF_TINTS]
        if unknown or not self.stuff_names:
            raise ValueError(f"stuff_names must come from {sorted(_STUFF_TINTS)}, got {unknown}")
        if not 1 <= self.objects[0] <= self.objects[1]:
            raise ValueError(f"objects must be (min, max) with 1 <= min <= max, got {self.objects}")
        if not 4 <= self.object_size[0] <= self.object_size[1] <= self.size:
            raise ValueError(f"object_size must lie in [4, size], got {self.object_size}")
        if not 0.0 <= self.max_occlusion < 1.0:
            raise ValueError(f"max_occlusion must be in [0, 1), got {self.max_occlusion}")
        if not 1 <= self.regions[0] <= self.regions[1]:
            raise ValueError(f"regions must be (min, max) with 1 <= min <= max, got {self.regions}")

    @classmethod
    def for_source(cls, source: str, **changes: Any) -> SceneConfig:
        """The default configuration for another item source (``"mnist"`` digits, say)."""
        spec = _SOURCES[source]
        return cls(source=source, thing_labels=spec["labels"], thing_names=spec["names"], **changes)

    @property
    def class_names(self) -> tuple[str, ...]:
        """All semantic classes: the things first, then the stuff."""
        return tuple(self.thing_names) + tuple(self.stuff_names)

    def categories(self) -> list[dict[str, Any]]:
        """COCO categories: ids 1..T for things (``isthing=1``), then the stuff (``isthing=0``)."""
        supercategory = _SOURCES[self.source]["supercategory"]
        cats = []
        for k, name in enumerate(self.class_names):
            thing = k < len(self.thing_names)
            cats.append(
                {
                    "id": k + 1,
                    "name": name,
                    "supercategory": supercategory if thing else "ground",
                    "isthing": int(thing),
                }
            )
        return cats

    def key(self, split: str, seed: int, n: int) -> str:
        """A short hash of everything that determines the scenes (used as cache key)."""
        text = json.dumps(
            {"version": _VERSION, "config": asdict(self), "split": split, "seed": seed, "n": n},
            sort_keys=True,
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class SceneSet:
    """Generated scenes with their label maps and COCO annotations.

    ``images`` uint8 N x H x W x 3; ``semantic`` uint8 N x H x W (class index, see
    ``class_names``); ``instances`` uint8 N x H x W (0 = no object, j = the image's
    j-th annotation); ``coco`` the COCO instances dict (thing annotations);
    ``stuff`` the COCO-Stuff style dict (one annotation per stuff region class and image).
    Image ``i`` has COCO image id ``i + 1``.
    """

    images: np.ndarray
    semantic: np.ndarray
    instances: np.ndarray
    coco: dict[str, Any]
    stuff: dict[str, Any]
    config: SceneConfig
    split: str
    seed: int
    _by_image: list[list[dict[str, Any]]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        if not self._by_image:
            by_image: list[list[dict[str, Any]]] = [[] for _ in range(len(self.images))]
            for ann in self.coco["annotations"]:
                by_image[ann["image_id"] - 1].append(ann)
            self._by_image = by_image

    def __len__(self) -> int:
        return len(self.images)

    def __repr__(self) -> str:
        return (
            f"SceneSet(split={self.split!r}, n={len(self)}, size={self.config.size}, "
            f"things={list(self.thing_names)}, stuff={list(self.stuff_names)}, "
            f"objects={len(self.coco['annotations'])})"
        )

    # -- class bookkeeping -------------------------------------------------------------
    @property
    def class_names(self) -> tuple[str, ...]:
        """Semantic class names; label ``k`` in ``semantic`` is ``class_names[k]``."""
        return self.config.class_names

    @property
    def thing_names(self) -> tuple[str, ...]:
        return tuple(self.config.thing_names)

    @property
    def stuff_names(self) -> tuple[str, ...]:
        return tuple(self.config.stuff_names)

    @property
    def num_classes(self) -> int:
        """Number of semantic classes (things + stuff)."""
        return len(self.class_names)

    @property
    def num_things(self) -> int:
        return len(self.config.thing_names)

    @property
    def categories(self) -> list[dict[str, Any]]:
        """COCO categories (things and stuff, with ``isthing``); id = semantic label + 1."""
        return self.coco["categories"]

    # -- per-image access ------------------------------------------------------------
    def annotations(self, i: int) -> list[dict[str, Any]]:
        """The COCO annotations of image ``i`` (things only), in paste order."""
        return self._by_image[i]

    def boxes(self, i: int, fmt: str = "xyxy") -> np.ndarray:
        """Boxes of image ``i`` as float32 k x 4, ``"xyxy"`` (default), ``"xywh"`` or ``"cxcywh"``."""
        xywh = np.array([a["bbox"] for a in self._by_image[i]], dtype=np.float32).reshape(-1, 4)
        if fmt == "xywh":
            return xywh
        x, y, w, h = xywh.T
        if fmt == "xyxy":
            return np.stack([x, y, x + w, y + h], axis=1)
        if fmt == "cxcywh":
            return np.stack([x + w / 2, y + h / 2, w, h], axis=1)
        raise ValueError(f"fmt must be 'xyxy', 'xywh' or 'cxcywh', got {fmt!r}")

    def labels(self, i: int) -> np.ndarray:
        """COCO category ids (1..T, things) of image ``i``'s objects, int64."""
        return np.array([a["category_id"] for a in self._by_image[i]], dtype=np.int64)

    def masks(self, i: int) -> np.ndarray:
        """Visible masks of image ``i``'s objects, bool k x H x W (same order as ``boxes``)."""
        k = len(self._by_image[i])
        return self.instances[i][None] == np.arange(1, k + 1, dtype=np.uint8)[:, None, None]

    def target(self, i: int) -> dict[str, torch.Tensor]:
        """Image ``i``'s objects as torchvision detection models expect them.

        ``boxes`` float32 k x 4 (xyxy, pixels), ``labels`` int64 (category ids; 0 is free
        for the background), ``masks`` uint8 k x H x W, ``image_id``, ``area``, ``iscrowd``.
        """
        anns = self._by_image[i]
        return {
            "boxes": torch.from_numpy(self.boxes(i, "xyxy")),
            "labels": torch.from_numpy(self.labels(i)),
            "masks": torch.from_numpy(self.masks(i).astype(np.uint8)),
            "image_id": torch.tensor(i + 1),
            "area": torch.tensor([a["area"] for a in anns], dtype=torch.float32),
            "iscrowd": torch.zeros(len(anns), dtype=torch.int64),
        }

    def targets(self, indices: Sequence[int] | None = None) -> list[dict[str, torch.Tensor]]:
        """``target(i)`` for every ``i`` in ``indices`` (default: all images)."""
        return [self.target(i) for i in (range(len(self)) if indices is None else indices)]

    # -- whole-set tensors -----------------------------------------------------------
    def image_tensor(self, device: torch.device | str = "cpu") -> torch.Tensor:
        """All images as float32 N x 3 x H x W in [0, 1]."""
        x = torch.from_numpy(self.images).to(device)
        return x.permute(0, 3, 1, 2).float().div_(255).contiguous()

    def semantic_tensor(self, device: torch.device | str = "cpu") -> torch.Tensor:
        """All semantic label maps as int64 N x H x W."""
        return torch.from_numpy(self.semantic).to(device).long()

    def coco_api(self) -> COCO:
        """The instance annotations as a ``pycocotools.coco.COCO`` object (for ``COCOeval``)."""
        return load_coco(self.coco)

    def subset(self, indices: Sequence[int]) -> SceneSet:
        """The scenes ``indices`` as a new set, renumbered 1..len(indices) in COCO."""
        index = [int(i) for i in indices]
        return _assemble(
            self.images[index],
            self.semantic[index],
            self.instances[index],
            [self._by_image[i] for i in index],
            self.config,
            self.split,
            self.seed,
        )


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


# -- generation ----------------------------------------------------------------------
_SPLIT_CODE = {"train": 0, "val": 1, "test": 2}


@dataclass
class _Items:
    """Source items of one split: grey images, tight boxes and per-class pools."""

    images: np.ndarray  # N x 28 x 28 uint8
    boxes: np.ndarray  # N x 4: row0, row1, col0, col1 (exclusive ends)
    pools: list[np.ndarray]  # per thing class: indices into images

    def crop(self, j: int) -> tuple[np.ndarray, np.ndarray]:
        """Grey levels in [0, 1] and the mask of item ``j``, cropped to its box."""
        r0, r1, c0, c1 = self.boxes[j]
        grey = self.images[j, r0:r1, c0:c1]
        return grey.astype(np.float32) / 255.0, (grey > _ITEM_THRESHOLD).astype(np.float32)


_ITEM_THRESHOLD = 8


def _load_items(config: SceneConfig, split: str) -> _Items:
    data = load_images(config.source, train=split == "train")
    images = data.images[:, 0].numpy()
    labels = data.labels.numpy()
    if split != "train":  # val and test use disjoint halves of the test split
        half = len(images) // 2
        part = slice(0, half) if split == "val" else slice(half, None)
        images, labels = images[part], labels[part]
    mask = images > _ITEM_THRESHOLD
    rows, cols = mask.any(2), mask.any(1)
    boxes = np.stack(
        [
            rows.argmax(1),
            rows.shape[1] - rows[:, ::-1].argmax(1),
            cols.argmax(1),
            cols.shape[1] - cols[:, ::-1].argmax(1),
        ],
        axis=1,
    )
    usable = (boxes[:, 1] - boxes[:, 0] >= 3) & (boxes[:, 3] - boxes[:, 2] >= 3)
    pools = [np.flatnonzero((labels == label) & usable) for label in config.thing_labels]
    return _Items(images, boxes, pools)


def _textures(config: SceneConfig) -> list[np.ndarray]:
    return [load_photo(name).astype(np.float32) / 255.0 for name in config.stuff_names]


@functools.lru_cache(maxsize=8)
def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    yy.flags.writeable = xx.flags.writeable = False
    return yy, xx


def _smooth_noise(rng: np.random.Generator, size: int, cells: int = 4) -> np.ndarray:
    coarse = rng.standard_normal((cells, cells)).astype(np.float32)
    return cv2.resize(coarse, (size, size), interpolation=cv2.INTER_CUBIC)


def _ground(
    rng: np.random.Generator, config: SceneConfig, textures: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Stuff regions (perturbed Voronoi cells) filled with tinted photo textures."""
    size = config.size
    n_regions = int(rng.integers(config.regions[0], config.regions[1] + 1))
    seeds = rng.uniform(0, size, size=(n_regions, 2)).astype(np.float32)
    kinds = rng.integers(0, len(config.stuff_names), size=n_regions)
    yy, xx = _grid(size)
    dist = np.stack(
        [
            np.hypot(yy - sy, xx - sx) + 0.18 * size * _smooth_noise(rng, size)
            for sy, sx in seeds
        ]
    )
    region = kinds[dist.argmin(0)]
    rgb = np.empty((size, size, 3), dtype=np.float32)
    for s in np.unique(region):
        photo = textures[s]
        side = int(rng.integers(size, min(3 * size, photo.shape[0]) + 1))
        y0 = int(rng.integers(0, photo.shape[0] - side + 1))
        x0 = int(rng.integers(0, photo.shape[1] - side + 1))
        patch = cv2.resize(photo[y0 : y0 + side, x0 : x0 + side], (size, size), interpolation=cv2.INTER_AREA)
        tint = np.array(_STUFF_TINTS[config.stuff_names[s]], dtype=np.float32)
        tint = tint * rng.uniform(0.8, 1.2, size=3).astype(np.float32)
        layer = np.clip(tint * (0.35 + 1.3 * patch[..., None]), 0, 1)
        rgb[region == s] = layer[region == s]
    labels = (len(config.thing_names) + region).astype(np.uint8)
    return rgb, labels


def _clutter(rng: np.random.Generator, config: SceneConfig, rgb: np.ndarray) -> None:
    """Unlabelled pebbles and leaves: small blobs that belong to the ground they lie on."""
    for _ in range(int(rng.integers(0, config.clutter + 1))):
        blob = np.zeros(rgb.shape[:2], dtype=np.uint8)
        center = tuple(int(v) for v in rng.integers(0, config.size, size=2))
        axes = tuple(int(v) for v in rng.integers(1, max(2, config.size // 12) + 1, size=2))
        cv2.ellipse(blob, center, axes, float(rng.uniform(0, 180)), 0, 360, 1, -1)
        color = rng.uniform(0.1, 0.9, size=3).astype(np.float32)
        on = blob.astype(bool)
        rgb[on] = 0.25 * rgb[on] + 0.75 * color


def _random_color(rng: np.random.Generator) -> np.ndarray:
    """A saturated colour of random hue (float HSV in OpenCV: H in [0, 360), S and V in [0, 1])."""
    hsv = np.array(
        [[[rng.uniform(0, 360), rng.uniform(0.45, 1.0), rng.uniform(0.7, 1.0)]]], dtype=np.float32
    )
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0]


def _scene(
    rng: np.random.Generator, config: SceneConfig, items: _Items, textures: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[int]]:
    size = config.size
    rgb, semantic = _ground(rng, config, textures)
    _clutter(rng, config, rgb)
    instances = np.zeros((size, size), dtype=np.uint8)
    full_areas: list[int] = []
    classes: list[int] = []
    lo, hi = np.log(config.object_size[0]), np.log(config.object_size[1])
    for _ in range(int(rng.integers(config.objects[0], config.objects[1] + 1))):
        cls = int(rng.integers(0, len(config.thing_names)))
        pool = items.pools[cls]
        crop, mask = items.crop(int(pool[rng.integers(0, len(pool))]))
        long_side = float(np.exp(rng.uniform(lo, hi)))
        scale = long_side / max(crop.shape)
        h = max(3, round(crop.shape[0] * scale))
        w = max(3, round(crop.shape[1] * scale))
        crop = cv2.resize(crop, (w, h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        mask = cv2.resize(mask, (w, h), interpolation=cv2.INTER_LINEAR) > 0.5
        if rng.random() < 0.5:
            crop, mask = crop[:, ::-1], mask[:, ::-1]
        color = _random_color(rng)
        visible = np.bincount(instances.ravel(), minlength=len(full_areas) + 1)[1:]
        for _attempt in range(20):
            y0 = int(rng.integers(-(h // 4), size - h + h // 4 + 1))
            x0 = int(rng.integers(-(w // 4), size - w + w // 4 + 1))
            ys, xs = slice(max(y0, 0), min(y0 + h, size)), slice(max(x0, 0), min(x0 + w, size))
            sub = mask[ys.start - y0 : ys.stop - y0, xs.start - x0 : xs.stop - x0]
            placed = np.zeros((size, size), dtype=bool)
            placed[ys, xs] = sub
            area = int(placed.sum())
            if area < 0.6 * mask.sum() or area < 12:
                continue
            hidden = np.bincount(instances[placed], minlength=len(full_areas) + 1)[1:]
            if np.any(visible - hidden < (1 - config.max_occlusion) * np.array(full_areas, dtype=float)):
                continue
            shade = crop[ys.start - y0 : ys.stop - y0, xs.start - x0 : xs.stop - x0]
            look = color * (0.3 + 0.7 * shade[..., None])
            rgb[placed] = look[sub]
            instances[placed] = len(full_areas) + 1
            semantic[placed] = cls
            full_areas.append(area)
            classes.append(cls)
            break
    # Lighting: a gentle gradient and sensor noise.
    yy, xx = _grid(size)
    gy, gx = rng.uniform(-0.25, 0.25, size=2) / size
    rgb *= (1 + gy * (yy - size / 2) + gx * (xx - size / 2))[..., None]
    rgb += rng.normal(0, config.noise, size=rgb.shape).astype(np.float32)
    image = np.clip(np.round(rgb * 255), 0, 255).astype(np.uint8)
    # Objects hidden below the visibility limit cannot occur, but renumber defensively
    # so that instance j is the j-th annotation and empty ids are dropped.
    counts = np.bincount(instances.ravel(), minlength=len(classes) + 1)
    present = [k + 1 for k in range(len(classes)) if counts[k + 1] > 0]
    remap = np.zeros(len(classes) + 1, dtype=np.uint8)
    remap[present] = np.arange(1, len(present) + 1)
    instances = remap[instances]
    kept_classes = [classes[k - 1] for k in present]
    return image, semantic, instances, kept_classes


def _annotations_of(
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


def _stuff_annotations(semantic: np.ndarray, num_things: int, image_id: int, first_id: int) -> list[dict[str, Any]]:
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


def _coco_dict(config: SceneConfig, split: str, n: int, annotations: list[dict[str, Any]], what: str) -> dict[str, Any]:
    return {
        "info": {
            "description": f"course_utils.coco_scenes synthetic scenes ({what}), split {split}",
            "version": str(_VERSION),
            "year": 2024,
        },
        "licenses": [],
        "images": [
            {"id": i + 1, "file_name": f"{split}_{i:06d}.png", "height": config.size, "width": config.size}
            for i in range(n)
        ],
        "annotations": annotations,
        "categories": config.categories(),
    }


def _assemble(
    images: np.ndarray,
    semantic: np.ndarray,
    instances: np.ndarray,
    per_image: list[list[dict[str, Any]]],
    config: SceneConfig,
    split: str,
    seed: int,
) -> SceneSet:
    """Build a SceneSet, numbering images 1..N and annotations consecutively."""
    things, stuff, by_image = [], [], []
    for i, anns in enumerate(per_image):
        renumbered = [dict(a, id=len(things) + k + 1, image_id=i + 1) for k, a in enumerate(anns)]
        things.extend(renumbered)
        by_image.append(renumbered)
        stuff.extend(_stuff_annotations(semantic[i], len(config.thing_names), i + 1, len(stuff) + 1))
    return SceneSet(
        images=images,
        semantic=semantic,
        instances=instances,
        coco=_coco_dict(config, split, len(images), things, "things"),
        stuff=_coco_dict(config, split, len(images), stuff, "stuff"),
        config=config,
        split=split,
        seed=seed,
        _by_image=by_image,
    )


def _generate(n: int, split: str, seed: int, config: SceneConfig) -> SceneSet:
    items = _load_items(config, split)
    textures = _textures(config)
    size = config.size
    images = np.empty((n, size, size, 3), dtype=np.uint8)
    semantic = np.empty((n, size, size), dtype=np.uint8)
    instances = np.empty((n, size, size), dtype=np.uint8)
    per_image = []
    for i in range(n):
        rng = np.random.default_rng([seed, _SPLIT_CODE[split], i])
        images[i], semantic[i], instances[i], classes = _scene(rng, config, items, textures)
        per_image.append(_annotations_of(instances[i], classes, i + 1, 1))
    return _assemble(images, semantic, instances, per_image, config, split, seed)


def _cache_paths(key: str) -> tuple[Path, Path]:
    folder = cache_dir() / "coco_scenes"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{key}.npz", folder / f"{key}.json"


def make_scenes(
    n: int,
    split: str = "train",
    seed: int = 0,
    config: SceneConfig | None = None,
    cache: bool = True,
    **changes: Any,
) -> SceneSet:
    """Generate (or load from the cache) ``n`` scenes of ``split`` (``train``, ``val``, ``test``).

    Train scenes use items from the source's training split; ``val`` and ``test`` use
    disjoint halves of its test split, so no item is shared between train and evaluation.
    Keyword ``changes`` override fields of ``config`` (default :class:`SceneConfig`), for
    example ``make_scenes(500, size=96, objects=(1, 1))``. Raises
    ``course_utils.DatasetNotFoundError`` when the item data set is missing.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if n < 1:
        raise ValueError(f"n must be positive, got {n}")
    config = replace(config or SceneConfig(), **changes)
    key = config.key(split, seed, n)
    arrays_path, json_path = _cache_paths(key)
    if cache:
        try:
            with np.load(arrays_path) as arrays:
                images, semantic, instances = (arrays[k] for k in ("images", "semantic", "instances"))
            stored = json.loads(json_path.read_text())
            if stored.get("key") == key and len(images) == n:
                per_image: list[list[dict[str, Any]]] = [[] for _ in range(n)]
                for ann in stored["annotations"]:
                    per_image[ann["image_id"] - 1].append(ann)
                return _assemble(images, semantic, instances, per_image, config, split, seed)
        except (OSError, ValueError, KeyError):
            pass  # no cache yet, or a stale or damaged one: generate below
    scenes = _generate(n, split, seed, config)
    if cache:
        tmp = arrays_path.with_suffix(".tmp.npz")
        np.savez(tmp, images=scenes.images, semantic=scenes.semantic, instances=scenes.instances)
        tmp.replace(arrays_path)
        tmp_json = json_path.with_suffix(".tmp")
        tmp_json.write_text(json.dumps({"key": key, "annotations": scenes.coco["annotations"]}))
        tmp_json.replace(json_path)
    return scenes


# -- files on disk -----------------------------------------------------------------------
def _polygons(mask: np.ndarray) -> list[list[float]]:
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


def export_coco(scenes: SceneSet, folder: str | Path, segmentation: str = "rle") -> Path:
    """Write ``scenes`` in the COCO layout and return the instances JSON path.

    ``folder/images/<file_name>.png``, ``folder/annotations/instances_<split>.json``
    (things), ``folder/annotations/stuff_<split>.json`` (stuff regions) and
    ``folder/semantic/<file_name>.png`` (label maps). ``segmentation="polygon"`` stores
    object outlines as polygons (as COCO does for ``iscrowd=0``) instead of exact RLE.
    """
    if segmentation not in ("rle", "polygon"):
        raise ValueError(f"segmentation must be 'rle' or 'polygon', got {segmentation!r}")
    folder = Path(folder)
    for sub in ("images", "annotations", "semantic"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    for info, image, labels in zip(scenes.coco["images"], scenes.images, scenes.semantic, strict=True):
        cv2.imwrite(str(folder / "images" / info["file_name"]), image[..., ::-1])
        cv2.imwrite(str(folder / "semantic" / info["file_name"]), labels)
    instances = json.loads(json.dumps(scenes.coco))
    if segmentation == "polygon":
        for ann in instances["annotations"]:
            rle = dict(ann["segmentation"], counts=ann["segmentation"]["counts"].encode("ascii"))
            ann["segmentation"] = _polygons(mask_utils.decode(rle).astype(bool))
    path = folder / "annotations" / f"instances_{scenes.split}.json"
    path.write_text(json.dumps(instances))
    (folder / "annotations" / f"stuff_{scenes.split}.json").write_text(json.dumps(scenes.stuff))
    (folder / "annotations" / "config.json").write_text(
        json.dumps({"config": asdict(scenes.config), "split": scenes.split, "seed": scenes.seed})
    )
    return path


def load_exported(folder: str | Path, split: str = "train") -> SceneSet:
    """Read a folder written by :func:`export_coco` back into a :class:`SceneSet`.

    Instance maps are rebuilt from the annotations' masks (RLE or polygons), objects
    painted in annotation order.
    """
    folder = Path(folder)
    meta = json.loads((folder / "annotations" / "config.json").read_text())
    raw = meta["config"]
    config = SceneConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()})
    coco = load_coco(folder / "annotations" / f"instances_{split}.json")
    infos = sorted(coco.dataset["images"], key=lambda info: info["id"])
    n, size = len(infos), config.size
    images = np.empty((n, size, size, 3), dtype=np.uint8)
    semantic = np.empty((n, size, size), dtype=np.uint8)
    instances = np.zeros((n, size, size), dtype=np.uint8)
    per_image = []
    for i, info in enumerate(infos):
        images[i] = cv2.imread(str(folder / "images" / info["file_name"]), cv2.IMREAD_COLOR)[..., ::-1]
        semantic[i] = cv2.imread(str(folder / "semantic" / info["file_name"]), cv2.IMREAD_UNCHANGED)
        anns = sorted(coco.imgToAnns[info["id"]], key=lambda a: a["id"])
        for j, ann in enumerate(anns):
            instances[i][coco.annToMask(ann).astype(bool)] = j + 1
        per_image.append(anns)
    return _assemble(images, semantic, instances, per_image, config, split, int(meta["seed"]))


# The PASCAL VOC colour map: class k gets the bits of k spread over R, G and B.
def _voc_colormap(n: int = 256) -> np.ndarray:
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


def export_voc_segmentation(
    scenes: SceneSet, root: str | Path, image_set: str = "train", year: str = "2012"
) -> Path:
    """Write ``scenes`` in the PASCAL VOC segmentation layout under ``root/VOCdevkit/VOC<year>``.

    ``JPEGImages/<id>.jpg``, ``SegmentationClass/<id>.png`` (palette PNG, pixel value =
    class index, coloured with the VOC colour map) and ``ImageSets/Segmentation/<image_set>.txt``,
    so ``torchvision.datasets.VOCSegmentation(root, year, image_set)`` reads them.
    Returns the ``VOC<year>`` folder.
    """
    from PIL import Image

    base = Path(root) / "VOCdevkit" / f"VOC{year}"
    for sub in ("JPEGImages", "SegmentationClass", "ImageSets/Segmentation"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    colormap = _voc_colormap().ravel().tolist()
    names = []
    for i, (image, labels) in enumerate(zip(scenes.images, scenes.semantic, strict=True)):
        name = f"{scenes.split}_{i:06d}"
        names.append(name)
        Image.fromarray(image).save(base / "JPEGImages" / f"{name}.jpg", quality=95)
        label_image = Image.fromarray(labels).convert("P")  # L -> P keeps the values
        label_image.putpalette(colormap)
        label_image.save(base / "SegmentationClass" / f"{name}.png")
    (base / "ImageSets" / "Segmentation" / f"{image_set}.txt").write_text("\n".join(names) + "\n")
    return base
