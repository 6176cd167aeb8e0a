"""Two-dimensional data for generative models, and the plots that go with it.

- ``ring_of_gaussians`` / ``ring_centers``: the eight-Gaussians ring on which GANs
  famously drop modes (Metz et al. 2017), and ``mode_coverage`` to count the modes a
  set of samples reaches;
- ``plot_decision_regions``: a 2-D classifier's regions and probability contours;
- ``plot_density``: a density given by its log on a grid;
- ``show_gan_snapshot`` and ``show_latent_point``: the functions behind the generative-
  models lesson's sliders (a GAN's samples during training; a VAE's 2-D latent space).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch


def ring_centers(modes: int = 8, radius: float = 2.0) -> torch.Tensor:
    """``modes`` points evenly spaced on a circle of ``radius``, the first on the positive x axis."""
    if modes < 1:
        raise ValueError(f"modes must be positive, got {modes}")
    angles = 2 * math.pi * torch.arange(modes, dtype=torch.float32) / modes
    return radius * torch.stack([angles.cos(), angles.sin()], dim=1)


def ring_of_gaussians(
    n: int,
    modes: int = 8,
    radius: float = 2.0,
    std: float = 0.02,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """``n`` points from an equal mixture of round Gaussians (``std``) centred on a ring."""
    which = torch.randint(0, modes, (n,), generator=generator)
    return ring_centers(modes, radius)[which] + std * torch.randn(n, 2, generator=generator)


@dataclass(frozen=True)
class ModeCoverage:
    """How a set of samples spreads over the modes of a mixture."""

    counts: tuple[int, ...]  # high-quality samples nearest to each mode
    covered: int  # modes with at least ``min_share`` of their fair share of high-quality samples
    reached: int  # modes nearest to at least ``min_share`` of their fair share of samples
    high_quality: float  # fraction of samples within 3 standard deviations of a mode


def mode_coverage(
    samples: torch.Tensor, centers: torch.Tensor, std: float, min_share: float = 0.25
) -> ModeCoverage:
    """Count the modes that ``samples`` reach.

    A sample is *high quality* when it lies within ``3 * std`` of its nearest centre
    (Srivastava et al. 2017); a mode is *covered* when at least ``min_share`` of the
    samples it would get under an equal mixture (``len(samples) / modes``) are high-
    quality samples near it. A mode is *reached* when that many samples have it as their
    nearest centre, however far away they are.
    """
    samples = torch.as_tensor(samples, dtype=torch.float32)
    distance, nearest = torch.cdist(samples, centers.float()).min(dim=1)
    good = distance < 3 * std
    counts = torch.bincount(nearest[good], minlength=len(centers))
    nearest_counts = torch.bincount(nearest, minlength=len(centers))
    fair = len(samples) / len(centers)
    return ModeCoverage(
        counts=tuple(int(c) for c in counts),
        covered=int((counts >= min_share * fair).sum()),
        reached=int((nearest_counts >= min_share * fair).sum()),
        high_quality=float(good.float().mean()),
    )


def _grid(limits: tuple[float, float, float, float], resolution: int) -> tuple[np.ndarray, ...]:
    x0, x1, y0, y1 = limits
    xx, yy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    return xx, yy, np.column_stack([xx.ravel(), yy.ravel()])


def plot_decision_regions(
    ax: plt.Axes,
    predict_proba: Callable[[np.ndarray], np.ndarray],
    X: np.ndarray,
    y: np.ndarray,
    title: str = "",
    limits: tuple[float, float, float, float] | None = None,
    resolution: int = 200,
    max_points: int = 400,
) -> plt.Axes:
    """Shade where a two-class classifier predicts class 1, draw P(y=1|x) = 0.5, scatter data.

    ``predict_proba`` maps an M x 2 array to M x 2 class probabilities (as scikit-learn's
    ``predict_proba`` does).
    """
    X, y = np.asarray(X), np.asarray(y)
    if limits is None:
        pad = 0.5
        limits = (
            X[:, 0].min() - pad,
            X[:, 0].max() + pad,
            X[:, 1].min() - pad,
            X[:, 1].max() + pad,
        )
    xx, yy, points = _grid(limits, resolution)
    p1 = np.asarray(predict_proba(points))[:, 1].reshape(xx.shape)
    ax.contourf(xx, yy, p1, levels=[0, 0.5, 1], colors=["tab:blue", "tab:orange"], alpha=0.18)
    ax.contour(xx, yy, p1, levels=[0.5], colors="k", linewidths=1.2)
    shown = np.random.default_rng(0).permutation(len(X))[:max_points]
    for label, color in ((0, "tab:blue"), (1, "tab:orange")):
        keep = shown[y[shown] == label]
        ax.scatter(X[keep, 0], X[keep, 1], s=6, color=color, label=f"class {label}")
    ax.set(xlim=limits[:2], ylim=limits[2:], title=title, aspect="equal")
    return ax


def plot_density(
    ax: plt.Axes,
    log_density: Callable[[np.ndarray], np.ndarray],
    limits: tuple[float, float, float, float],
    resolution: int = 200,
    title: str = "",
) -> np.ndarray:
    """Show ``exp(log_density)`` on a grid; returns the density values (resolution x resolution)."""
    xx, yy, points = _grid(limits, resolution)
    density = np.exp(np.asarray(log_density(points), dtype=np.float64)).reshape(xx.shape)
    ax.imshow(density, origin="lower", extent=limits, cmap="magma", interpolation="bilinear")
    ax.set(title=title, aspect="equal")
    return density


def show_gan_snapshot(
    snapshots: Sequence[tuple[int, np.ndarray]],
    index: int,
    real: np.ndarray,
    centers: np.ndarray | None = None,
    std: float | None = None,
) -> plt.Figure:
    """Real points and a GAN's samples at snapshot ``index`` of ``[(step, samples), ...]``."""
    step, fake = snapshots[index]
    fig, ax = plt.subplots(figsize=(4.2, 4.2))
    ax.scatter(real[:, 0], real[:, 1], s=4, alpha=0.3, color="tab:blue", label="data")
    ax.scatter(fake[:, 0], fake[:, 1], s=4, alpha=0.5, color="tab:red", label="generator")
    title = f"after {step} steps"
    if centers is not None and std is not None:
        coverage = mode_coverage(torch.as_tensor(fake), torch.as_tensor(centers), std)
        title += f": {coverage.reached} modes reached, {coverage.covered} covered"
    lim = float(np.abs(real).max()) * 1.5
    ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal", title=title)
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    return fig


