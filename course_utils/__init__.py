"""Helpers shared by the course's lessons and homework."""

from .datasets import (
    DATASET_NAMES,
    ArrayImageDataset,
    DatasetNotFoundError,
    ImageSet,
    find_dataset,
    load_images,
    torchvision_dataset,
)
from .device import pick_device, seed_everything
from .integrity import ChecksumError
from .lesson import Lesson, start_lesson
from .photos import PHOTOS, load_photo
from .plotting import compare, plot_history, show_images, to_display, use_course_style
from .profile import Profile, get_profile
from .reporting import assert_at_least, assert_at_most, report
from .training import History, batches, evaluate, fit

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
