"""What the first code cell of every lesson calls."""

from __future__ import annotations

import os
import platform
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch

from ..verification.results import lesson_seconds
from .device import pick_device, seed_everything
from .plotting import use_course_style
from .profile import Profile, choose_profile

STRICT_WARNINGS_ENV = "COURSE_STRICT_WARNINGS"


@dataclass(frozen=True)
class Lesson:
    """The settings a lesson runs with."""

    device: torch.device
    profile: Profile
    seed: int
    generator: torch.Generator
    profile_reason: str = ""

    def describe(self) -> str:
        return (
            f"profile={self.profile.name} device={self.device} seed={self.seed} "
            f"torch={torch.__version__} python={platform.python_version()}"
        )

    def explain_profile(self, notebook: str | None = None) -> str:
        """Which profile runs, why, and how long this lesson took in it when last verified."""
        text = f"The '{self.profile.name}' profile runs: {self.profile_reason}."
        times = lesson_seconds(self.profile.name)
        name = Path(notebook or os.environ.get("JPY_SESSION_NAME", "")).name
        if name in times:
            text += f" This lesson took {times[name] / 60:.1f} min in it when last verified (results/{self.profile.name}.md)."
        elif not times:
            text += f" No run of this profile is recorded yet (results/{self.profile.name}.md)."
        return text


def start_lesson(seed: int = 0, device: str | None = None) -> Lesson:
    """Seed everything, pick the device, apply the plot style and the profile's CPU threads."""
    profile, reason = choose_profile()
    if profile.cpu_threads:
        torch.set_num_threads(profile.cpu_threads)
    if os.environ.get(STRICT_WARNINGS_ENV):
        # Deprecated calls made by course code or by the notebook itself are errors in tests.
        for category in (DeprecationWarning, FutureWarning):
            warnings.filterwarnings("error", category=category, module=r"(course_utils|__main__)")
    use_course_style()
    lesson = Lesson(
        device=pick_device(device),
        profile=profile,
        seed=seed,
        generator=seed_everything(seed),
        profile_reason=reason,
    )
    print(lesson.describe())
    print(lesson.explain_profile())
    return lesson
