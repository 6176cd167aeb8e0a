"""Tests for course_utils.dense.instance_seg (panoptic maps, colours, figures, PQ wrapper)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from course_utils.dense.instance_seg import (
    colorize_panoptic,
    id_to_rgb,
    instance_colors,
    overlay_masks,
    panoptic_ground_truth,
    plot_instances,
    plot_panoptic,
    rgb_to_id,
    torchmetrics_pq,
)
from course_utils.dense.scene_sets import make_scenes


@pytest.fixture(scope="module")
def scenes():
    return make_scenes(6, split="val", seed=3, cache=False)


def test_panoptic_ground_truth(scenes):
    pan = panoptic_ground_truth(scenes)
    assert pan.shape == (6, 64, 64, 2) and pan.dtype == np.int64
    np.testing.assert_array_equal(pan[..., 0], scenes.semantic.astype(np.int64) + 1)
    things = pan[..., 0] <= scenes.num_things
    assert np.all(pan[..., 1][~things] == 0)
    np.testing.assert_array_equal(pan[..., 1][things], scenes.instances[things])
    for i in range(6):  # one segment per annotation
        ids = np.unique(pan[i][..., 1][things[i]])
        assert len(ids) == len(scenes.annotations(i))
    np.testing.assert_array_equal(panoptic_ground_truth(scenes, [2]), pan[2:3])


def test_segment_id_colours_round_trip():
    ids = np.array([[0, 1, 255], [256, 65_535, 1_000_000]])
    rgb = id_to_rgb(ids)
    assert rgb.dtype == np.uint8 and rgb.shape == (2, 3, 3)
    np.testing.assert_array_equal(rgb[0, 2], [255, 0, 0])
    np.testing.assert_array_equal(rgb[1, 0], [0, 1, 0])
    np.testing.assert_array_equal(rgb_to_id(rgb), ids)


def test_instance_colors_distinct():
    colors = instance_colors(8)
    assert colors.shape == (8, 3) and colors.min() >= 0 and colors.max() <= 1
    assert len({tuple(np.round(c, 3)) for c in colors}) == 8


def test_colorize_panoptic(scenes):
    pan = panoptic_ground_truth(scenes)[0]
    rgb = colorize_panoptic(pan, scenes.num_things, scenes.num_classes)
    assert rgb.shape == (64, 64, 3) and rgb.dtype == np.uint8
    void = pan.copy()
    void[:5, :5] = 0
    out = colorize_panoptic(torch.tensor(void), scenes.num_things, scenes.num_classes)
    assert np.all(out[:4, :4] == 0)  # void is black (inside, away from the white border)
    # two instances of the same class get different colours
    two = np.zeros((4, 8, 2), dtype=np.int64)
    two[:, :4] = (1, 1)
    two[:, 4:] = (1, 2)
    out = colorize_panoptic(two, 2, 3)
    assert not np.array_equal(out[1, 1], out[1, 6])


def test_overlay_and_figures(scenes):
    fig, ax = plt.subplots()
    overlay_masks(ax, scenes.images[0], scenes.masks(0), scenes.labels(0), np.ones(len(scenes.labels(0))),
                  names=scenes.thing_names)
    assert len(ax.texts) == len(scenes.annotations(0))
    plt.close(fig)
    k = len(scenes.annotations(0))
    prediction = {
        "masks": torch.tensor(scenes.masks(0), dtype=torch.float32)[:, None],
        "labels": torch.tensor(scenes.labels(0)),
        "scores": torch.linspace(0.9, 0.1, k),
    }
    fig = plot_instances(scenes.images[0], prediction, scenes.masks(0), scenes.labels(0), scenes.thing_names, 0.5)
    assert len(fig.axes) == 3
    shown = int((prediction["scores"] >= 0.5).sum())
    assert f"{shown} predicted masks" in fig.axes[1].get_title()
    plt.close(fig)
    pan = panoptic_ground_truth(scenes)[0]
    fig = plot_panoptic(scenes.images[0], {"a": pan, "b": pan}, scenes.num_things, scenes.num_classes)
    assert [ax.get_title() for ax in fig.axes] == ["image", "a", "b"]
    plt.close(fig)


def test_torchmetrics_pq_perfect_and_known(scenes):
    pan = panoptic_ground_truth(scenes)
    things = list(range(1, scenes.num_things + 1))
    stuffs = list(range(scenes.num_things + 1, scenes.num_classes + 1))
    perfect = torchmetrics_pq(pan, pan, things, stuffs)
    assert perfect["pq"] == pytest.approx(1.0) and perfect["sq"] == pytest.approx(1.0)
    assert list(perfect["per_class"]) == things + stuffs
    # the example of torchmetrics' documentation
    pred = torch.tensor([[[[6, 0], [0, 0], [6, 0], [6, 0]], [[0, 0], [0, 0], [6, 0], [0, 1]],
                          [[0, 0], [0, 0], [6, 0], [0, 1]], [[0, 0], [7, 0], [6, 0], [1, 0]],
                          [[0, 0], [7, 0], [7, 0], [7, 0]]]])
    true = torch.tensor([[[[6, 0], [0, 1], [6, 0], [0, 1]], [[0, 1], [0, 1], [6, 0], [0, 1]],
                          [[0, 1], [0, 1], [6, 0], [1, 0]], [[0, 1], [7, 0], [1, 0], [1, 0]],
                          [[0, 1], [7, 0], [7, 0], [7, 0]]]])
    out = torchmetrics_pq(pred, true, [0, 1], [6, 7])
    assert out["pq"] == pytest.approx(0.5463, abs=1e-4)
    assert out["sq"] == pytest.approx(0.6111, abs=1e-4) and out["rq"] == pytest.approx(0.6667, abs=1e-4)
    assert out["per_class"][7] == pytest.approx((1.0, 1.0, 1.0))
