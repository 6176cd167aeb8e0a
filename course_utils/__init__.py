"""Helpers shared by the course's lessons and homework, grouped by lecture block.

``core`` (every lesson), ``images`` (01-04), ``classifiers`` (05-07), ``convnets``
(08-12), ``dense`` (13-16), ``generative`` (17-18) and ``grading`` (homework). The names
lessons use most are importable from here directly; they are loaded on first use
(PEP 562), so ``import course_utils.grading`` does not import PyTorch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# name -> the module that defines it
_EXPORTS = {
    "ArrayImageDataset": "core.datasets",
    "DATASET_NAMES": "core.datasets",
    "DatasetNotFoundError": "core.datasets",
    "ImageSet": "core.datasets",
    "find_dataset": "core.datasets",
    "load_images": "core.datasets",
    "torchvision_dataset": "core.datasets",
    "pick_device": "core.device",
    "seed_everything": "core.device",
    "ChecksumError": "core.integrity",
    "Lesson": "core.lesson",
    "start_lesson": "core.lesson",
    "PHOTOS": "core.photos",
    "load_photo": "core.photos",
    "compare": "core.plotting",
    "show_images": "core.plotting",
    "to_display": "core.plotting",
    "use_course_style": "core.plotting",
    "Profile": "core.profile",
    "get_profile": "core.profile",
    "assert_at_least": "core.reporting",
    "assert_at_most": "core.reporting",
    "report": "core.reporting",
    "History": "core.history",
    "plot_history": "core.history",
    "batches": "core.training",
    "evaluate": "core.training",
    "fit": "core.training",
}

__all__ = [
    "ArrayImageDataset",
    "ChecksumError",
    "DATASET_NAMES",
    "DatasetNotFoundError",
    "History",
    "ImageSet",
    "Lesson",
    "PHOTOS",
    "Profile",
    "assert_at_least",
    "assert_at_most",
    "batches",
    "compare",
    "evaluate",
    "find_dataset",
    "fit",
    "get_profile",
    "load_images",
    "load_photo",
    "pick_device",
    "plot_history",
    "report",
    "seed_everything",
    "show_images",
    "start_lesson",
    "to_display",
    "torchvision_dataset",
    "use_course_style",
]


def __getattr__(name: str) -> Any:
    """Import the module behind ``name`` on first use and cache the value here."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'course_utils' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:  # for type checkers and editors: the same names, imported eagerly
    from .core.datasets import (
        DATASET_NAMES,
        ArrayImageDataset,
        DatasetNotFoundError,
        ImageSet,
        find_dataset,
        load_images,
        torchvision_dataset,
    )
    from .core.device import pick_device, seed_everything
    from .core.history import History, plot_history
    from .core.integrity import ChecksumError
    from .core.lesson import Lesson, start_lesson
    from .core.photos import PHOTOS, load_photo
    from .core.plotting import compare, show_images, to_display, use_course_style
    from .core.profile import Profile, get_profile
    from .core.reporting import assert_at_least, assert_at_most, report
    from .core.training import batches, evaluate, fit
