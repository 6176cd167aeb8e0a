"""Trained models cached on disk, each with a SHA-256 sidecar that is checked on every load.

A lesson that pretrains a model calls ``load_or_train``: the first run trains and
saves the weights under ``cache_dir()/checkpoints/``; later runs (and later
lessons) load them in a second. A missing, damaged or mismatched file is never
used: it is deleted and the model is trained again.

Files, for a checkpoint named ``name``:

- ``<name>.pt``: ``{"state_dict": ..., "meta": {...}}`` written by ``torch.save``;
- ``<name>.pt.sha256``: its digest in ``sha256sum`` format, so
  ``sha256sum -c <name>.pt.sha256`` checks it by hand too.
"""

from __future__ import annotations

import hashlib
import json
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .integrity import sha256_of
from .paths import cache_dir

_SUFFIX = ".pt"
_SIDECAR = ".sha256"


def config_key(config: Mapping[str, Any]) -> str:
    """A short, stable digest of a JSON-serialisable configuration (12 hex digits)."""
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def checkpoint_dir() -> Path:
    """The folder that holds the course's cached checkpoints (created when missing)."""
    path = cache_dir() / "checkpoints"
    path.mkdir(parents=True, exist_ok=True)
    return path


def checkpoint_path(name: str) -> Path:
    """Where the checkpoint ``name`` lives (letters, digits, ``-``, ``_`` and ``.`` only)."""
    if not name or any(not (c.isalnum() or c in "-_.") for c in name):
        raise ValueError(f"checkpoint names use letters, digits, '-', '_' and '.', got {name!r}")
    return checkpoint_dir() / f"{name}{_SUFFIX}"


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + _SIDECAR)


def save_checkpoint(model: nn.Module, name: str, meta: Mapping[str, Any] | None = None) -> Path:
    """Save ``model.state_dict()`` and ``meta`` as checkpoint ``name``, then its SHA-256 sidecar.

    Both files are written to temporary names first and renamed, so an
    interrupted save leaves no file that looks valid.
    """
    path = checkpoint_path(name)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"state_dict": state, "meta": dict(meta or {})}, tmp)
    digest = sha256_of(tmp)
    side_tmp = _sidecar(tmp)
    side_tmp.write_text(f"{digest}  {path.name}\n")
    tmp.replace(path)
    side_tmp.replace(_sidecar(path))
    return path


def verify_checkpoint(name: str) -> bool:
    """True when checkpoint ``name`` and its sidecar exist and the digest matches."""
    path = checkpoint_path(name)
    side = _sidecar(path)
    if not (path.is_file() and side.is_file()):
        return False
    expected = side.read_text().split()[:1]
    return bool(expected) and sha256_of(path) == expected[0]


def load_checkpoint(model: nn.Module, name: str) -> dict[str, Any] | None:
    """Load checkpoint ``name`` into ``model`` and return its ``meta``; ``None`` if unusable.

    A file whose digest does not match its sidecar, that cannot be read, or whose
    tensors do not fit ``model`` is deleted (with a warning) so it is rebuilt.
    """
    path = checkpoint_path(name)
    if not path.exists() and not _sidecar(path).exists():
        return None
    problem = None
    if not verify_checkpoint(name):
        problem = "its SHA-256 does not match the sidecar (or a file is missing)"
    else:
        try:
            saved = torch.load(path, map_location="cpu", weights_only=True)
            model.load_state_dict(saved["state_dict"])
            return dict(saved.get("meta", {}))
        except (RuntimeError, KeyError, ValueError, OSError) as error:
            problem = f"it does not load into this model ({type(error).__name__}: {error})"
    warnings.warn(
        f"Ignoring the cached checkpoint {path.name}: {problem}. It will be trained again.",
        stacklevel=2,
    )
    delete_checkpoint(name)
    return None


def delete_checkpoint(name: str) -> None:
    """Remove checkpoint ``name`` and its sidecar, if present."""
    path = checkpoint_path(name)
    path.unlink(missing_ok=True)
    _sidecar(path).unlink(missing_ok=True)


@dataclass
class CachedModel:
    """What ``load_or_train`` returns: the model, where it came from, and its metadata."""

    model: nn.Module
    name: str
    loaded: bool
    meta: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        how = "loaded from the cache" if self.loaded else "trained now and cached"
        return f"{self.name}: {how} ({checkpoint_path(self.name)})"


def load_or_train(
    model: nn.Module,
    name: str,
    config: Mapping[str, Any],
    train: Callable[[nn.Module], Mapping[str, Any] | None],
) -> CachedModel:
    """Load the cached weights for (``name``, ``config``) into ``model``, or train and cache them.

    ``train(model)`` trains in place and may return metrics to keep as metadata
    (for example the pretraining accuracy). The checkpoint's file name is ``name``
    plus a digest of ``config``, so a change of data size, epochs or architecture
    trains a new model instead of loading a stale one. The training time in seconds
    is kept as ``meta["train_seconds"]``.
    """
    key = f"{name}-{config_key(config)}"
    meta = load_checkpoint(model, key)
    if meta is not None:
        return CachedModel(model, key, loaded=True, meta=meta)
    start = time.perf_counter()
    metrics = dict(train(model) or {})
    meta = {"config": dict(config), **metrics, "train_seconds": time.perf_counter() - start}
    save_checkpoint(model, key, json.loads(json.dumps(meta, default=str)))
    return CachedModel(model, key, loaded=False, meta=meta)
