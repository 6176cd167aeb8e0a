"""Run profiles: one switch that scales data sizes, epochs and steps.

``COURSE_PROFILE=fast`` is what the tests use (2 CPU cores, small subsets, few
epochs); ``full`` (the default) gives learners the strongest results. A notebook
states the full-size number once, for example ``profile.samples(50_000)``, and the
profile derives the fast-size number from it, so no notebook keeps two sets.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TypeVar

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

    def samples(self, full: int, minimum: int = 1) -> int:
        """Number of examples to use where the full lesson uses ``full``."""
        return _scale(full, self.data_fraction, self.max_samples, minimum)

    def epochs(self, full: int, minimum: int = 1) -> int:
        """Number of epochs to train where the full lesson trains ``full``."""
        return _scale(full, self.epoch_fraction, self.max_epochs, minimum)

    def steps(self, full: int, minimum: int = 1) -> int:
        """Number of optimisation or sampling steps where the full lesson uses ``full``."""
        return _scale(full, self.step_fraction, self.max_steps, minimum)

    def pick(self, *, fast: T, full: T) -> T:
        """Choose a value by profile; use it for expected-result bands, not for sizes."""
        return fast if self.is_fast else full


def _scale(full: int, fraction: float, cap: int | None, minimum: int) -> int:
    if full < 1:
        raise ValueError(f"a full-profile size must be a positive integer, got {full!r}")
    value = round(full * fraction)
    if cap is not None:
        value = min(value, cap)
    return min(full, max(minimum, value))


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


def get_profile(name: str | None = None) -> Profile:
    """Return the profile named ``name`` or by ``COURSE_PROFILE`` (default ``full``)."""
    chosen = (name or os.environ.get(PROFILE_ENV) or "full").strip().lower()
    try:
        return PROFILES[chosen]
    except KeyError:
        raise ValueError(
            f"Unknown run profile {chosen!r}. Set {PROFILE_ENV} to one of: "
            f"{', '.join(sorted(PROFILES))} (or leave it unset for 'full')."
        ) from None
