"""Run profiles: one switch that scales data sizes, epochs and steps.

Three profiles:

- ``full``: whole data sets and schedules, sized for one modern GPU; the default where
  a CUDA GPU is found;
- ``laptop``: the default on a CPU (or Apple MPS): subsets and shorter schedules chosen
  so that each lesson finishes in minutes on two cores and still shows a working model;
- ``fast``: what the tests use (small subsets, few epochs, a minute or so per lesson).

``COURSE_PROFILE`` overrides the choice. A notebook states the full-size number once,
for example ``profile.samples(50_000)``, and each profile derives its own number from
it, so no notebook keeps three sets.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TypeVar

import torch

T = TypeVar("T")

PROFILE_ENV = "COURSE_PROFILE"


@dataclass(frozen=True)
class Profile:
    """How much work a run does, relative to the full lesson."""

    name: str
    data_fraction: float
    max_samples: int | None
    epoch_fraction: float
    max_epochs: int | None
    step_fraction: float
    max_steps: int | None
    cpu_threads: int | None

    @property
    def is_fast(self) -> bool:
        return self.name == "fast"

    @property
    def is_full(self) -> bool:
        """True only for ``full``: guard full-size claims with this, not ``not is_fast``."""
        return self.name == "full"

    def samples(self, full: int, minimum: int = 1, laptop: int | None = None) -> int:
        """Number of examples to use where the full lesson uses ``full``.

        ``laptop`` sets the laptop profile's number for this call, where a lesson has
        measured what its model needs to work within the laptop budget.
        """
        return self._laptop(laptop, full) or _scale(full, self.data_fraction, self.max_samples, minimum)

    def epochs(self, full: int, minimum: int = 1, laptop: int | None = None) -> int:
        """Number of epochs to train where the full lesson trains ``full`` (``laptop``: as above)."""
        return self._laptop(laptop, full) or _scale(full, self.epoch_fraction, self.max_epochs, minimum)

    def steps(self, full: int, minimum: int = 1, laptop: int | None = None) -> int:
        """Number of optimisation or sampling steps where the full lesson uses ``full``."""
        return self._laptop(laptop, full) or _scale(full, self.step_fraction, self.max_steps, minimum)

    def _laptop(self, value: int | None, full: int) -> int | None:
        if self.name != "laptop" or value is None:
            return None
        if value < 1:
            raise ValueError(f"a laptop-profile size must be a positive integer, got {value!r}")
        return min(full, value)

    def pick(self, *, fast: T, full: T, laptop: T | None = None) -> T:
        """Choose a value by profile; use it for expected-result bands, not for sizes.

        Without a ``laptop`` value the laptop profile takes the ``fast`` one: it trains at
        least as much as ``fast``, so the smaller claim is the one it can be held to.
        """
        if self.name == "laptop":
            return fast if laptop is None else laptop
        return fast if self.is_fast else full


def _scale(full: int, fraction: float, cap: int | None, minimum: int) -> int:
    if full < 1:
        raise ValueError(f"a full-profile size must be a positive integer, got {full!r}")
    value = round(full * fraction)
    if cap is not None:
        value = min(value, cap)
    return min(full, max(minimum, value))


# Three profiles of the same shape on purpose: each names every knob, so they read as a table.
PROFILES: dict[str, Profile] = {
    "fast": Profile(
        name="fast",
        data_fraction=0.1,
        max_samples=5_000,
        epoch_fraction=0.2,
        max_epochs=3,
        step_fraction=0.1,
        max_steps=500,
        cpu_threads=2,
    ),
    "laptop": Profile(
        name="laptop",
        data_fraction=0.4,
        max_samples=20_000,
        epoch_fraction=0.5,
        max_epochs=8,
        step_fraction=0.4,
        max_steps=4_000,
        cpu_threads=None,
    ),
    "full": Profile(
        name="full",
        data_fraction=1.0,
        max_samples=None,
        epoch_fraction=1.0,
        max_epochs=None,
        step_fraction=1.0,
        max_steps=None,
        cpu_threads=None,
    ),
}


def default_profile_name(cuda_available: bool) -> tuple[str, str]:
    """The profile used when ``COURSE_PROFILE`` is unset, and why."""
    if cuda_available:
        return "full", "a CUDA GPU was found"
    return "laptop", "no CUDA GPU was found (the full profile is sized for one)"


def choose_profile(name: str | None = None) -> tuple[Profile, str]:
    """The profile named ``name``, by ``COURSE_PROFILE``, or by the hardware; and why."""
    chosen = (name or os.environ.get(PROFILE_ENV) or "").strip().lower()
    if name:
        reason = "asked for by name"
    elif chosen:
        reason = f"set by {PROFILE_ENV}"
    else:
        chosen, why = default_profile_name(torch.cuda.is_available())
        reason = f"{PROFILE_ENV} is unset and {why}"
    try:
        return PROFILES[chosen], reason
    except KeyError:
        raise ValueError(
            f"Unknown run profile {chosen!r}. Set {PROFILE_ENV} to one of: "
            f"{', '.join(sorted(PROFILES))} (or leave it unset: 'full' on a CUDA GPU, "
            "'laptop' otherwise)."
        ) from None


def get_profile(name: str | None = None) -> Profile:
    """Return the profile named ``name``, by ``COURSE_PROFILE``, or chosen by the hardware."""
    return choose_profile(name)[0]
