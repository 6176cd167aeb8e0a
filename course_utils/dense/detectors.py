"""Lesson 14's two-stage detector for the course's 64 x 64 scenes (Faster or Mask R-CNN).

:class:`SmallBackbone` is trained from scratch; :func:`small_rcnn` wraps it in
torchvision's ``FasterRCNN`` or ``MaskRCNN`` with anchors sized for small scenes.
No pretrained weights are used or downloaded.
"""

from __future__ import annotations

from typing import Any

import torch
from torchvision.models.detection import FasterRCNN, MaskRCNN
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
from torchvision.models.detection.mask_rcnn import MaskRCNNHeads, MaskRCNNPredictor
from torchvision.ops import MultiScaleRoIAlign

from ..convnets.blocks import conv_bn_relu


class SmallBackbone(torch.nn.Module):
    """Image -> stride-4 feature map (``out_channels``), trained from scratch.

    An encoder down to 1/16 and a decoder back to 1/4 with transposed convolutions and
    skip connections, so the stride-4 features see whole objects. The backbone of
    lesson 14's Faster R-CNN; ``FasterRCNN`` reads ``out_channels``.
    """

    def __init__(self, width: int = 16, out_channels: int = 64):
        super().__init__()
        w, nn = width, torch.nn
        self.enc1 = nn.Sequential(*conv_bn_relu(3, w, 2), *conv_bn_relu(w, w))
        self.enc2 = nn.Sequential(*conv_bn_relu(w, 2 * w, 2), *conv_bn_relu(2 * w, 2 * w))
        self.enc3 = nn.Sequential(*conv_bn_relu(2 * w, 4 * w, 2), *conv_bn_relu(4 * w, 4 * w))
        self.enc4 = nn.Sequential(*conv_bn_relu(4 * w, 4 * w, 2), *conv_bn_relu(4 * w, 4 * w))
        self.up4 = nn.ConvTranspose2d(4 * w, 4 * w, 2, stride=2)
        self.dec3 = nn.Sequential(*conv_bn_relu(8 * w, 4 * w))
        self.up3 = nn.ConvTranspose2d(4 * w, 2 * w, 2, stride=2)
        self.dec2 = nn.Sequential(*conv_bn_relu(4 * w, out_channels))
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e2 = self.enc2(self.enc1(x))
        e3 = self.enc3(e2)
        d3 = self.dec3(torch.cat([self.up4(self.enc4(e3)), e3], dim=1))
        return self.dec2(torch.cat([self.up3(d3), e2], dim=1))


def small_rcnn(
    num_classes: int,
    image_size: int = 64,
    masks: bool = False,
    anchor_sizes: tuple[int, ...] = (12, 20, 32),
    aspect_ratios: tuple[float, ...] = (0.5, 1.0, 2.0),
) -> torch.nn.Module:
    """Lesson 14's Faster R-CNN (or, with ``masks=True``, a Mask R-CNN) for small scenes.

    ``num_classes`` counts the background (things + 1). No pretrained weights are used
    or downloaded. Images keep their size (``min_size = max_size = image_size``).
    """
    backbone = SmallBackbone()
    channels = backbone.out_channels
    settings: dict[str, Any] = {
        "min_size": image_size,
        "max_size": image_size,
        "image_mean": [0.5, 0.5, 0.5],
        "image_std": [0.25, 0.25, 0.25],
        "rpn_anchor_generator": AnchorGenerator(sizes=(anchor_sizes,), aspect_ratios=(aspect_ratios,)),
        "rpn_pre_nms_top_n_train": 600,
        "rpn_post_nms_top_n_train": 200,
        "rpn_pre_nms_top_n_test": 300,
        "rpn_post_nms_top_n_test": 100,
        "rpn_batch_size_per_image": 128,
        "box_roi_pool": MultiScaleRoIAlign(featmap_names=["0"], output_size=7, sampling_ratio=2),
        "box_head": TwoMLPHead(channels * 7 * 7, 128),
        "box_predictor": FastRCNNPredictor(128, num_classes),
        "box_batch_size_per_image": 64,
        "box_score_thresh": 0.01,
        "box_detections_per_img": 50,
    }
    if not masks:
        return FasterRCNN(backbone, **settings)
    return MaskRCNN(
        backbone,
        mask_roi_pool=MultiScaleRoIAlign(featmap_names=["0"], output_size=14, sampling_ratio=2),
        mask_head=MaskRCNNHeads(channels, (64, 64), 1),
        mask_predictor=MaskRCNNPredictor(64, 64, num_classes),
        **settings,
    )
