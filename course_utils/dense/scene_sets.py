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
``make_scenes(1000)``. Results are cached under ``course_utils.core.paths.cache_dir()``.

Main entry points: :func:`make_scenes` -> :class:`SceneSet`; :func:`export_coco`,
:func:`load_exported` and :func:`export_voc_segmentation` (in ``scene_files``);
:func:`load_coco`, :func:`encode_masks`, :func:`colorize` (in ``coco_format``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pycocotools.coco import COCO

from ..core.paths import cache_dir
from .coco_format import load_coco, stuff_annotations
from .scene_drawing import GENERATOR_VERSION, SceneConfig, draw_scenes

SPLITS = ("train", "val", "test")


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
        return assemble_scene_set(
            self.images[index],
            self.semantic[index],
            self.instances[index],
            [self._by_image[i] for i in index],
            self.config,
            self.split,
            self.seed,
        )


def _coco_dict(config: SceneConfig, split: str, n: int, annotations: list[dict[str, Any]], what: str) -> dict[str, Any]:
    return {
        "info": {
            "description": f"course_utils.coco_scenes synthetic scenes ({what}), split {split}",
            "version": str(GENERATOR_VERSION),
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


def assemble_scene_set(
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
        stuff.extend(stuff_annotations(semantic[i], len(config.thing_names), i + 1, len(stuff) + 1))
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
    images, semantic, instances, per_image = draw_scenes(n, split, seed, config)
    return assemble_scene_set(images, semantic, instances, per_image, config, split, seed)


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
                return assemble_scene_set(images, semantic, instances, per_image, config, split, seed)
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
