"""Helpers for homework 3 (provided by the course; do not change this file).

- ``check_array``, ``check_raises`` and ``check_scalar``: what the test cells use (from
  the course's ``checks.py``); a failing check says what was expected and what came back.
- ``make_digits``: a small synthetic data set of handwritten-looking digits (20 x 20
  gray images, 10 classes), the same every time for the same seed.
- ``build_model``, ``get_weights`` and ``set_weights``: a PyTorch model from an
  architecture written as a list of tuples, and its weights as NumPy arrays (part 5).
- ``count_parameters``: the size of a PyTorch model.
- ``measure_training``: what the tests of part 5 use: they time your training with
  their own clock, against a reference training timed on the same machine.
- ``show_images``: to look at images.
"""

from __future__ import annotations

import functools
import os
import time
from dataclasses import dataclass

import numpy as np

__all__ = [
    "MAX_PARAMETERS",
    "REQUIRED_ACCURACY",
    "TIME_BUDGET_RATIO",
    "build_model",
    "check_array",
    "check_raises",
    "check_scalar",
    "count_parameters",
    "get_weights",
    "make_digits",
    "measure_training",
    "set_weights",
    "show_images",
    "warm_up",
]

GRADING_ENV = "COURSE_GRADING"  # set while the homework is graded: figures are skipped
IMAGE_SIZE = 20
REQUIRED_ACCURACY = 0.90  # test accuracy the trained CNN must reach
MAX_PARAMETERS = 50_000  # "small": at most this many parameters
TIME_BUDGET_RATIO = 10.0  # training may take this many times the reference training
REFERENCE_ARCHITECTURE = [("conv", 8, 3), ("relu",), ("maxpool", 2), ("flatten",), ("linear", 10)]
REFERENCE_EPOCHS = 6

try:  # a released assignment: checks.py is shipped beside this file
    from checks import check_array, check_raises, check_scalar
except ModuleNotFoundError:  # the instructor's source folder, inside the course
    from course_utils.grading.checks import check_array, check_raises, check_scalar

# Digits as strokes between the points of a 2 x 3 grid (x, y), like a seven-segment
# display with a few diagonals: (0, 0) top left, (1, 0) top right, ..., (1, 2) bottom right.
_STROKES = {
    0: [((0, 0), (1, 0)), ((1, 0), (1, 2)), ((1, 2), (0, 2)), ((0, 2), (0, 0))],
    1: [((0.3, 0.4), (0.7, 0)), ((0.7, 0), (0.7, 2))],
    2: [((0, 0), (1, 0)), ((1, 0), (1, 1)), ((1, 1), (0, 2)), ((0, 2), (1, 2))],
    3: [((0, 0), (1, 0)), ((1, 0), (1, 2)), ((0.2, 1), (1, 1)), ((0, 2), (1, 2))],
    4: [((0, 0), (0, 1)), ((0, 1), (1, 1)), ((1, 0), (1, 2))],
    5: [((1, 0), (0, 0)), ((0, 0), (0, 1)), ((0, 1), (1, 1)), ((1, 1), (1, 2)), ((1, 2), (0, 2))],
    6: [((1, 0), (0, 0)), ((0, 0), (0, 2)), ((0, 2), (1, 2)), ((1, 2), (1, 1)), ((1, 1), (0, 1))],
    7: [((0, 0), (1, 0)), ((1, 0), (0.3, 2))],
    8: [((0, 0), (1, 0)), ((1, 0), (1, 2)), ((1, 2), (0, 2)), ((0, 2), (0, 0)), ((0, 1), (1, 1))],
    9: [((1, 1), (0, 1)), ((0, 1), (0, 0)), ((0, 0), (1, 0)), ((1, 0), (1, 2)), ((1, 2), (0, 2))],
}


@functools.lru_cache(maxsize=4)
def _pixel_centres(size: int) -> np.ndarray:
    yy, xx = np.mgrid[:size, :size]
    return np.stack([xx.ravel() + 0.5, yy.ravel() + 0.5], 1)[None]


