"""Helpers for homework 5 (provided by the course; do not change this file).

- ``check_array``, ``check_scalar`` and ``check_choice``: what the test cells use (from
  the course's ``checks.py``); a failing check says what was expected and what came back.
- ``linear_betas``: the DDPM noise schedule of lesson 18.
- ``noise_predictor``: a given noise-prediction function, the best possible one for a
  Gaussian data set.
- ``plot_histograms`` and ``plot_curves``: to look at results (skipped while grading).
"""

from __future__ import annotations

import os

import numpy as np

try:  # a released assignment: checks.py is shipped beside this file
    from checks import check_array, check_choice, check_scalar
except ModuleNotFoundError:  # the instructor's source folder, inside the course
    from course_utils.grading.checks import check_array, check_choice, check_scalar

__all__ = ["check_array", "check_choice", "check_scalar", "linear_betas", "noise_predictor", "plot_curves",
           "plot_histograms"]

GRADING_ENV = "COURSE_GRADING"  # set while the homework is graded: figures are skipped


def linear_betas(T: int = 1000, beta_1: float = 1e-4, beta_T: float = 0.02) -> np.ndarray:
    """The noise variances beta_1..beta_T, rising linearly (``betas[t - 1]`` is beta_t)."""
    return np.linspace(beta_1, beta_T, T)


def noise_predictor(x_t, t, alpha_bar, data_mean, data_std) -> np.ndarray:
    """A noise-prediction function eps_theta(x_t, t) whose parameters theta are
    ``data_mean`` and ``data_std``.

    For data whose every entry is drawn from N(data_mean, data_std**2), it returns the best
    possible guess of the noise in ``x_t = sqrt(alpha_bar[t]) x_0 + sqrt(1 - alpha_bar[t]) eps``,
    the conditional mean E[eps | x_t] =
    sqrt(1 - alpha_bar[t]) (x_t - sqrt(alpha_bar[t]) data_mean) / (alpha_bar[t] data_std**2 + 1 - alpha_bar[t]).

    ``x_t`` has shape (N, ...), ``t`` is an integer or an integer array of shape (N,) (one
    step per example), ``alpha_bar`` holds alpha_bar_0 = 1, alpha_bar_1, ..., alpha_bar_T.
    """
    x_t = np.asarray(x_t, dtype=np.float64)
    ab = np.asarray(alpha_bar, dtype=np.float64)[np.asarray(t)]
    ab = ab.reshape(ab.shape + (1,) * (x_t.ndim - ab.ndim))
    return np.sqrt(1 - ab) * (x_t - np.sqrt(ab) * data_mean) / (ab * data_std**2 + 1 - ab)


def plot_histograms(samples: dict, title: str = "", density=None) -> None:
    """Histograms of 1-D samples, one per dict entry, optionally over a density curve."""
    if os.environ.get(GRADING_ENV):
        return
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3))
    for label, values in samples.items():
        ax.hist(np.ravel(values), bins=60, density=True, alpha=0.5, label=label)
    if density is not None:
        grid, values = density
        ax.plot(grid, values, "k", label="true density")
    ax.set(title=title, xlabel="x", ylabel="density")
    ax.legend()
    fig.tight_layout()
    plt.show()


def plot_curves(x, curves: dict, title: str, xlabel: str, ylabel: str) -> None:
    """Several curves over the same x (skipped while grading)."""
    if os.environ.get(GRADING_ENV):
        return
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3))
    for label, values in curves.items():
        ax.plot(x, values, label=label)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.legend()
    fig.tight_layout()
    plt.show()
