"""Checksums for data files, remembered so that a verified file is hashed only once."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .paths import cache_dir

_STAMP_FILE = "verified-files.json"


class ChecksumError(RuntimeError):
    """A data file does not have the content the course expects."""


def sha256_of(path: Path, chunk_size: int = 1 << 20) -> str:
    """Hex SHA-256 digest of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def _stamp_key(path: Path) -> str:
    stat = path.stat()
    return f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"


def _load_stamps(stamp_path: Path) -> dict[str, str]:
    try:
        return json.loads(stamp_path.read_text())
    except (OSError, ValueError):
        return {}


def verify_file(path: Path, expected_sha256: str, fix: str) -> None:
    """Raise ``ChecksumError`` (with ``fix`` in the message) unless ``path`` has the digest.

    A file that passed once is remembered by path, size and modification time.
    """
    stamp_path = cache_dir() / _STAMP_FILE
    stamps = _load_stamps(stamp_path)
    key = _stamp_key(path)
    if stamps.get(key) == expected_sha256:
        return
    actual = sha256_of(path)
    if actual != expected_sha256:
        raise ChecksumError(
            f"{path} is damaged or incomplete: its SHA-256 is {actual[:16]}..., expected "
            f"{expected_sha256[:16]}... ({path.stat().st_size:,} bytes on disk). {fix}"
        )
    stamps[key] = expected_sha256
    tmp = stamp_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(stamps, indent=0))
    tmp.replace(stamp_path)
