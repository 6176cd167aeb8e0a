"""The environment check that lesson 00 runs: versions, device, profile, data sets."""

from __future__ import annotations

import platform
import sys
from dataclasses import dataclass
from importlib import metadata

import torch

from .datasets import DATASET_NAMES, find_dataset
from .device import pick_device
from .paths import DATASETS_ENV, cache_dir, datasets_dir
from .profile import PROFILE_ENV, choose_profile

MIN_PYTHON = (3, 10)
PACKAGES = ("torch", "torchvision", "numpy", "matplotlib", "scikit-learn", "scikit-image",
            "opencv-python-headless", "ipywidgets", "tqdm")  # fmt: skip


@dataclass(frozen=True)
class Check:
    """One line of the environment check."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def check_environment() -> list[Check]:
    """Run every check; required ones must pass for the lessons to work."""
    checks = [
        Check(
            "python",
            sys.version_info[:2] >= MIN_PYTHON,
            platform.python_version(),
            f"install Python {MIN_PYTHON[0]}.{MIN_PYTHON[1]} or newer",
        )
    ]
    for package in PACKAGES:
        version = _version(package)
        checks.append(
            Check(package, version is not None, version or "missing",
                  "run `python3 course.py lab` again, or `pip install -e .` in the repository")
        )  # fmt: skip
    device = pick_device()
    accelerator = device.type != "cpu"
    checks.append(
        Check(
            "device",
            True,
            f"{device}" + (f" ({torch.cuda.get_device_name(0)})" if device.type == "cuda" else ""),
            "" if accelerator else "fine for every lesson in the laptop profile; the full profile is sized for a GPU",
        )
    )
    try:
        profile, reason = choose_profile()
        checks.append(Check("profile", True, f"{profile.name}: {reason} (set {PROFILE_ENV} to change)"))
    except ValueError as error:
        checks.append(Check("profile", False, "invalid", str(error)))
    try:
        folder = datasets_dir()
        checks.append(Check("dataset folder", True, str(folder) if folder else f"{DATASETS_ENV} not set"))
    except FileNotFoundError as error:
        checks.append(Check("dataset folder", False, "invalid", str(error)))
        folder = None
    for name in DATASET_NAMES:
        try:
            where = find_dataset(name)
        except FileNotFoundError:
            where = None
        checks.append(
            Check(
                f"data: {name}",
                where is not None,
                where or "not found",
                f"set {DATASETS_ENV}, or when online: python -m course_utils.core.datasets download {name}",
                required=False,
            )
        )
    checks.append(Check("cache folder", True, str(cache_dir())))
    return checks


def verdict(checks: list[Check]) -> str:
    """A one-paragraph summary: ready, ready with warnings, or what to fix first."""
    broken = [c for c in checks if not c.ok and c.required]
    missing = [c for c in checks if not c.ok and not c.required]
    if broken:
        return "Not ready. Fix first: " + "; ".join(f"{c.name}: {c.fix}" for c in broken)
    if missing:
        return (
            "Ready, but some data sets are missing (lessons that use them will say so): "
            + "; ".join(f"{c.name}: {c.fix}" for c in missing)
        )
    return "Ready: everything the course needs was found."


def format_checks(checks: list[Check]) -> str:
    """The checks as an aligned text table."""
    width = max(len(c.name) for c in checks)
    rows = []
    for c in checks:
        mark = "ok " if c.ok else ("FIX" if c.required else "-- ")
        hint = f"  -> {c.fix}" if c.fix and not c.ok else ""
        rows.append(f"[{mark}] {c.name:<{width}}  {c.detail}{hint}")
    return "\n".join(rows)
