"""Where the grading files live, nbgrader's settings, and the limits student code runs under.

Layout (``<root>`` is the repository, ``<build>`` is ``<root>/build/grading``, git-ignored)::

    <root>/notebooks/homework/<assignment>/       source: solutions and hidden tests
    <build>/release/<assignment>/ and .zip        the student copy
    <build>/submitted/<student>/<assignment>/     what each student handed in
    <build>/autograded/<student>/<assignment>/    the graded notebook (hidden tests removed)
    <build>/feedback/<student>/<assignment>/      HTML feedback for the student
    <build>/results/<assignment>/<student>.json   the grader's record: status, scores, notes
    <build>/gradebook.db                          nbgrader's gradebook (SQLite)

nbgrader's settings for these folders are in ``preprocessors`` (``nbgrader_config``).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT_ENV = "COURSE_GRADING_ROOT"
BUILD_ENV = "COURSE_GRADING_BUILD"
SOURCE_SUBDIR = Path("notebooks") / "homework"
BUILD_SUBDIR = Path("build") / "grading"
SETTINGS_FILE = "grading.toml"  # optional, next to an assignment's source notebook; not released
ANSWER_KEY_FILE = "answer_key.toml"  # the instructor's common mistakes and their points; not released


def default_root() -> Path:
    """The course repository: ``COURSE_GRADING_ROOT``, else this checkout, else the cwd."""
    value = os.environ.get(ROOT_ENV)
    if value:
        return Path(value).expanduser().resolve()
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").is_file() and (checkout / SOURCE_SUBDIR).is_dir():
        return checkout
    return Path.cwd().resolve()


@dataclass(frozen=True)
class GradingPaths:
    """The folders of one course: source assignments and the git-ignored grading build."""

    root: Path
    source_dir: Path
    build_dir: Path

    @classmethod
    def default(cls, build_dir: str | Path | None = None) -> GradingPaths:
        root = default_root()
        build = build_dir or os.environ.get(BUILD_ENV) or root / BUILD_SUBDIR
        return cls(root=root, source_dir=root / SOURCE_SUBDIR, build_dir=Path(build).resolve())

    # One property per folder of the grading build, alike on purpose (the layout above).
    @property
    def release_dir(self) -> Path:
        return self.build_dir / "release"

    @property
    def submitted_dir(self) -> Path:
        return self.build_dir / "submitted"

    @property
    def autograded_dir(self) -> Path:
        return self.build_dir / "autograded"

    @property
    def feedback_dir(self) -> Path:
        return self.build_dir / "feedback"

    @property
    def results_dir(self) -> Path:
        return self.build_dir / "results"

    @property
    def db_path(self) -> Path:
        return self.build_dir / "gradebook.db"

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.db_path}"

    def instructor_only(self) -> list[Path]:
        """Folders student code must never read: sources, hidden tests, the gradebook, others' work."""
        return [self.root, self.source_dir, self.build_dir]


def ensure_nbgrader_tools() -> None:
    """Put this Python's scripts folder on PATH: nbgrader runs ``alembic`` to create a gradebook."""
    scripts = str(Path(sys.executable).parent)
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")


def open_gradebook(paths: GradingPaths):  # noqa: ANN201 - nbgrader.api.Gradebook
    """nbgrader's gradebook of this course (created on first use)."""
    # Imported here: grading workers import this module but never open the gradebook.
    from nbgrader.api import Gradebook

    ensure_nbgrader_tools()
    paths.build_dir.mkdir(parents=True, exist_ok=True)
    return Gradebook(paths.db_url)


@dataclass(frozen=True)
class Limits:
    """What one submission may use while it is graded."""

    cell_timeout: float = 60.0  # seconds per cell, and per call a test makes
    interrupt_grace: float = 3.0  # seconds a kernel gets to stop after an interrupt
    submission_timeout: float = 600.0  # seconds for the whole notebook, restarts included
    startup_timeout: float = 120.0  # seconds for a kernel to start (slow, busy machines)
    memory_mb: int = 2048  # address space of the kernel process
    cpu_seconds: int = 1800  # CPU time of the kernel process (a backstop)
    file_mb: int = 64  # largest file the kernel may write
    max_output_chars: int = 20_000  # kept per cell; the rest is dropped
    max_restarts: int = 4  # kernel restarts after a crash or a kill
    max_notebook_mb: float = 20.0  # a bigger submitted notebook fails pre-flight
    max_files_mb: float = 50.0  # all submitted files together
    # "auto": bubblewrap where it works, else the fallback; "bubblewrap"; the fallback on its
    # own: "landlock" (Landlock where the OS has it, else audit hooks) or "audit" (audit hooks)
    sandbox: str = "auto"


@dataclass(frozen=True)
class GradingOptions:
    """Options of a grading run."""

    limits: Limits = field(default_factory=Limits)
    jobs: int = 0  # parallel worker processes; 0 = one per CPU core
    late_penalty: str = "none"  # "none" (flag late work) or "zero" (late work scores 0)
    require_isolation: bool = False  # refuse to grade where bubblewrap cannot isolate the kernels

    def worker_count(self) -> int:
        return self.jobs if self.jobs > 0 else max(1, os.cpu_count() or 1)


def assignment_limits(paths: GradingPaths, assignment: str, base: Limits | None = None) -> Limits:
    """The limits an assignment is graded under: ``base`` (the defaults) with the values of
    the assignment's ``grading.toml`` (e.g. ``memory_mb = 6144`` for homework that uses torch)."""
    base = base or Limits()
    settings = paths.source_dir / assignment / SETTINGS_FILE
    if not settings.is_file():
        return base
    try:
        values = tomllib.loads(settings.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{settings} is not valid TOML: {error}") from error
    known = {f.name: type(getattr(base, f.name)) for f in fields(Limits)}
    changes = {}
    for key, value in values.items():
        if key not in known:
            raise ValueError(f"{settings}: unknown setting {key!r}; known: {', '.join(sorted(known))}")
        kind = known[key]
        if kind is str:
            ok = isinstance(value, str)
        else:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0
            ok = ok and (kind is float or isinstance(value, int))
        if not ok:
            raise ValueError(f"{settings}: {key} = {value!r} is not a valid {kind.__name__}")
        changes[key] = kind(value)
    return replace(base, **changes)
