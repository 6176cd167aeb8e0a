"""Output sizes and receptive fields of convolution and pooling layers, with figures of both.

All sizes are for one spatial dimension; square kernels and images use the same number
for height and width. The formulas match ``torch.nn.Conv2d``, ``MaxPool2d`` and
``AvgPool2d`` (with the default ``ceil_mode=False``) and ``ConvTranspose2d``.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.patches import Rectangle
from torch import nn


def conv_output_size(
    n: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> int:
    """Output length of a convolution or pooling layer: floor((n + 2p - k) / s) + 1.

    With dilation ``d`` the kernel spans ``d * (k - 1) + 1`` inputs and that span
    takes the place of ``k``.
    """
    if min(n, kernel, stride, dilation) < 1 or padding < 0:
        raise ValueError("sizes, kernel, stride and dilation must be positive, padding >= 0")
    span = dilation * (kernel - 1) + 1
    if n + 2 * padding < span:
        raise ValueError(
            f"a kernel spanning {span} does not fit into {n} inputs padded by {padding}"
        )
    return (n + 2 * padding - span) // stride + 1


def transposed_conv_output_size(
    n: int,
    kernel: int,
    stride: int = 1,
    padding: int = 0,
    output_padding: int = 0,
    dilation: int = 1,
) -> int:
    """Output length of a transposed convolution: (n - 1) s - 2p + d (k - 1) + output_padding + 1."""
    if min(n, kernel, stride, dilation) < 1 or padding < 0 or output_padding < 0:
        raise ValueError("sizes, kernel, stride and dilation must be positive, paddings >= 0")
    size = (n - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1
    if size < 1:
        raise ValueError(f"padding {padding} removes the whole output (size {size})")
    return size


@dataclass(frozen=True)
class LayerGeometry:
    """The spatial settings of one convolution or pooling layer."""

    name: str
    kernel: int
    stride: int = 1
    padding: int = 0
    dilation: int = 1

    @property
    def span(self) -> int:
        """How many neighbouring inputs one kernel position covers."""
        return self.dilation * (self.kernel - 1) + 1


@dataclass(frozen=True)
class ReceptiveField:
    """Receptive field of one unit after a layer, in input pixels.

    ``size``: how many input pixels (per dimension) can influence one unit;
    ``jump``: the distance in input pixels between two neighbouring units;
    ``start``: the input coordinate of the centre of the first unit's field
    (negative when it reaches into the padding); ``output_size``: number of units,
    when the input size is known.
    """

    name: str
    size: int
    jump: int
    start: float
    output_size: int | None = None


def _as_geometry(layer: LayerGeometry | tuple) -> LayerGeometry:
    if isinstance(layer, LayerGeometry):
        return layer
    return LayerGeometry(*layer) if isinstance(layer[0], str) else LayerGeometry("layer", *layer)


def receptive_fields(
    layers: Sequence[LayerGeometry | tuple], input_size: int | None = None
) -> list[ReceptiveField]:
    """Receptive field after every layer, by the recurrence

    ``r_l = r_{l-1} + (k_l - 1) * j_{l-1}``,  ``j_l = j_{l-1} * s_l``,
    ``start_l = start_{l-1} + ((k_l - 1) / 2 - p_l) * j_{l-1}``,

    starting from one input pixel (``r_0 = j_0 = 1``, ``start_0 = 0``). Layers are
    ``LayerGeometry`` objects or tuples ``(kernel, stride, padding)``.
    """
    size, jump, start, n = 1, 1, 0.0, input_size
    found = []
    for raw in layers:
        layer = _as_geometry(raw)
        size += (layer.span - 1) * jump
        start += ((layer.span - 1) / 2 - layer.padding) * jump
        jump *= layer.stride
        if n is not None:
            n = conv_output_size(n, layer.kernel, layer.stride, layer.padding, layer.dilation)
        found.append(ReceptiveField(layer.name, size, jump, start, n))
    return found


def _single(value: int | tuple[int, ...]) -> int:
    if isinstance(value, int):
        return value
    if len(set(value)) != 1:
        raise ValueError(f"only square kernels, strides and paddings are supported, got {value}")
    return int(value[0])


def geometry_of(model: nn.Module) -> list[LayerGeometry]:
    """The convolution and pooling layers of ``model``, in the order they were registered.

    Works for models whose layers run in registration order (an ``nn.Sequential``,
    or modules built from them).
    """
    found = []
    for name, module in model.named_modules():
        if isinstance(module, nn.ConvTranspose2d):
            raise ValueError(f"{name}: transposed convolutions have no receptive-field recurrence here")
        if isinstance(module, nn.Conv2d):
            found.append(
                LayerGeometry(
                    name or "conv", _single(module.kernel_size), _single(module.stride),
                    _single(module.padding), _single(module.dilation),
                )
            )  # fmt: skip
        elif isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
            stride = module.stride if module.stride is not None else module.kernel_size
            dilation = getattr(module, "dilation", 1)
            found.append(
                LayerGeometry(
                    name or "pool", _single(module.kernel_size), _single(stride),
                    _single(module.padding), _single(dilation),
                )
            )  # fmt: skip
    return found


def linearized(model: nn.Module) -> nn.Module:
    """A copy of ``model`` whose gates do not depend on the data.

    Activation functions become identities and max pooling becomes average pooling
    with the same geometry, so every input pixel that *can* influence an output
    does so for every input (the theoretical receptive field).
    """
    clone = copy.deepcopy(model)
    gates = (nn.ReLU, nn.LeakyReLU, nn.GELU, nn.SiLU, nn.Tanh, nn.Sigmoid, nn.ELU, nn.Dropout)
    for name, module in list(clone.named_modules()):
        if isinstance(module, gates):
            replacement: nn.Module = nn.Identity()
        elif isinstance(module, nn.MaxPool2d):
            if _single(module.dilation) != 1:
                raise ValueError(f"{name}: dilated max pooling has no average-pooling twin")
            replacement = nn.AvgPool2d(module.kernel_size, module.stride, module.padding)
        else:
            continue
        parent_name, _, child = name.rpartition(".")
        parent = clone.get_submodule(parent_name) if parent_name else clone
        setattr(parent, child, replacement)
    return clone


def gradient_receptive_field(
    model: nn.Module,
    input_size: int,
    in_channels: int = 1,
    samples: int = 1,
    seed: int = 0,
) -> torch.Tensor:
    """|d output / d input| for the centre unit of the first output channel.

    Returns an ``input_size x input_size`` map, summed over channels and over
    ``samples`` random inputs; its non-zero pixels are the receptive field that
    this model actually has for these inputs. Runs on the CPU in float64, on a copy.
    """
    probe = copy.deepcopy(model).to("cpu", torch.float64).eval()
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(samples, in_channels, input_size, input_size, generator=generator)
    x = x.to(torch.float64).requires_grad_(True)
    out = probe(x)
    if out.ndim != 4:
        raise ValueError("the model must return feature maps (N x C x H x W)")
    out[:, 0, out.shape[2] // 2, out.shape[3] // 2].sum().backward()
    return x.grad.abs().sum(dim=(0, 1))


def extent(grad_map: torch.Tensor | np.ndarray, tol: float = 0.0) -> tuple[int, int, int, int]:
    """Bounding box ``(top, left, height, width)`` of the entries above ``tol``."""
    array = np.asarray(grad_map.detach().cpu() if isinstance(grad_map, torch.Tensor) else grad_map)
    rows = np.flatnonzero((array > tol).any(axis=1))
    cols = np.flatnonzero((array > tol).any(axis=0))
    if len(rows) == 0:
        return 0, 0, 0, 0
    return int(rows[0]), int(cols[0]), int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)


def plot_conv_geometry(
    n: int = 7, kernel: int = 3, stride: int = 1, padding: int = 0, highlight: int = 0
) -> plt.Figure:
    """Draw a square input with its zero padding, where the kernel lands, and the output.

    ``highlight`` picks one output position (counted row by row) whose window is
    drawn; input rows and columns that no window reaches are shaded.
    """
    out = conv_output_size(n, kernel, stride, padding)
    total = n + 2 * padding
    covered = (out - 1) * stride + kernel  # padded cells reached by some window
    fig, (ax_in, ax_out) = plt.subplots(
        1, 2, figsize=(8, 4.2), gridspec_kw={"width_ratios": [max(total, 1), max(out, 1) + 1]}
    )
    for r in range(total):
        for c in range(total):
            pad = not (padding <= r < padding + n and padding <= c < padding + n)
            missed = r >= covered or c >= covered
            face = "#d9d9d9" if pad else ("#f4cccc" if missed else "white")
            ax_in.add_patch(Rectangle((c, r), 1, 1, facecolor=face, edgecolor="#999999", lw=0.6))
            if pad:
                ax_in.text(c + 0.5, r + 0.5, "0", ha="center", va="center", fontsize=7, color="#777")
    for i in range(out):
        for j in range(out):
            ax_in.plot(j * stride + 0.5, i * stride + 0.5, "o", color="#1f77b4", ms=3)
    hi, hj = divmod(highlight % (out * out), out)
    ax_in.add_patch(
        Rectangle((hj * stride, hi * stride), kernel, kernel, fill=False, edgecolor="#d62728", lw=2.5)
    )
    for i in range(out):
        for j in range(out):
            face = "#d62728" if (i, j) == (hi, hj) else "#cfe2f3"
            ax_out.add_patch(Rectangle((j, i), 1, 1, facecolor=face, edgecolor="#666666", lw=0.6))
    for ax, size, title in (
        (ax_in, total, f"input {n}x{n}, padding {padding} (grey), kernel {kernel}, stride {stride}"),
        (ax_out, out, f"output {out}x{out}"),
    ):
        ax.set_xlim(0, max(size, 1))
        ax.set_ylim(max(size, 1), 0)
        ax.set_aspect("equal")
        ax.axis("off")
        ax.set_title(title, fontsize=9)
    fig.suptitle(
        f"o = floor((n + 2p - k) / s) + 1 = floor(({n} + 2*{padding} - {kernel}) / {stride}) + 1 = {out}"
        + ("   (red cells: never reached)" if covered < total else ""),
        fontsize=10,
    )
    fig.tight_layout()
    return fig


def plot_receptive_fields(
    layers: Sequence[LayerGeometry | tuple], input_size: int, unit: int | None = None
) -> plt.Figure:
    """Draw a 1-D stack of layers and trace which units feed one unit of the last layer.

    Every unit is drawn at the centre of its receptive field in input coordinates, so
    the nesting of the fields lines up; highlighted cells can influence ``unit``
    (default: the middle unit of the last layer).
    """
    geometry = [_as_geometry(layer) for layer in layers]
    fields = receptive_fields(geometry, input_size)
    sizes = [input_size] + [f.output_size for f in fields]
    starts = [0.0] + [f.start for f in fields]
    jumps = [1] + [f.jump for f in fields]
    top = sizes[-1] // 2 if unit is None else unit
    lo, hi = top, top
    spans = [(lo, hi)]
    for layer in reversed(geometry):
        lo = lo * layer.stride - layer.padding
        hi = hi * layer.stride - layer.padding + layer.span - 1
        spans.append((lo, hi))
    spans.reverse()
    fig, ax = plt.subplots(figsize=(9, 0.7 * len(sizes) + 1))
    for level, (size, start, jump, (lo, hi)) in enumerate(zip(sizes, starts, jumps, spans, strict=True)):
        width = 0.9 * jump
        for i in range(size):
            centre = start + i * jump
            active = lo <= i <= hi
            ax.add_patch(
                Rectangle(
                    (centre - width / 2, level - 0.35), width, 0.7,
                    facecolor="#e06666" if active else "#eeeeee", edgecolor="#666666", lw=0.5,
                )
            )  # fmt: skip
    labels = ["input\nr = 1"] + [
        f"{layer.name}\nr = {field.size}, j = {field.jump}"
        for layer, field in zip(geometry, fields, strict=True)
    ]
    ax.set_yticks(range(len(sizes)), labels, fontsize=8)
    ax.set_xlim(-1, input_size)
    ax.set_ylim(-0.8, len(sizes) - 0.2)
    ax.set_xlabel("input pixel")
    ax.tick_params(axis="y", length=0)
    ax.spines["left"].set_visible(False)
    title = f"receptive field of unit {top} of the last layer: {fields[-1].size} input pixels"
    if fields[-1].size > input_size:
        title += f"\n(more than the {input_size} of the input: the rest falls into the padding)"
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig
