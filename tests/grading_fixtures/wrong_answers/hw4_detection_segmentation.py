"""Wrong answers for homework 4 (see the package docstring)."""

from grading_fixtures.wrong_answers import WrongAnswer

GIOU_PLAIN_IOU = '''def generalized_box_iou(a, b):
    """Plain IoU: the enclosing-box penalty is missing."""
    return box_iou(a, b)
'''

SOFT_NMS_HARD = '''def soft_nms(boxes, scores, sigma=0.5, score_threshold=0.001):
    """Lesson 14's hard NMS at 0.5: overlapping boxes are deleted, scores never decay."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    order = np.argsort(-scores, kind="stable")
    order = order[scores[order] >= score_threshold]
    keep = []
    while len(order):
        best, order = order[0], order[1:]
        keep.append(best)
        order = order[box_iou(boxes[best], boxes[order])[0] <= 0.5]
    keep = np.array(keep, dtype=np.int64)
    return keep, scores[keep]
'''

VOC_MATCH_COCO = '''def voc_match(boxes, scores, true_boxes, difficult, iou_threshold=0.5):
    """COCO's rule of lesson 14: the best box not yet taken, with IoU >= threshold."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    true_boxes = np.asarray(true_boxes, dtype=np.float64).reshape(-1, 4)
    difficult = np.asarray(difficult, dtype=bool).reshape(-1)
    ious = box_iou(boxes, true_boxes)
    taken = np.zeros(len(true_boxes), dtype=bool)
    flags = np.zeros(len(boxes), dtype=np.int64)
    for d in np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable"):
        candidates = np.where(taken, -1.0, ious[d])
        if len(candidates) and candidates.max() >= iou_threshold:
            g = int(candidates.argmax())
            taken[g] = True
            flags[d] = -1 if difficult[g] else 1
    return flags
'''

VOC_MATCH_GEQ = '''def voc_match(boxes, scores, true_boxes, difficult, iou_threshold=0.5):
    """VOC's rule, but IoU >= threshold counts as a match."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    true_boxes = np.asarray(true_boxes, dtype=np.float64).reshape(-1, 4)
    difficult = np.asarray(difficult, dtype=bool).reshape(-1)
    flags = np.zeros(len(boxes), dtype=np.int64)
    if len(true_boxes) == 0:
        return flags
    ious = box_iou(boxes, true_boxes)
    taken = np.zeros(len(true_boxes), dtype=bool)
    for d in np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable"):
        g = int(np.argmax(ious[d]))
        if ious[d, g] >= iou_threshold:
            if difficult[g]:
                flags[d] = -1
            elif not taken[g]:
                flags[d], taken[g] = 1, True
    return flags
'''

VOC_AP_101_POINTS = '''def voc_average_precision(scores, flags, n_true):
    """COCO's 101-point sampling of the envelope (lesson 14) instead of the exact area."""
    if n_true == 0:
        return float("nan")
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    flags = np.asarray(flags).reshape(-1)
    scores, hits = scores[flags >= 0], flags[flags >= 0] == 1
    if len(scores) == 0:
        return 0.0
    hits = hits[np.argsort(-scores, kind="stable")]
    tp = np.cumsum(hits)
    precision = tp / np.arange(1, len(hits) + 1)
    recall = tp / n_true
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    first = np.searchsorted(recall, np.linspace(0, 1, 101), side="left")
    sampled = np.where(first < len(recall), envelope[np.minimum(first, len(recall) - 1)], 0.0)
    return float(sampled.mean())
'''

TCONV_BACKWARD_FLIPPED = '''def transposed_conv2d_backward(dout, x, kernel, stride=1, padding=0):
    """dx by a true convolution: the kernel flipped."""
    dout, x, kernel = (np.asarray(a, dtype=np.float64) for a in (dout, x, kernel))
    (h, w), k = x.shape, kernel.shape[0]
    g_hat = np.pad(dout, padding)
    dx, dkernel = np.zeros((h, w)), np.zeros((k, k))
    for u in range(k):
        for v in range(k):
            seen = g_hat[u : u + stride * (h - 1) + 1 : stride, v : v + stride * (w - 1) + 1 : stride]
            dx += kernel[k - 1 - u, k - 1 - v] * seen
            dkernel[u, v] = np.sum(x * seen)
    return dx, dkernel
'''

