"""Generated scenes on disk: the COCO folder layout and PASCAL VOC's segmentation layout."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from pycocotools import mask as mask_utils

from .coco_format import load_coco, mask_polygons, voc_colormap
from .scene_drawing import SceneConfig
from .scene_sets import SceneSet, assemble_scene_set


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
            ann["segmentation"] = mask_polygons(mask_utils.decode(rle).astype(bool))
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
    return assemble_scene_set(images, semantic, instances, per_image, config, split, int(meta["seed"]))


def export_voc_segmentation(
    scenes: SceneSet, root: str | Path, image_set: str = "train", year: str = "2012"
) -> Path:
    """Write ``scenes`` in the PASCAL VOC segmentation layout under ``root/VOCdevkit/VOC<year>``.

    ``JPEGImages/<id>.jpg``, ``SegmentationClass/<id>.png`` (palette PNG, pixel value =
    class index, coloured with the VOC colour map) and ``ImageSets/Segmentation/<image_set>.txt``,
    so ``torchvision.datasets.VOCSegmentation(root, year, image_set)`` reads them.
    Returns the ``VOC<year>`` folder.
    """
    base = Path(root) / "VOCdevkit" / f"VOC{year}"
    for sub in ("JPEGImages", "SegmentationClass", "ImageSets/Segmentation"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    colormap = voc_colormap().ravel().tolist()
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
