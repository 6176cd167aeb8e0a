"""Diffusion and flow matching for small images: a time-conditioned U-Net, noise schedules, samplers.

The pieces the diffusion lesson builds on, kept small enough to train on a laptop CPU:

- ``TinyUNet`` (in ``denoisers``): the time-conditioned U-Net these train;
- ``DiffusionSchedule``: the DDPM noise schedule (Ho et al. 2020) with
  ``alpha_bar[0] = 1`` so that index ``t`` runs over 0..T as in the paper;
- ``ddpm_loss`` / ``ddpm_sample``: epsilon-prediction training and ancestral sampling,
  on the full chain of T steps or on an evenly spaced sub-chain;
- ``flow_matching_loss`` / ``flow_sample``: the straight path
  ``x_t = (1 - t) x_0 + t * noise`` (t = 0 data, t = 1 noise), velocity regression,
  and Euler or Heun integration of the learned ODE;
- ``guided``: classifier-free guidance (Ho & Salimans 2022) for either model;
- ``train_generator``: a training loop with a progress bar that returns the losses;
- ``show_forward_process`` and ``show_trajectory``: the plots behind the lesson's sliders.

Images are N x C x H x W tensors scaled to [-1, 1]; H and W must be even.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm

from .denoisers import to_unit_range

LossFn = Callable[[nn.Module, torch.Tensor, torch.Tensor, torch.Generator | None], torch.Tensor]


@torch.no_grad()
def guided(
    model: nn.Module, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor | None, guidance: float
) -> torch.Tensor:
    """Classifier-free guidance: ``(1 + w) f(x, t, y) - w f(x, t, no prompt)``.

    ``guidance`` is w; 0 gives the plain conditional output (one forward pass),
    and ``labels=None`` the unconditional one. Both halves run as one batch.
    """
    t = t.to(x.device).float().expand(len(x)) if t.ndim == 0 else t
    if labels is None or guidance == 0:
        return model(x, t, labels)
    null = torch.full_like(labels, model.null_label)
    both = model(torch.cat([x, x]), torch.cat([t, t]), torch.cat([labels, null]))
    cond, uncond = both.chunk(2)
    return (1 + guidance) * cond - guidance * uncond


def drop_labels(
    labels: torch.Tensor, null_label: int, p_uncond: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Replace each label by ``null_label`` with probability ``p_uncond`` (training for guidance)."""
    if p_uncond <= 0:
        return labels
    drop = torch.rand(len(labels), generator=generator).to(labels.device) < p_uncond
    return torch.where(drop, torch.full_like(labels, null_label), labels)


