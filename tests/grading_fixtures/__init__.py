"""Shared set-up for the grading tests: one release of homework 1 per test process.

The grading tests grade their own frozen copy of an earlier homework 1
(``homework/hw1_image_basics``), so that the course's homework can change without
changing the attacks and the scores these tests check.
"""

from __future__ import annotations

import atexit
import functools
import json
import shutil
import tempfile
from pathlib import Path

ASSIGNMENT = "hw1_image_basics"
SOURCE_DIR = Path(__file__).resolve().parent / "homework"
DUE = "2025-03-14 23:59:00 UTC"


@functools.cache
def released_course():  # noqa: ANN201 - (GradingPaths, Release)
    """Release the frozen homework 1 into a temporary grading folder (once per process)."""
    from course_utils.grading.config import GradingPaths
    from course_utils.grading.release import release

    build = Path(tempfile.mkdtemp(prefix="grading-tests-"))
    atexit.register(shutil.rmtree, build, True)
    default = GradingPaths.default(build)
    paths = GradingPaths(root=default.root, source_dir=SOURCE_DIR, build_dir=default.build_dir)
    return paths, release(ASSIGNMENT, paths, due=DUE)


def notebooks() -> tuple[dict, dict]:
    """(student copy, source with solutions) as JSON."""
    paths, made = released_course()
    source = paths.source_dir / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    return json.loads(made.notebook.read_text()), json.loads(source.read_text())