BOUNDARY_EDGE_PAD = '''def boundary_iou(true_mask, pred_mask, d=1):
    """Pads with the edge values: outside the image counts as inside the mask."""
    def band(mask):
        mask = np.asarray(mask, dtype=bool)
        height, width = mask.shape
        padded = np.pad(mask, d, mode="edge")
        eroded = np.ones_like(mask)
        for dy in range(2 * d + 1):
            for dx in range(2 * d + 1):
                eroded &= padded[dy : dy + height, dx : dx + width]
        return mask & ~eroded

    true_band, pred_band = band(true_mask), band(pred_mask)
    union = np.sum(true_band | pred_band)
    return float("nan") if union == 0 else float(np.sum(true_band & pred_band) / union)
'''

PQ_NO_VOID = '''def panoptic_quality(true_class, true_instance, pred_class, pred_instance, num_classes, void=255):
    """Lesson 15's PQ: void pixels stay in the union and false alarms on void count."""
    true_class, true_instance = np.asarray(true_class).ravel(), np.asarray(true_instance).ravel()
    pred_class, pred_instance = np.asarray(pred_class).ravel(), np.asarray(pred_instance).ravel()
    pq = np.full(num_classes, np.nan)
    for c in range(num_classes):
        true_ids = np.unique(true_instance[true_class == c])
        pred_ids = np.unique(pred_instance[pred_class == c])
        if len(true_ids) + len(pred_ids) == 0:
            continue
        iou_sum, matched = 0.0, 0
        for g in true_ids:
            g_mask = (true_class == c) & (true_instance == g)
            for p in pred_ids:
                p_mask = (pred_class == c) & (pred_instance == p)
                iou = (g_mask & p_mask).sum() / (g_mask | p_mask).sum()
                if iou > 0.5:
                    iou_sum, matched = iou_sum + iou, matched + 1
        fp, fn = len(pred_ids) - matched, len(true_ids) - matched
        pq[c] = iou_sum / (matched + 0.5 * fp + 0.5 * fn)
    return pq, float(np.nanmean(pq))
'''

DESIGN_WRONG = '''def design_answer():
    return "a"
'''


def _wrong(name: str, about: str, answers: dict[str, str], *fails: str) -> WrongAnswer:
    return WrongAnswer(name, about, answers, frozenset(fails))


WRONG_ANSWERS = [
    _wrong("giou_plain_iou", "plain IoU without the enclosing-box penalty", {"generalized_box_iou": GIOU_PLAIN_IOU},
           "test_generalized_box_iou", "test_generalized_box_iou_hidden"),
    _wrong("soft_nms_hard", "hard NMS pasted from lesson 14: boxes deleted, scores not decayed",
           {"soft_nms": SOFT_NMS_HARD}, "test_soft_nms", "test_soft_nms_hidden"),
    _wrong("voc_match_coco", "COCO's matching rule: a duplicate takes another free box",
           {"voc_match": VOC_MATCH_COCO}, "test_voc_match", "test_voc_match_hidden"),
    _wrong("voc_match_geq", "IoU equal to the threshold counts as a match", {"voc_match": VOC_MATCH_GEQ},
           "test_voc_match_hidden"),
    _wrong("voc_ap_101", "COCO's 101 recall points instead of the exact area",
           {"voc_average_precision": VOC_AP_101_POINTS},
           "test_voc_average_precision", "test_voc_average_precision_hidden"),
    _wrong("tconv_flipped", "the kernel flipped in the backward pass",
           {"transposed_conv2d_backward": TCONV_BACKWARD_FLIPPED},
           "test_transposed_conv2d_backward", "test_transposed_conv2d_backward_hidden"),
    _wrong("boundary_edge_pad", "outside the image counted as inside the mask", {"boundary_iou": BOUNDARY_EDGE_PAD},
           "test_boundary_iou", "test_boundary_iou_hidden"),
    _wrong("pq_no_void", "void pixels not taken out of the union nor false alarms on void ignored",
           {"panoptic_quality": PQ_NO_VOID}, "test_panoptic_quality", "test_panoptic_quality_hidden"),
    _wrong("design_two_stage", "a two-stage detector for real-time counting", {"design_answer": DESIGN_WRONG},
           "test_design_answer"),
]
