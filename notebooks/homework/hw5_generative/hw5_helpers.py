"""Helpers for homework 5 (provided by the course; do not change this file).

- ``check_array``, ``check_scalar`` and ``check_choice``: what the test cells use; a
  failing check says what was expected and what came back.
- ``linear_betas``: the DDPM noise schedule of lesson 18.
- ``noise_predictor``: a given noise-prediction function, the best possible one for a
  Gaussian data set.
- ``plot_histograms`` and ``plot_curves``: to look at results (skipped while grading).
"""

from __future__ import annotations

import os

import numpy as np

GRADING_ENV = "COURSE_GRADING"  # set while the homework is graded: figures are skipped


def _describe(value: object) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"{type(value).__name__} {value!r}"[:200]


def check_array(name: str, got: object, expected: object, atol: float = 0.0, rtol: float = 0.0) -> None:
    """Raise AssertionError, saying what differs, unless ``got`` matches ``expected``.

    Shapes must be equal; an integer ``expected`` needs an integer result; values may
    differ by at most ``atol + rtol * |expected|``.
    """
    expected = np.asarray(expected)
    if not isinstance(got, np.ndarray):
        raise AssertionError(f"{name}: expected a numpy array, got {_describe(got)}")
    if got.shape != expected.shape:
        raise AssertionError(f"{name}: expected shape {expected.shape}, got {got.shape}")
    if got.dtype.kind not in "biuf":
        raise AssertionError(f"{name}: expected numbers, got dtype {got.dtype}")
    if expected.dtype.kind in "iu" and got.dtype.kind not in "iu":
        raise AssertionError(f"{name}: expected integers, got dtype {got.dtype}")
    diff = np.abs(got.astype(np.float64) - expected.astype(np.float64))
    wrong = ~(diff <= atol + rtol * np.abs(expected.astype(np.float64)))  # NaN counts as wrong
    if wrong.any():
        where = tuple(int(i) for i in np.argwhere(wrong)[0])
        allowed = [f"{label} {value:g}" for label, value in (("atol", atol), ("rtol", rtol)) if value]
        message = (
            f"{name}: {int(wrong.sum())} of {wrong.size} values are wrong"
            + (f" (allowed difference: {', '.join(allowed)})" if allowed else "")
            + f"; first at index {list(where)}: expected {expected[where]!r}, got {got[where]!r}"
        )
        if expected.size <= 48:
            message += f"\nexpected:\n{expected}\ngot:\n{got}"
        raise AssertionError(message)


def check_scalar(name: str, got: object, expected: float, atol: float = 0.0, rtol: float = 0.0) -> None:
    """Raise AssertionError unless ``got`` is one number within ``atol + rtol * |expected|``."""
    if isinstance(got, np.ndarray) and got.size == 1:
        got = got.item()
    if isinstance(got, bool) or not isinstance(got, (int, float, np.integer, np.floating)):
        raise AssertionError(f"{name}: expected one number, got {_describe(got)}")
    if not abs(float(got) - expected) <= atol + rtol * abs(expected):
        raise AssertionError(f"{name}: expected {expected!r}, got {float(got)!r}")


def check_choice(name: str, got: object, options: str = "abcd") -> None:
    """Raise AssertionError unless ``got`` is one of the letters in ``options``."""
    if not (isinstance(got, str) and len(got.strip()) == 1 and got.strip().lower() in options):
        raise AssertionError(f"{name}: expected one of {', '.join(repr(o) for o in options)}, got {got!r}")


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
