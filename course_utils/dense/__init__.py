"""Lessons 13-16: semantic segmentation, detection, instance and promptable segmentation.

Scenes (the data of the whole block):
- ``scene_drawing``: how one synthetic scene is drawn (:class:`SceneConfig`);
- ``scene_sets``: :func:`make_scenes` -> :class:`SceneSet`, cached;
- ``coco_format``: COCO masks (RLE, polygons), label-map colours;
- ``scene_files``: scenes on disk in the COCO and PASCAL VOC layouts.

Detection (14-15):
- ``boxes``: box formats, IoU, NMS; ``detection_metrics``: matching, AP, COCO mAP;
- ``detection_plots``: boxes and the figures behind the sliders;
- ``detectors``: a small Faster / Mask R-CNN for 64 x 64 scenes;
- ``instance_seg``: masks, panoptic merge and panoptic quality (15).

Promptable segmentation (16):
- ``prompts``: clicks and boxes; ``promptable_model``: the small SAM-style model;
- ``promptable_training``: its losses, training and evaluation; ``real_sam``: Meta's SAM
  from a local checkpoint.
"""