def _render(strokes, rng: np.random.Generator, size: int) -> np.ndarray:
    """Draw one digit with a random slant, size, position, wobble and stroke width."""
    points = np.array([p for stroke in strokes for p in stroke], dtype=np.float64)
    points += rng.normal(0, 0.08, points.shape)  # handwriting wobble
    height = rng.uniform(0.55, 0.75) * size
    width = height * rng.uniform(0.4, 0.6)
    slant = rng.uniform(-0.35, 0.25)
    xy = np.stack([points[:, 0] * width - slant * (points[:, 1] - 1) * height / 2, points[:, 1] * height / 2], 1)
    angle = rng.uniform(-0.2, 0.2)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    xy = (xy - xy.mean(0)) @ rotation.T + size / 2 + rng.uniform(-2.5, 2.5, 2)
    a, b = xy[0::2][:, None, :], xy[1::2][:, None, :]  # segment ends, (S, 1, 2)
    pixels = _pixel_centres(size)  # (1, P, 2)
    ab = b - a
    t = np.clip(((pixels - a) * ab).sum(-1) / np.maximum((ab**2).sum(-1), 1e-9), 0, 1)
    distance = np.linalg.norm(pixels - (a + t[..., None] * ab), axis=-1).min(0)
    thickness = rng.uniform(0.7, 1.5)
    image = np.clip(thickness + 0.5 - distance, 0, 1).reshape(size, size)
    return image * rng.uniform(0.7, 1.0)


def make_digits(n: int, seed: int, noise: float = 0.15) -> tuple[np.ndarray, np.ndarray]:
    """``n`` synthetic digit images and their labels, deterministic for a given seed.

    Returns ``images``, float32 of shape (n, 1, 20, 20) with values in [0, 1], and
    ``labels``, int64 of shape (n,), balanced over the 10 classes.
    """
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % 10).astype(np.int64)
    images = np.empty((n, 1, IMAGE_SIZE, IMAGE_SIZE), dtype=np.float32)
    for k, label in enumerate(labels):
        image = _render(_STROKES[int(label)], rng, IMAGE_SIZE)
        image += rng.normal(0, noise, image.shape)
        images[k, 0] = np.clip(image, 0, 1)
    return images, labels


def count_parameters(model) -> int:  # noqa: ANN001 - a torch.nn.Module
    """Number of trainable parameters of a PyTorch model."""
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad))


_LAYER_ARGUMENTS = {"conv": 2, "relu": 0, "maxpool": 1, "avgpool": 1, "batchnorm": 0, "dropout": 1,
                    "flatten": 0, "linear": 1}  # fmt: skip


