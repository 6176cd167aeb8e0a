"""Where the course finds data sets and keeps its caches."""

from __future__ import annotations

import os
from pathlib import Path

DATASETS_ENV = "COURSE_DATASETS_DIR"
CACHE_ENV = "COURSE_CACHE_DIR"
OFFLINE_ENV = "COURSE_OFFLINE"

_REPO_ROOT = Path(__file__).resolve().parents[1]


def repo_data_dir() -> Path | None:
    """The repository's ``data/`` folder when the course runs from a checkout."""
    candidate = _REPO_ROOT / "data"
    return candidate if (_REPO_ROOT / "pyproject.toml").is_file() else None


def datasets_dir() -> Path | None:
    """The configured, possibly shared and read-only, dataset folder (``COURSE_DATASETS_DIR``)."""
    value = os.environ.get(DATASETS_ENV)
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_dir():
        raise FileNotFoundError(
            f"{DATASETS_ENV} is set to {value!r}, which is not a folder. Point it at the "
            f"folder that holds MNIST/, FashionMNIST/ or CIFAR-10, or unset it to use data/."
        )
    return path


def download_dir() -> Path:
    """Writable folder where torchvision downloads data sets: ``data/`` or ``~/.cache/cv-course``."""
    base = repo_data_dir() or Path.home() / ".cache" / "cv-course"
    base.mkdir(parents=True, exist_ok=True)
    return base


def cache_dir() -> Path:
    """Writable folder for decoded arrays and checkpoints (``COURSE_CACHE_DIR`` overrides)."""
    value = os.environ.get(CACHE_ENV)
    path = Path(value).expanduser() if value else download_dir() / "cache"
    path.mkdir(parents=True, exist_ok=True)
    return path


def offline() -> bool:
    """True when downloads are switched off (``COURSE_OFFLINE=1``)."""
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}
