"""Lessons 01-04: pixels, sampling, color, image processing, and the recognition tasks.

- ``pixels``: float <-> uint8 conversions, MSE and PSNR;
- ``sampling``: sampling, quantization and the image as a function (01);
- ``pinhole``: the pinhole projection and the road and cube drawings of 01;
- ``color``: color models, Bayer mosaics and demosaicing (02);
- ``filtering``: resizing, smoothing, sharpening and contrast by hand (03);
- ``scenes``: the coins scene and its four recognition tasks (04).
"""
