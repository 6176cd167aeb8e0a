import json
import os

import numpy as np
import pytest
import torch
from pycocotools import mask as mask_utils
from pycocotools.cocoeval import COCOeval

from course_utils.core import datasets
from course_utils.core.datasets import DatasetNotFoundError, ImageSet
from course_utils.dense import scene_drawing, scene_sets
from course_utils.dense.coco_format import colorize, encode_masks, load_coco, palette
from course_utils.dense.scene_drawing import SceneConfig
from course_utils.dense.scene_files import export_coco, export_voc_segmentation, load_exported
from course_utils.dense.scene_sets import make_scenes

MIRROR = os.environ.get("COURSE_DATASETS_DIR")
needs_mirror = pytest.mark.skipif(
    not MIRROR, reason="set COURSE_DATASETS_DIR to a dataset folder to run this test"
)


def _fake_items(name: str, train: bool = True) -> ImageSet:
    """A stand-in for Fashion-MNIST: filled ellipses of 10 labels, 28 x 28."""
    rng = np.random.default_rng(0 if train else 1)
    n = 200
    images = np.zeros((n, 1, 28, 28), dtype=np.uint8)
    yy, xx = np.mgrid[0:28, 0:28]
    for i in range(n):
        cy, cx = rng.uniform(10, 18, size=2)
        ry, rx = rng.uniform(4, 12, size=2)
        inside = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
        images[i, 0][inside] = rng.integers(60, 255)
    labels = np.arange(n) % 10
    return ImageSet(name, "train" if train else "test", torch.from_numpy(images),
                    torch.from_numpy(labels), tuple(str(k) for k in range(10)), "fake")


