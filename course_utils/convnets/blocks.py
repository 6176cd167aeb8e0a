"""Building blocks shared by the course's convolutional networks."""

from __future__ import annotations

from torch import nn


def conv_bn_relu(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
    """A 3 x 3 convolution (padding 1, no bias), batch norm and ReLU.

    Unpack it (``nn.Sequential(*conv_bn_relu(...), ...)``) to keep the layers flat in a
    larger ``nn.Sequential``, or use it as one module.
    """
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)
    )
