import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from skimage import measure  # noqa: E402

from course_utils import load_photo  # noqa: E402
from course_utils.images import scenes as S  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def coins() -> np.ndarray:
    return load_photo("coins")


@pytest.fixture(scope="module")
def labels(coins) -> np.ndarray:
    return S.segment_coins(coins)


@pytest.fixture
def disks() -> tuple[np.ndarray, np.ndarray]:
    """Three bright disks on a dark, slightly noisy background, and their true labels."""
    yy, xx = np.mgrid[:80, :120]
    truth = np.zeros((80, 120), dtype=np.int32)
    for k, (cy, cx, r) in enumerate([(20, 25, 12), (25, 80, 15), (60, 50, 14)], start=1):
        truth[(yy - cy) ** 2 + (xx - cx) ** 2 <= r**2] = k
    noise = np.random.default_rng(0).normal(0, 5, truth.shape)
    image = np.clip(np.where(truth > 0, 200.0, 30.0) + noise, 0, 255).astype(np.uint8)
    return image, truth


def test_segment_coins_finds_the_24_coins(coins, labels):
    assert labels.shape == coins.shape
    assert labels.max() == 24
    areas = np.bincount(labels.ravel())[1:]
    assert areas.min() > 900 and areas.max() < 4000
    # every instance is one connected piece, and instances do not touch
    for k in range(1, 25):
        assert measure.label(labels == k).max() == 1
    assert measure.label(labels > 0).max() == 24


def test_segment_coins_recovers_synthetic_disks(disks):
    image, truth = disks
    found = S.segment_coins(image, background=80, foreground=150, min_area=50)
    assert found.max() == 3
    for k in range(1, 4):
        overlap = np.bincount(truth[found == k], minlength=4)
        best = overlap.argmax()
        iou = overlap[best] / np.logical_or(found == k, truth == best).sum()
        assert best > 0 and iou > 0.9


def test_markers_need_ordered_thresholds(coins):
    markers = S.coin_markers(coins, 70, 140)
    assert set(np.unique(markers)) <= {0, 1, 2}
    with pytest.raises(ValueError):
        S.coin_markers(coins, 140, 70)


def test_boxes_match_regionprops(labels):
    boxes = S.boxes_from_labels(labels)
    assert boxes.shape == (24, 4)
    for (x, y, w, h), region in zip(boxes, measure.regionprops(labels), strict=True):
        min_row, min_col, max_row, max_col = region.bbox  # max is exclusive
        assert (x, y, w, h) == (min_col, min_row, max_col - min_col, max_row - min_row)


def test_boxes_need_labels_without_gaps():
    gap = np.zeros((5, 5), dtype=np.int32)
    gap[1, 1] = 2
    with pytest.raises(ValueError):
        S.boxes_from_labels(gap)
    assert S.boxes_from_labels(np.zeros((3, 3), dtype=np.int32)).shape == (0, 4)


def test_coco_annotations(labels):
    records = S.coco_annotations(labels, category_id=7)
    assert len(records) == 24
    first = records[0]
    assert set(first) == {"id", "image_id", "category_id", "bbox", "area", "iscrowd"}
    assert first["category_id"] == 7 and first["area"] == int((labels == 1).sum())
    assert all(r["area"] <= r["bbox"][2] * r["bbox"][3] for r in records)


def test_overlay_colors_only_labelled_pixels():
    image = np.full((4, 4), 100, np.uint8)
    labels = np.zeros((4, 4), dtype=np.int32)
    labels[0, 0] = 1
    out = S.overlay(image, labels, np.array([[1.0, 0.0, 0.0]]), alpha=1.0)
    np.testing.assert_allclose(out[0, 0], [1, 0, 0])
    np.testing.assert_allclose(out[1, 1], [100 / 255] * 3)
    assert S.instance_colors(25).shape == (25, 3)


def test_recognition_tasks_figure_has_the_four_tasks(coins, labels):
    fig = S.recognition_tasks_figure(coins, labels)
    titles = [ax.get_title() for ax in fig.get_axes()]
    assert titles[0].startswith("classification") and titles[3].startswith("instance")
    assert titles[1] == "object detection: 24 boxes"
    assert len(fig.get_axes()[1].patches) == 24


@pytest.mark.parametrize("task", S.TASKS)
def test_task_panel(coins, labels, task):
    fig = S.task_panel(coins, labels, task)
    assert task in fig.get_axes()[0].get_title()
    with pytest.raises(ValueError):
        S.task_panel(coins, labels, "captioning")


def test_segmentation_panel_reports_the_count(coins):
    fig = S.segmentation_panel(coins, 70, 140)
    assert fig.get_axes()[1].get_title() == "watershed result: 24 instances"


def test_to_gray_accepts_tensors_layouts():
    rgb = np.zeros((3, 8, 10), np.uint8)
    rgb[0] = 255
    assert S.to_gray(rgb).shape == (8, 10)
    assert S.to_gray(rgb.transpose(1, 2, 0))[0, 0] == 76  # 0.299 * 255


def test_rotate_and_scale_keeps_the_canvas():
    image = load_photo("camera")[:100, :150]
    out = S.rotate_and_scale(image, 30, 0.5)
    assert out.shape == image.shape
    np.testing.assert_array_equal(S.rotate_and_scale(image, 0, 1), image)


def test_keypoints_match_the_same_image_but_not_noise():
    photo = load_photo("camera")[100:260, 150:390]
    same = S.match_keypoints(photo, S.rotate_and_scale(photo, 25, 0.9))
    assert same.n_inliers >= 50
    noise = np.random.default_rng(0).integers(0, 256, photo.shape, dtype=np.uint8)
    assert S.match_keypoints(photo, noise).n_inliers < 15
    blank = S.match_keypoints(photo, np.zeros_like(photo))
    assert blank.n_inliers == 0 and blank.matches == []


def test_matching_panel_title_counts(coins):
    part = coins[:150, :200]
    fig = S.matching_panel(part, S.rotate_and_scale(part, 10, 1.0), "coins")
    assert fig.get_axes()[0].get_title().startswith("coins: ")