def build_model(architecture, input_shape=(1, IMAGE_SIZE, IMAGE_SIZE)):  # noqa: ANN001, ANN201
    """A ``torch.nn.Sequential`` built from a list of layer descriptions.

    Each layer is a tuple: ``("conv", out_channels, kernel_size)`` (stride 1, zero padding
    ``kernel_size // 2``), ``("relu",)``, ``("maxpool", size)`` and ``("avgpool", size)``
    (stride = size), ``("batchnorm",)`` (2-D before ``flatten``, 1-D after),
    ``("dropout", p)``, ``("flatten",)``, ``("linear", out_features)``. Input channels and
    features are worked out from ``input_shape``. Raises ValueError for anything else.
    """
    import torch
    from torch import nn

    if not isinstance(architecture, (list, tuple)) or not architecture:
        raise ValueError(f"an architecture is a non-empty list of tuples, not {type(architecture).__name__}")
    layers, shape = [], tuple(input_shape)
    for number, layer in enumerate(architecture):
        if not isinstance(layer, (list, tuple)) or not layer or layer[0] not in _LAYER_ARGUMENTS:
            raise ValueError(f"layer {number}: {layer!r} is not one of {sorted(_LAYER_ARGUMENTS)}")
        kind, args = layer[0], tuple(layer[1:])
        if len(args) != _LAYER_ARGUMENTS[kind]:
            raise ValueError(f"layer {number}: {kind!r} takes {_LAYER_ARGUMENTS[kind]} numbers, got {args!r}")
        if kind == "dropout":
            if not 0 <= float(args[0]) < 1:
                raise ValueError(f"layer {number}: dropout probability {args[0]!r} is not in [0, 1)")
        elif any(isinstance(a, bool) or int(a) != a or int(a) < 1 for a in args):
            raise ValueError(f"layer {number}: {kind!r} needs positive whole numbers, got {args!r}")
        flat = len(shape) == 1
        if kind in ("conv", "maxpool", "avgpool") and flat:
            raise ValueError(f"layer {number}: {kind!r} after 'flatten'")
        if kind == "linear" and not flat:
            raise ValueError(f"layer {number}: 'linear' needs 'flatten' before it")
        if kind == "conv":
            out_channels, k = int(args[0]), int(args[1])
            layers.append(nn.Conv2d(shape[0], out_channels, k, padding=k // 2))
        elif kind == "relu":
            layers.append(nn.ReLU())
        elif kind in ("maxpool", "avgpool"):
            size = int(args[0])
            layers.append(nn.MaxPool2d(size) if kind == "maxpool" else nn.AvgPool2d(size))
        elif kind == "batchnorm":
            layers.append(nn.BatchNorm1d(shape[0]) if flat else nn.BatchNorm2d(shape[0]))
        elif kind == "dropout":
            layers.append(nn.Dropout(float(args[0])))
        elif kind == "flatten":
            layers.append(nn.Flatten())
        else:
            layers.append(nn.Linear(shape[0], int(args[0])))
        with torch.no_grad():
            probe = nn.Sequential(*layers).eval()(torch.zeros(2, *input_shape))
        shape = tuple(probe.shape[1:])
        if 0 in shape:
            raise ValueError(f"layer {number}: {kind!r} leaves an empty output of shape {shape}")
    return nn.Sequential(*layers)


def get_weights(model) -> list[np.ndarray]:  # noqa: ANN001 - a torch.nn.Module
    """The model's weights and buffers (its ``state_dict``), in order, as NumPy arrays."""
    return [value.detach().cpu().numpy().copy() for value in model.state_dict().values()]


def set_weights(model, weights) -> None:  # noqa: ANN001
    """Load ``get_weights``' list into a model of the same architecture (ValueError if it does not fit)."""
    import torch

    state = model.state_dict()
    if not isinstance(weights, (list, tuple)) or len(weights) != len(state):
        count = len(weights) if isinstance(weights, (list, tuple)) else type(weights).__name__
        raise ValueError(f"the model has {len(state)} weight arrays, got {count}")
    loaded = {}
    for (name, value), array in zip(state.items(), weights, strict=True):
        array = np.asarray(array)
        if tuple(array.shape) != tuple(value.shape):
            raise ValueError(f"weights for {name}: expected shape {tuple(value.shape)}, got {array.shape}")
        loaded[name] = torch.as_tensor(array, dtype=value.dtype)
    model.load_state_dict(loaded)


def _reference_training(images: np.ndarray, labels: np.ndarray) -> list[np.ndarray]:
    """The course's reference: a tiny CNN, Adam, mini-batches of 64, REFERENCE_EPOCHS epochs."""
    import torch
    from torch.nn import functional as F

    torch.manual_seed(0)
    model = build_model(REFERENCE_ARCHITECTURE)
    x, y = torch.as_tensor(images, dtype=torch.float32), torch.as_tensor(labels, dtype=torch.int64)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(REFERENCE_EPOCHS):
        order = torch.randperm(len(x))
        for start in range(0, len(x), 64):
            batch = order[start : start + 64]
            loss = F.cross_entropy(model(x[batch]), y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return get_weights(model)


def warm_up() -> None:
    """A few training steps of the reference model: PyTorch's first steps in a fresh
    process are slow (it prepares its kernels), and that should count for no one."""
    images, labels = make_digits(128, seed=99)
    _reference_training(images, labels)


@dataclass
class Training:
    """What the tests measured: the returned weights and two times on the same machine."""

    weights: list
    seconds: float  # the call to the student's training function
    reference_seconds: float  # the reference training, timed the same way

    @property
    def budget(self) -> float:
        return TIME_BUDGET_RATIO * self.reference_seconds


def measure_training(train_function, images: np.ndarray, labels: np.ndarray) -> Training:  # noqa: ANN001
    """Time ``train_function(images, labels)`` and the reference training with this
    process's clock (the best of two reference runs, so a busy moment does not shrink the
    budget), and check that the function returned a list of arrays."""
    reference = []
    for _ in range(2):
        start = time.perf_counter()
        _reference_training(images, labels)
        reference.append(time.perf_counter() - start)
    start = time.perf_counter()
    weights = train_function(images, labels)
    seconds = time.perf_counter() - start
    if not isinstance(weights, (list, tuple)) or not all(isinstance(w, np.ndarray) for w in weights):
        raise AssertionError(f"train_cnn must return a list of NumPy arrays (get_weights(model)), "
                             f"got {type(weights).__name__}")  # fmt: skip
    return Training(list(weights), seconds, min(reference))


def show_images(images, titles=None, columns: int = 10) -> None:
    """Show gray images in a grid (an (n, 1, H, W) or (n, H, W) array or a list)."""
    if os.environ.get(GRADING_ENV):
        return
    import matplotlib.pyplot as plt

    images = [np.asarray(image).squeeze() for image in images]
    titles = list(titles) if titles is not None else [""] * len(images)
    rows = (len(images) + columns - 1) // columns
    fig, axes = plt.subplots(rows, columns, figsize=(1.3 * columns, 1.45 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, image, title in zip(axes.ravel(), images, titles, strict=False):
        ax.imshow(image, cmap="gray", vmin=0, vmax=1)
        ax.set_title(str(title), fontsize=9)
    fig.tight_layout()
    plt.show()
