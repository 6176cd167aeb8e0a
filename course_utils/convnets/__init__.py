"""Lessons 08-12: convolution, CNNs in practice, deep architectures, transfer, classic methods.

- ``conv_arithmetic``: output sizes, receptive fields and their figures (08);
- ``kernels``: hand-made and learned convolution kernels (08);
- ``blocks``: the conv-BN-ReLU block every network here is built from;
- ``cnn_models``: LeNet-5, a compact CIFAR CNN, feature maps and filters (09);
- ``augment``: random crops and flips on tensors (09-12);
- ``resnets``: plain and residual CIFAR networks, ResNet9 and its training loop (10);
- ``transfer``: the course's pretrained backbone, ImageNet ResNet-18 when cached (11-12);
- ``features``: Hough lines, feature matching with RANSAC, stereo and HOG (12).
"""
