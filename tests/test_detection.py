import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from course_utils.dense.boxes import batched_nms, box_iou, convert_boxes, nms, postprocess
from course_utils.dense.coco_format import load_coco
from course_utils.dense.detection_metrics import (
    COCO_STAT_NAMES,
    average_precision,
    coco_evaluate,
    match_detections,
    precision_recall,
    to_coco_results,
    torchmetrics_map,
)
from course_utils.dense.detection_plots import (
    draw_boxes,
    instance_caption,
    plot_iou,
    plot_nms,
    plot_precision_recall,
)


def test_convert_boxes_round_trips_and_keeps_the_type():
    xyxy = np.array([[10.0, 20.0, 30.0, 60.0]])
    assert convert_boxes(xyxy, "xyxy", "xywh").tolist() == [[10, 20, 20, 40]]
    assert convert_boxes(xyxy, "xyxy", "cxcywh").tolist() == [[20, 40, 20, 40]]
    back = convert_boxes(convert_boxes(xyxy, "xyxy", "cxcywh"), "cxcywh", "xyxy")
    np.testing.assert_allclose(back, xyxy)
    assert isinstance(convert_boxes(torch.tensor(xyxy), "xyxy", "xywh"), torch.Tensor)


def test_box_iou_simple_cases():
    a = np.array([[0, 0, 10, 10]])
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]])
    np.testing.assert_allclose(box_iou(a, b), [[1.0, 50 / 150, 0.0]])
    np.testing.assert_allclose(box_iou([[0, 0, 10, 10]], [[5, 5, 10, 10]], fmt="xywh"), [[25 / 175]])


def test_nms_wrappers():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]], dtype=float)
    scores = np.array([0.9, 0.8, 0.7])
    assert nms(boxes, scores, 0.5).tolist() == [0, 2]
    assert nms(boxes, scores, 0.9).tolist() == [0, 1, 2]
    assert batched_nms(boxes, scores, np.array([1, 2, 1]), 0.5).tolist() == [0, 1, 2]
    out = postprocess(torch.tensor(boxes), torch.tensor(scores), torch.tensor([1, 1, 1]),
                      score_threshold=0.75, iou_threshold=0.5)
    assert out["scores"].tolist() == [0.9]


def test_matching_precision_recall_and_ap_by_hand():
    gt = [np.array([[0, 0, 10, 10], [20, 20, 30, 30]]), np.array([[0, 0, 10, 10]])]
    boxes = [np.array([[0, 0, 10, 10], [1, 0, 10, 10], [40, 40, 50, 50]]), np.array([[0, 0, 9, 10]])]
    scores = [np.array([0.9, 0.8, 0.3]), np.array([0.6])]
    s, tp, n_gt = match_detections(boxes, scores, gt, iou_threshold=0.5)
    assert s.tolist() == [0.9, 0.8, 0.6, 0.3]
    assert tp.tolist() == [True, False, True, False]  # the duplicate is a false positive
    assert n_gt == 3
    precision, recall = precision_recall(tp, n_gt)
    np.testing.assert_allclose(precision, [1, 0.5, 2 / 3, 0.5])
    np.testing.assert_allclose(recall, [1 / 3, 1 / 3, 2 / 3, 2 / 3])
    # 101 points: recall 0..1/3 -> 1 (34 points), up to 2/3 -> 2/3 (33 points), above -> 0
    assert average_precision(precision, recall) == pytest.approx((34 * 1 + 33 * 2 / 3) / 101)
    assert average_precision(precision, recall, points=None) == pytest.approx(1 / 3 + 2 / 9)
    assert average_precision(np.zeros(0), np.zeros(0)) == 0.0


def _toy_coco():
    return {
        "images": [{"id": 1, "width": 64, "height": 64}, {"id": 2, "width": 64, "height": 64}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "area": 100, "iscrowd": 0},
            {"id": 2, "image_id": 1, "category_id": 2, "bbox": [20, 20, 10, 10], "area": 100, "iscrowd": 0},
            {"id": 3, "image_id": 2, "category_id": 1, "bbox": [5, 5, 20, 10], "area": 200, "iscrowd": 0},
        ],
        "categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}],
    }