@pytest.fixture
def fake_source(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(scene_drawing, "load_images", _fake_items)


def test_scenes_have_consistent_maps_and_annotations(fake_source):
    scenes = make_scenes(12, split="train", seed=3)
    assert scenes.images.shape == (12, 64, 64, 3) and scenes.images.dtype == np.uint8
    assert scenes.semantic.shape == scenes.instances.shape == (12, 64, 64)
    assert scenes.num_classes == 9 and scenes.num_things == 6
    for i in range(len(scenes)):
        anns = scenes.annotations(i)
        assert 1 <= len(anns) <= 5
        masks = scenes.masks(i)
        for ann, mask in zip(anns, masks, strict=True):
            # the RLE, the area, the box and the label map all describe the same pixels
            rle = dict(ann["segmentation"], counts=ann["segmentation"]["counts"].encode())
            assert np.array_equal(mask_utils.decode(rle).astype(bool), mask)
            assert ann["area"] == mask.sum()
            ys, xs = np.nonzero(mask)
            assert ann["bbox"] == [xs.min(), ys.min(), xs.max() + 1 - xs.min(), ys.max() + 1 - ys.min()]
            assert np.all(scenes.semantic[i][mask] == ann["category_id"] - 1)
        things = scenes.instances[i] > 0
        assert np.all(scenes.semantic[i][~things] >= scenes.num_things)  # stuff elsewhere


def test_generation_is_deterministic_prefix_stable_and_cached(fake_source):
    a = make_scenes(10, split="val", seed=1)
    b = make_scenes(10, split="val", seed=1, cache=False)
    c = make_scenes(4, split="val", seed=1, cache=False)
    d = make_scenes(4, split="val", seed=2, cache=False)
    assert np.array_equal(a.images, b.images) and a.coco == b.coco
    assert np.array_equal(a.images[:4], c.images)
    assert not np.array_equal(c.images, d.images)
    assert len(list((scene_sets.cache_dir() / "coco_scenes").glob("*.npz"))) == 1


def test_config_changes_go_through_keywords_and_are_checked(fake_source):
    scenes = make_scenes(3, size=96, objects=(1, 1), object_size=(20, 40))
    assert scenes.images.shape[1:3] == (96, 96)
    assert all(len(scenes.annotations(i)) == 1 for i in range(3))
    with pytest.raises(ValueError, match="split"):
        make_scenes(3, split="holdout")
    with pytest.raises(ValueError, match="stuff_names"):
        SceneConfig(stuff_names=("lava",))
    with pytest.raises(ValueError, match="object_size"):
        SceneConfig(size=32, object_size=(10, 40))


def _mean_colour_spread(scenes) -> float:
    """Average over objects of the per-channel standard deviation of their pixels' colours."""
    spreads = [scenes.images[i][mask].std(0).mean() for i in range(len(scenes)) for mask in scenes.masks(i)]
    return float(np.mean(spreads))


def test_patterned_items_have_two_colours(fake_source):
    plain = make_scenes(8, seed=5, cache=False)
    patterned = make_scenes(8, seed=5, cache=False, item_pattern=1.0)
    # the fake items are flat ellipses: plain ones are one colour plus noise, patterned ones two
    assert _mean_colour_spread(patterned) > 2 * _mean_colour_spread(plain)
    assert patterned.images.shape == plain.images.shape
    with pytest.raises(ValueError, match="item_pattern"):
        SceneConfig(item_pattern=1.5)


def test_coco_tools_read_the_annotations(fake_source):
    scenes = make_scenes(8, split="test")
    coco = scenes.coco_api()
    assert sorted(coco.getImgIds()) == list(range(1, 9))
    cats = {c["name"]: c for c in coco.loadCats(coco.getCatIds())}
    assert cats["top"]["isthing"] == 1 and cats["grass"]["isthing"] == 0
    # the ground truth scored against itself is perfect
    results = [
        {"image_id": a["image_id"], "category_id": a["category_id"], "bbox": a["bbox"], "score": 1.0}
        for a in scenes.coco["annotations"]
    ]
    evaluator = COCOeval(coco, coco.loadRes(results), "bbox")
    evaluator.evaluate()
    evaluator.accumulate()
    evaluator.summarize()
    assert evaluator.stats[0] == pytest.approx(1.0)
    stuff = load_coco(scenes.stuff)
    assert all(c["isthing"] == 0 for c in stuff.loadCats([a["category_id"] for a in scenes.stuff["annotations"]]))


def test_targets_and_tensors_have_torchvision_shapes(fake_source):
    scenes = make_scenes(5)
    target = scenes.target(0)
    k = len(scenes.annotations(0))
    assert target["boxes"].shape == (k, 4) and target["boxes"].dtype == torch.float32
    assert target["labels"].dtype == torch.int64 and target["labels"].min() >= 1
    assert target["masks"].shape == (k, 64, 64)
    assert torch.all(target["boxes"][:, 2:] > target["boxes"][:, :2])
    x = scenes.image_tensor()
    assert x.shape == (5, 3, 64, 64) and 0 <= x.min() and x.max() <= 1
    assert scenes.semantic_tensor().dtype == torch.int64
    np.testing.assert_allclose(scenes.boxes(0, "cxcywh")[:, 2:], scenes.boxes(0, "xywh")[:, 2:])
    sub = scenes.subset([3, 1])
    assert np.array_equal(sub.images[0], scenes.images[3])
    assert [a["image_id"] for a in sub.coco["annotations"]][:1] == [1]
    assert sub.labels(1).tolist() == scenes.labels(1).tolist()


def test_export_and_load_round_trip(fake_source, tmp_path):
    scenes = make_scenes(4, split="val")
    path = export_coco(scenes, tmp_path / "coco")
    assert json.loads(path.read_text())["annotations"][0]["bbox"] == scenes.coco["annotations"][0]["bbox"]
    back = load_exported(tmp_path / "coco", split="val")
    assert np.array_equal(back.images, scenes.images)
    assert np.array_equal(back.semantic, scenes.semantic)
    assert np.array_equal(back.instances, scenes.instances)
    poly = export_coco(scenes, tmp_path / "poly", segmentation="polygon")
    coco = load_coco(poly)
    ann = coco.dataset["annotations"][0]
    assert isinstance(ann["segmentation"], list)
    overlap = (coco.annToMask(ann).astype(bool) & scenes.masks(0)[0]).sum()
    assert overlap >= 0.7 * ann["area"]


def test_voc_export_is_read_by_torchvision(fake_source, tmp_path):
    from torchvision.datasets import VOCSegmentation

    scenes = make_scenes(3)
    export_voc_segmentation(scenes, tmp_path)
    voc = VOCSegmentation(str(tmp_path), year="2012", image_set="train", download=False)
    image, target = voc[1]
    assert image.size == (64, 64) and target.mode == "P"
    assert np.array_equal(np.asarray(target), scenes.semantic[1])


def test_masks_palette_and_colorize():
    masks = np.zeros((2, 5, 6), dtype=bool)
    masks[0, 1:3, 2:5] = True
    rles = encode_masks(masks)
    assert isinstance(rles[0]["counts"], str) and rles[0]["size"] == [5, 6]
    assert encode_masks(np.zeros((0, 5, 6), dtype=bool)) == []
    colors = palette(9, 6)
    assert colors.shape == (9, 3) and len({tuple(c) for c in colors}) == 9
    assert colorize(np.array([[0, 8]]), 9, 6).shape == (1, 2, 3)


def test_missing_source_raises_dataset_not_found(tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    shared.mkdir()
    monkeypatch.setenv("COURSE_DATASETS_DIR", str(shared))
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    monkeypatch.setattr(datasets, "download_dir", lambda: tmp_path / "downloads")
    with pytest.raises(DatasetNotFoundError, match="COURSE_DATASETS_DIR"):
        make_scenes(2)


@needs_mirror
def test_real_items_make_a_few_scenes(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    scenes = make_scenes(20, split="test")
    counts = [len(scenes.annotations(i)) for i in range(20)]
    assert min(counts) >= 1 and max(counts) <= 5 and np.mean(counts) >= 2.5
    assert set(np.unique(scenes.semantic)) <= set(range(9))
