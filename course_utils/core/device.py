"""Device choice and reproducible seeding."""

from __future__ import annotations

import os
import random

import numpy as np
import torch


def pick_device(prefer: str | None = None) -> torch.device:
    """Return the best available device: CUDA, then Apple MPS, then CPU.

    ``prefer`` (or the ``COURSE_DEVICE`` environment variable) forces one of
    ``"cuda"``, ``"mps"`` or ``"cpu"``; asking for one that is not available is an error.
    """
    wanted = prefer or os.environ.get("COURSE_DEVICE")
    available = {
        "cuda": torch.cuda.is_available(),
        "mps": bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available(),
        "cpu": True,
    }
    if wanted:
        wanted = wanted.lower()
        if wanted not in available:
            raise ValueError(f"Unknown device {wanted!r}; choose one of {sorted(available)}.")
        if not available[wanted]:
            raise RuntimeError(
                f"Device {wanted!r} was requested but is not available here. "
                "Unset COURSE_DEVICE to let the course choose automatically."
            )
        return torch.device(wanted)
    for name in ("cuda", "mps", "cpu"):
        if available[name]:
            return torch.device(name)
    raise AssertionError("unreachable: the CPU is always available")


def seed_everything(seed: int = 0) -> torch.Generator:
    """Seed Python, NumPy and PyTorch (all devices) and return a seeded CPU generator."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    return torch.Generator().manual_seed(seed)
