"""What the first code cell of every lesson calls."""

from __future__ import annotations

import os
import platform
import warnings
from dataclasses import dataclass

import torch

from .device import pick_device, seed_everything
from .plotting import use_course_style
from .profile import Profile, get_profile

STRICT_WARNINGS_ENV = "COURSE_STRICT_WARNINGS"


@dataclass(frozen=True)
class Lesson:
    """The settings a lesson runs with."""

    device: torch.device
    profile: Profile
    seed: int
    generator: torch.Generator

    def describe(self) -> str:
        return (
            f"profile={self.profile.name} device={self.device} seed={self.seed} "
            f"torch={torch.__version__} python={platform.python_version()}"
        )


def start_lesson(seed: int = 0, device: str | None = None) -> Lesson:
    """Seed everything, pick the device, apply the plot style and the profile's CPU threads."""
    profile = get_profile()
    if profile.cpu_threads:
        torch.set_num_threads(profile.cpu_threads)
    if os.environ.get(STRICT_WARNINGS_ENV):
        # Deprecated calls made by course code or by the notebook itself are errors in tests.
        for category in (DeprecationWarning, FutureWarning):
            warnings.filterwarnings("error", category=category, module=r"(course_utils|__main__)")
    use_course_style()
    lesson = Lesson(
        device=pick_device(device), profile=profile, seed=seed, generator=seed_everything(seed)
    )
    print(lesson.describe())
    return lesson