def _randn_like(x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    # Drawn on the CPU so that a seed gives the same noise on every device.
    return torch.randn(x.shape, generator=generator).to(x.device)


# ---------------------------------------------------------------------------------------------
# Diffusion (DDPM)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DiffusionSchedule:
    """Noise variances beta_1..beta_T, stored with ``betas[0] = 0`` so index t runs 0..T."""

    betas: torch.Tensor

    @classmethod
    def linear(
        cls, steps: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02
    ) -> DiffusionSchedule:
        """The DDPM schedule: beta_t rising linearly from ``beta_start`` to ``beta_end``."""
        betas = torch.linspace(beta_start, beta_end, steps, dtype=torch.float64)
        return cls(torch.cat([torch.zeros(1, dtype=torch.float64), betas]))

    @property
    def T(self) -> int:  # noqa: N802 - the paper's name
        return len(self.betas) - 1

    @property
    def alphas(self) -> torch.Tensor:
        return 1 - self.betas

    @property
    def alpha_bars(self) -> torch.Tensor:
        """alpha_bar_t = prod_{s <= t} (1 - beta_s); alpha_bar_0 = 1."""
        return torch.cumprod(self.alphas, dim=0)

    def _at(self, values: torch.Tensor, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        t = torch.as_tensor(t, device="cpu").long()
        picked = values[t].to(like.device, like.dtype)
        return picked.view(-1, *([1] * (like.ndim - 1))) if picked.ndim else picked

    def noise(self, x0: torch.Tensor, t: torch.Tensor | int, eps: torch.Tensor) -> torch.Tensor:
        """Closed-form forward process: ``sqrt(alpha_bar_t) x0 + sqrt(1 - alpha_bar_t) eps``."""
        ab = self._at(self.alpha_bars, torch.as_tensor(t), x0)
        return ab.sqrt() * x0 + (1 - ab).sqrt() * eps

    def step(self, x_prev: torch.Tensor, t: int, eps: torch.Tensor) -> torch.Tensor:
        """One forward step q(x_t | x_{t-1}): ``sqrt(1 - beta_t) x_{t-1} + sqrt(beta_t) eps``."""
        beta = float(self.betas[t])
        return math.sqrt(1 - beta) * x_prev + math.sqrt(beta) * eps

    def timesteps(self, steps: int | None = None) -> list[int]:
        """``steps + 1`` evenly spaced times from 0 to T (all of 0..T when ``steps`` is None)."""
        steps = self.T if steps is None else steps
        if not 1 <= steps <= self.T:
            raise ValueError(f"steps must be between 1 and {self.T}, got {steps}")
        grid = torch.linspace(0, self.T, steps + 1, dtype=torch.float64).round().long()
        return sorted(set(grid.tolist()))


def ddpm_loss(
    model: nn.Module,
    x0: torch.Tensor,
    labels: torch.Tensor | None,
    schedule: DiffusionSchedule,
    p_uncond: float = 0.1,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """The simplified DDPM loss: ``|| eps - eps_model(x_t, t) ||^2`` at a random t per image."""
    t = torch.randint(1, schedule.T + 1, (len(x0),), generator=generator)
    eps = _randn_like(x0, generator)
    x_t = schedule.noise(x0, t, eps)
    if labels is not None:
        labels = drop_labels(labels, model.null_label, p_uncond, generator)
    return F.mse_loss(model(x_t, (t.float() / schedule.T).to(x0.device), labels), eps)


@torch.no_grad()
def ddpm_sample(
    model: nn.Module,
    schedule: DiffusionSchedule,
    shape: tuple[int, ...],
    labels: torch.Tensor | None = None,
    guidance: float = 0.0,
    steps: int | None = None,
    generator: torch.Generator | None = None,
    clip: bool = True,
    keep_trajectory: bool = False,
    device: torch.device | str | None = None,
) -> torch.Tensor | tuple[torch.Tensor, list[tuple[int, torch.Tensor]]]:
    """Ancestral sampling from pure noise x_T down to x_0 (Ho et al. 2020, Algorithm 2).

    ``steps`` < T walks an evenly spaced sub-chain T = tau_S > ... > tau_0 = 0 with the
    betas that sub-chain implies, ``1 - alpha_bar_t / alpha_bar_s`` (Nichol & Dhariwal
    2021). The added noise has the posterior variance ``beta~``. ``clip`` clamps the
    predicted x_0 to [-1, 1] before each step, as the DDPM reference code does; with
    ``clip=False`` a step is exactly Algorithm 2's
    ``x_s = (x_t - beta / sqrt(1 - alpha_bar_t) eps) / sqrt(alpha) + sigma z``.
    ``keep_trajectory`` also returns ``[(t, x_t), ...]`` for every visited t (on the CPU).
    """
    device = device or next(model.parameters()).device
    x = torch.randn(shape, generator=generator).to(device)
    if labels is not None:
        labels = labels.to(device)
    ab = schedule.alpha_bars
    times = schedule.timesteps(steps)
    trajectory = [(times[-1], x.cpu())]
    for t, s in zip(reversed(times[1:]), reversed(times[:-1]), strict=True):
        ab_t, ab_s = float(ab[t]), float(ab[s])
        beta = 1 - ab_t / ab_s
        eps = guided(
            model, x, torch.full((len(x),), t / schedule.T, device=device), labels, guidance
        )
        x0 = (x - math.sqrt(1 - ab_t) * eps) / math.sqrt(ab_t)
        if clip:
            x0 = x0.clamp(-1, 1)
        # posterior mean of q(x_s | x_t, x_0)
        x = (math.sqrt(ab_s) * beta / (1 - ab_t)) * x0 + (
            math.sqrt(1 - beta) * (1 - ab_s) / (1 - ab_t)
        ) * x
        if s > 0:
            sigma = math.sqrt(beta * (1 - ab_s) / (1 - ab_t))
            x = x + sigma * _randn_like(x, generator)
        if keep_trajectory:
            trajectory.append((s, x.cpu()))
    return (x, trajectory) if keep_trajectory else x


# ---------------------------------------------------------------------------------------------
# Flow matching
# ---------------------------------------------------------------------------------------------


def flow_matching_loss(
    model: nn.Module,
    x0: torch.Tensor,
    labels: torch.Tensor | None,
    p_uncond: float = 0.1,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Regress the velocity of the straight path ``x_t = (1 - t) x0 + t eps``: target ``eps - x0``."""
    t = torch.rand(len(x0), generator=generator).to(x0.device)
    eps = _randn_like(x0, generator)
    tt = t.view(-1, *([1] * (x0.ndim - 1)))
    x_t = (1 - tt) * x0 + tt * eps
    if labels is not None:
        labels = drop_labels(labels, model.null_label, p_uncond, generator)
    return F.mse_loss(model(x_t, t, labels), eps - x0)


@torch.no_grad()
def flow_sample(
    model: nn.Module,
    shape: tuple[int, ...],
    labels: torch.Tensor | None = None,
    guidance: float = 0.0,
    steps: int = 20,
    method: str = "euler",
    generator: torch.Generator | None = None,
    keep_trajectory: bool = False,
    device: torch.device | str | None = None,
) -> torch.Tensor | tuple[torch.Tensor, list[tuple[float, torch.Tensor]]]:
    """Integrate dx/dt = v(x, t) from noise at t = 1 to data at t = 0 in ``steps`` equal steps.

    ``method="euler"`` uses one network evaluation per step; ``"heun"`` (Heun's
    second-order method) two, except in the last step, which lands on t = 0 with Euler.
    """
    if method not in ("euler", "heun"):
        raise ValueError(f"method must be 'euler' or 'heun', got {method!r}")
    if steps < 1:
        raise ValueError(f"steps must be positive, got {steps}")
    device = device or next(model.parameters()).device
    x = torch.randn(shape, generator=generator).to(device)
    if labels is not None:
        labels = labels.to(device)
    grid = torch.linspace(1, 0, steps + 1).tolist()
    trajectory = [(1.0, x.cpu())]
    for t, t_next in zip(grid[:-1], grid[1:], strict=True):
        dt = t_next - t
        v = guided(model, x, torch.full((len(x),), t, device=device), labels, guidance)
        if method == "heun" and t_next > 0:
            x_euler = x + dt * v
            v_next = guided(
                model, x_euler, torch.full((len(x),), t_next, device=device), labels, guidance
            )
            x = x + dt * (v + v_next) / 2
        else:
            x = x + dt * v
        if keep_trajectory:
            trajectory.append((t_next, x.cpu()))
    return (x, trajectory) if keep_trajectory else x


def network_evaluations(steps: int, method: str = "euler", guidance: float = 0.0) -> int:
    """Forward passes of the network a sampler makes per image (guidance doubles them)."""
    per_step = {"ddpm": steps, "euler": steps, "heun": 2 * steps - 1}
    if method not in per_step:
        raise ValueError(f"unknown method {method!r}")
    return per_step[method] * (2 if guidance else 1)


# ---------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------


def train_generator(
    model: nn.Module,
    loss_fn: LossFn,
    images: torch.Tensor,
    labels: torch.Tensor | None,
    *,
    steps: int,
    batch_size: int = 128,
    lr: float = 2e-3,
    generator: torch.Generator | None = None,
    progress: bool = True,
    desc: str = "train",
) -> list[float]:
    """Adam with a short warm-up and cosine decay; returns the loss of every step.

    ``loss_fn(model, x_batch, label_batch, generator)`` computes the loss of one batch;
    batches are drawn at random (with ``generator``) from ``images`` and ``labels``.
    """
    if steps < 1:
        raise ValueError(f"steps must be positive, got {steps}")
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    warmup = max(1, min(100, steps // 10))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda i: (
            min(1.0, (i + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(i, steps) / steps))
        ),
    )
    losses = []
    model.train()
    bar = tqdm(range(steps), desc=desc, disable=not progress, leave=False)
    for _ in bar:
        index = torch.randint(0, len(images), (batch_size,), generator=generator).to(images.device)
        yb = labels[index] if labels is not None else None
        loss = loss_fn(model, images[index], yb, generator)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
        if len(losses) % 20 == 0:
            bar.set_postfix(loss=f"{sum(losses[-20:]) / 20:.4f}")
    model.eval()
    return losses


# ---------------------------------------------------------------------------------------------
# Plots behind the lesson's sliders
# ---------------------------------------------------------------------------------------------


def image_row(images: torch.Tensor, pad: int = 1) -> np.ndarray:
    """N x 1 x H x W images in [0, 1] side by side as one H x (N * (W + pad)) array."""
    images = images.detach().cpu().float()
    n, _, h, w = images.shape
    row = torch.ones(h, n * (w + pad) - pad)
    for i, image in enumerate(images):
        row[:, i * (w + pad) : i * (w + pad) + w] = image[0]
    return row.numpy()


def show_forward_process(
    schedule: DiffusionSchedule, x0: torch.Tensor, t: int, eps: torch.Tensor
) -> plt.Figure:
    """Images x_0 (model range) noised to step t in closed form, with alpha_bar_t in the title."""
    x_t = schedule.noise(x0, t, eps)
    ab = float(schedule.alpha_bars[t])
    fig, ax = plt.subplots(figsize=(1.1 * len(x0), 1.6))
    ax.imshow(image_row(to_unit_range(x_t)), cmap="gray", vmin=0, vmax=1)
    ax.set_title(
        f"t = {t}: x_t = {math.sqrt(ab):.3f} x_0 + {math.sqrt(1 - ab):.3f} noise  "
        f"(signal-to-noise ratio {ab / max(1 - ab, 1e-12):.3g})"
    )
    ax.axis("off")
    fig.tight_layout()
    return fig


def show_trajectory(
    trajectory: Sequence[tuple[float, torch.Tensor]], index: int, title: str = "sampling"
) -> plt.Figure:
    """The images of a sampler's trajectory ``[(t, x_t), ...]`` at position ``index``."""
    t, x = trajectory[index]
    fig, ax = plt.subplots(figsize=(1.1 * len(x), 1.6))
    ax.imshow(image_row(to_unit_range(x)), cmap="gray", vmin=0, vmax=1)
    label = f"t = {t:.3f}" if isinstance(t, float) else f"t = {t}"
    ax.set_title(f"{title}: step {index} of {len(trajectory) - 1}, {label}")
    ax.axis("off")
    fig.tight_layout()
    return fig
