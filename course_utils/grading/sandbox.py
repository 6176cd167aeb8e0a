"""The folder one submission is graded in, and the folders its kernel may read.

Each submission gets a private holder folder (mode 0711: others may pass through it but
not list it) with two things inside:

- ``box/``: the sandbox, the only folder the kernel may write. It holds the student's
  files, the helper files shipped with the assignment and ``.grading/`` (the kernel's
  connection file and sockets, and the files that carry test calls in and results out).
  Under bubblewrap the kernel sees it as ``/home/student`` and it belongs to the
  unprivileged user the kernel runs as;
- ``python-N/``: empty folders onto which a Python installation that the unprivileged
  user could not reach is bind-mounted, in a private mount namespace (see ``isolation``).

The grader exchanges files with the kernel in ``.grading/``, which student code can change
at will (plant links, FIFOs, directories). So the grader reaches that folder only through
a descriptor opened before any student code ran, never follows links there, and reads
only regular files of a bounded size.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import site
import stat
import sys
import tempfile
from pathlib import Path

SYSTEM_READ_ONLY = [
    "/usr",
    "/lib",
    "/lib32",
    "/lib64",
    "/bin",
    "/sbin",
    "/etc",
    "/proc",
    "/sys",
    "/dev",
    "/opt",
]


def _within(path: str, roots: list[str]) -> bool:
    return any(os.path.commonpath([path, root]) == path for root in roots)


def python_folders(deny: list[str]) -> list[str]:
    """This Python installation's folders (real paths), minus any folder that would contain
    an instructor folder (a virtualenv inside the course: then only its library parts)."""
    deny = [os.path.realpath(d) for d in deny]
    candidates = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]
    with contextlib.suppress(AttributeError):
        candidates += site.getsitepackages()
    folders: list[str] = []
    for folder in candidates:
        real = os.path.realpath(folder)
        if not os.path.exists(real) or any(_within(f, [real]) for f in folders):
            continue
        if _within(real, deny):  # "/" or a folder above the course: only its library parts
            parts = [os.path.join(real, p) for p in ("lib", "lib64", "bin", "share")]
            folders += [
                p for p in parts if os.path.isdir(p) and not _within(p, deny) and p not in folders
            ]
        else:
            folders = [f for f in folders if not _within(real, [f])] + [real]
    return folders


def read_only_folders(deny: list[str]) -> list[str]:
    """Folders a kernel under Landlock may read: the system and this Python installation."""
    deny_real = [os.path.realpath(d) for d in deny]
    system = [os.path.realpath(p) for p in SYSTEM_READ_ONLY if os.path.exists(p)]
    system = [p for p in system if not _within(p, deny_real)]
    return list(dict.fromkeys(system + python_folders(deny)))


class Sandbox:
    """A private temporary folder for one submission's files and kernel."""

    def __init__(self, parent: str | None = None) -> None:
        self.holder = Path(tempfile.mkdtemp(prefix="cvgrade-", dir=parent)).resolve()
        self.path = self.holder / "box"
        self.path.mkdir(mode=0o700)
        self.inside = self.path  # where the kernel sees the sandbox (see ``isolation``)
        self.control = self.path / ".grading"
        for sub in (self.control, self.path / "tmp", self.path / ".ipython"):
            sub.mkdir()
        self._dir_fd = os.open(self.control, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        self._calls = 0
        self._staged = 0
        self.owner: tuple[int, int] | None = None

    @property
    def inside_control(self) -> Path:
        return self.inside / ".grading"

    def call_names(self) -> tuple[str, str]:
        self._calls += 1
        return f"in-{self._calls}.npz", f"out-{self._calls}.npz"

    def staging_folder(self) -> Path:
        """An empty folder in the holder, for a bind mount the unprivileged user can reach."""
        self._staged += 1
        folder = self.holder / f"python-{self._staged}"
        folder.mkdir(mode=0o755)
        return folder

    def hand_over(self, uid: int, gid: int) -> None:
        """Give the sandbox to the kernel's user (links are changed, never followed)."""
        if self.owner == (uid, gid):
            return
        os.chmod(self.holder, 0o711)
        for folder, subfolders, files in os.walk(self.path):
            for name in [*subfolders, *files]:
                os.chown(os.path.join(folder, name), uid, gid, follow_symlinks=False)
        os.chown(self.path, uid, gid)
        self.owner = (uid, gid)

    def remove_control(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError, IsADirectoryError, PermissionError):
            os.unlink(name, dir_fd=self._dir_fd)

    def write_control(self, name: str, data: bytes, mode: int = 0o644) -> None:
        self.remove_control(name)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(name, flags, mode, dir_fd=self._dir_fd)
        with os.fdopen(fd, "wb") as handle:
            if self.owner is not None:
                os.fchown(handle.fileno(), *self.owner)
            handle.write(data)

    def read_control(self, name: str, limit: int) -> bytes | None:
        """The file's bytes if it is a regular file of at most ``limit`` bytes, else None."""
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            fd = os.open(name, flags, dir_fd=self._dir_fd)
        except OSError:
            return None
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
                return None
            return handle.read(limit + 1)[:limit]

    def cleanup(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._dir_fd)
        shutil.rmtree(self.holder, ignore_errors=True)