def show_latent_point(
    decode: Callable[[torch.Tensor], torch.Tensor],
    z1: float,
    z2: float,
    latents: np.ndarray,
    labels: np.ndarray,
    image_shape: tuple[int, int] = (28, 28),
) -> plt.Figure:
    """A 2-D latent space (encoded test images, coloured by label) and the image decoded at (z1, z2)."""
    fig, (ax_z, ax_img) = plt.subplots(
        1, 2, figsize=(8, 3.8), gridspec_kw={"width_ratios": [1.3, 1]}
    )
    points = ax_z.scatter(latents[:, 0], latents[:, 1], c=labels, cmap="tab10", s=3, alpha=0.6)
    ax_z.plot([z1], [z2], marker="x", color="k", markersize=12, mew=3)
    fig.colorbar(points, ax=ax_z, ticks=range(10), label="digit")
    ax_z.set(xlabel="$z_1$", ylabel="$z_2$", title="encoded test images")
    with torch.no_grad():
        image = decode(torch.tensor([[z1, z2]], dtype=torch.float32)).reshape(image_shape)
    ax_img.imshow(image.cpu().numpy(), cmap="gray", vmin=0, vmax=1)
    ax_img.set_title(f"decoded at z = ({z1:.2f}, {z2:.2f})")
    ax_img.axis("off")
    fig.tight_layout()
    return fig
