"""Shared set-up for the grading tests: one release of homework 1 per test process."""

from __future__ import annotations

import atexit
import functools
import json
import shutil
import tempfile
from pathlib import Path

ASSIGNMENT = "hw1_image_basics"
DUE = "2025-03-14 23:59:00 UTC"


@functools.cache
def released_course():  # noqa: ANN201 - (GradingPaths, Release)
    """Release homework 1 into a temporary grading folder (once per process)."""
    from course_utils.grading.config import GradingPaths
    from course_utils.grading.release import release

    build = Path(tempfile.mkdtemp(prefix="grading-tests-"))
    atexit.register(shutil.rmtree, build, True)
    paths = GradingPaths.default(build)
    return paths, release(ASSIGNMENT, paths, due=DUE)


def notebooks() -> tuple[dict, dict]:
    """(student copy, source with solutions) as JSON."""
    paths, made = released_course()
    source = paths.source_dir / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    return json.loads(made.notebook.read_text()), json.loads(source.read_text())
