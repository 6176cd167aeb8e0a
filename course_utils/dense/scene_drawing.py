"""Drawing one synthetic scene: textured ground (stuff), pasted items (things), clutter.

PASCAL VOC and MS COCO are too large to ship with the course, so lessons 13-16 train on
scenes drawn here: Fashion-MNIST items (the *things*: countable objects with an
instance each) pasted, with their masks, on ground made of photographed textures (the
*stuff*: grass, gravel and brick regions from ``course_utils.load_photo``). Scenes have
several objects, occlusion, scale variation and clutter. Scene ``i`` of a split depends
only on ``(seed, split, i)`` and the :class:`SceneConfig`.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

import cv2
import numpy as np

from ..core.datasets import load_images
from ..core.photos import load_photo
from .coco_format import thing_annotations

GENERATOR_VERSION = 2  # part of the cache key: bump it whenever the generator changes


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
    ``regions`` the (min, max) number of ground regions. ``item_pattern`` in [0, 1] paints
    each item with stripes or checks of a second colour, mixed in at that strength: 0 (the
    default) paints every item in one colour, so that colour alone separates it from the
    ground; patterned items need their shape to be found, as objects in photos do.
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
    item_pattern: float = 0.0

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
        if not 0.0 <= self.item_pattern <= 1.0:
            raise ValueError(f"item_pattern must be in [0, 1], got {self.item_pattern}")
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
            {"version": GENERATOR_VERSION, "config": asdict(self), "split": split, "seed": seed, "n": n},
            sort_keys=True,
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]


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
        return grey.astype(np.float32) / 255.0, (grey > ITEM_THRESHOLD).astype(np.float32)


ITEM_THRESHOLD = 8


def _load_items(config: SceneConfig, split: str) -> _Items:
    data = load_images(config.source, train=split == "train")
    images = data.images[:, 0].numpy()
    labels = data.labels.numpy()
    if split != "train":  # val and test use disjoint halves of the test split
        half = len(images) // 2
        part = slice(0, half) if split == "val" else slice(half, None)
        images, labels = images[part], labels[part]
    mask = images > ITEM_THRESHOLD
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


def _pattern(rng: np.random.Generator, size: int, strength: float) -> np.ndarray:
    """Per-pixel weight in [0, strength] of an item's second colour: stripes or checks."""
    yy, xx = _grid(size)
    period = rng.uniform(3.0, 8.0)
    angle = rng.uniform(0, np.pi)
    along = np.cos(angle) * xx + np.sin(angle) * yy
    weight = np.sin(2 * np.pi * along / period) > 0
    if rng.random() < 0.5:  # checks: a second set of stripes at a right angle
        across = -np.sin(angle) * xx + np.cos(angle) * yy
        weight = weight ^ (np.sin(2 * np.pi * across / period) > 0)
    return strength * weight.astype(np.float32)


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
        if config.item_pattern > 0:  # no extra random draws otherwise: plain scenes stay as they were
            second = _random_color(rng)
            weight = _pattern(rng, size, config.item_pattern)[..., None]
            color = (1 - weight) * color + weight * second  # size x size x 3
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
            paint = color[ys, xs] if color.ndim == 3 else color
            look = paint * (0.3 + 0.7 * shade[..., None])
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


def draw_scenes(
    n: int, split: str, seed: int, config: SceneConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[list[dict[str, Any]]]]:
    """Scenes ``0..n-1`` of ``split``: images, semantic maps, instance maps, COCO annotations."""
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
        per_image.append(thing_annotations(instances[i], classes, i + 1, 1))
    return images, semantic, instances, per_image