def test_coco_evaluate_and_torchmetrics_agree_with_the_hand_ap():
    coco = _toy_coco()
    preds = [
        {"boxes": torch.tensor([[0.0, 0, 10, 10], [20, 20, 30, 30], [1, 1, 11, 11]]),
         "scores": torch.tensor([0.9, 0.8, 0.4]), "labels": torch.tensor([1, 2, 1])},
        {"boxes": torch.tensor([[5.0, 5, 25, 14]]), "scores": torch.tensor([0.7]), "labels": torch.tensor([1])},
    ]
    stats = coco_evaluate(coco, to_coco_results(preds, [1, 2]))
    assert set(stats) == set(COCO_STAT_NAMES)
    targets = [
        {"boxes": torch.tensor([[0.0, 0, 10, 10], [20, 20, 30, 30]]), "labels": torch.tensor([1, 2])},
        {"boxes": torch.tensor([[5.0, 5, 25, 15]]), "labels": torch.tensor([1])},
    ]
    tm = torchmetrics_map(preds, targets)
    assert tm["map_50"] == pytest.approx(stats["map_50"], abs=1e-4)
    assert tm["map"] == pytest.approx(stats["map"], abs=1e-4)
    # by hand at IoU 0.5: class 1 has tp, tp, fp (AP 1), class 2 one tp (AP 1)
    assert stats["map_50"] == pytest.approx(1.0)
    empty = coco_evaluate(load_coco(coco), [])
    assert empty["map"] == 0.0


def test_to_coco_results_with_masks():
    masks = torch.zeros(1, 8, 8)
    masks[0, 2:5, 2:6] = 0.9
    results = to_coco_results([{"boxes": torch.tensor([[2.0, 2, 6, 5]]), "scores": torch.tensor([0.5]),
                                "labels": torch.tensor([3]), "masks": masks}], [7])
    assert results[0]["bbox"] == [2.0, 2.0, 4.0, 3.0] and results[0]["image_id"] == 7
    assert results[0]["segmentation"]["size"] == [8, 8]


def test_figures_for_the_interactive_controls():
    fig = plot_iou([10, 10, 50, 50], [30, 30, 70, 70])
    assert "IoU = 0.143" in fig.axes[0].get_title()
    plt.close(fig)
    image = np.zeros((32, 32, 3), dtype=np.uint8)
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]], dtype=float)
    fig, kept = plot_nms(image, boxes, np.array([0.9, 0.8, 0.3]), iou_threshold=0.5, score_threshold=0.5)
    assert kept.tolist() == [0]
    plt.close(fig)
    fig, kept = plot_nms(image, boxes, np.array([0.9, 0.8, 0.3]), 0.5, labels=np.array([1, 2, 1]))
    assert sorted(kept.tolist()) == [0, 1, 2]
    plt.close(fig)
    fig, p, r = plot_precision_recall(np.array([0.9, 0.8, 0.6, 0.3]), np.array([1, 0, 1, 0], bool), 3, 0.7)
    assert (p, r) == (0.5, pytest.approx(1 / 3))
    plt.close(fig)
    fig, ax = plt.subplots()
    draw_boxes(ax, boxes, labels=[1, 2, 1], scores=[0.9, 0.8, 0.3], names=["a", "b"])
    assert len(ax.patches) == 3 and ax.texts[1].get_text() == "b 0.80"
    plt.close(fig)


@pytest.mark.parametrize("masks", [False, True])
def test_small_rcnn_trains_and_predicts(masks):
    from course_utils.dense.detectors import small_rcnn

    torch.manual_seed(0)
    model = small_rcnn(num_classes=3, masks=masks)
    images = [torch.rand(3, 64, 64), torch.rand(3, 64, 64)]
    target = {"boxes": torch.tensor([[5.0, 5, 30, 40]]), "labels": torch.tensor([2])}
    if masks:
        target["masks"] = torch.zeros(1, 64, 64, dtype=torch.uint8)
        target["masks"][0, 5:40, 5:30] = 1
    losses = model(images, [target, target])
    assert len(losses) == (5 if masks else 4) and all(torch.isfinite(v) for v in losses.values())
    model.eval()
    with torch.no_grad():
        out = model(images)
    assert out[0]["boxes"].shape[1] == 4


def test_instance_caption_names_the_category_and_score():
    labels, scores = np.array([2, 1]), np.array([0.876, 0.5])
    assert instance_caption(0, labels, scores, ["cat", "dog"]) == "dog 0.88"
    assert instance_caption(1, labels, None, None) == "1"
    assert instance_caption(1, None, scores, None) == "0.50"
    assert instance_caption(0, None, None, ["cat"]) == ""
