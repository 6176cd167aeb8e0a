"""Every homework releases cleanly: its solution scores full marks and the untouched
student copy scores 0, failing only with the stubs (``course.py release``'s self-check),
under the limits the assignment declares in its ``grading.toml``."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from course_utils.grading.config import GradingPaths, assignment_limits
from course_utils.grading.release import release, self_check

ROOT = Path(__file__).resolve().parents[1]
HOMEWORK = sorted(p.parent.name for p in (ROOT / "notebooks" / "homework").glob("*/*.ipynb") if p.stem == p.parent.name)
ALREADY_CHECKED: set[str] = set()  # the grading pipeline tests grade their own frozen copy of homework 1


def test_every_lesson_block_has_its_homework():
    assert [name.split("_")[0] for name in HOMEWORK] == ["hw1", "hw2", "hw3", "hw4", "hw5"], HOMEWORK


@pytest.mark.parametrize("assignment", [a for a in HOMEWORK if a not in ALREADY_CHECKED])
def test_homework_solution_scores_full_and_student_copy_scores_zero(assignment, tmp_path):
    paths = GradingPaths(ROOT, ROOT / "notebooks" / "homework", tmp_path / "grading")
    made = release(assignment, paths)
    assert made.max_score > 0
    assert not (made.folder / "grading.toml").exists()
    start = time.monotonic()
    lines = self_check(assignment, paths, assignment_limits(paths, assignment))
    print(f"\n[{assignment}] {made.max_score:g} points; " + "; ".join(lines) + f" ({time.monotonic() - start:.0f} s)")
    scores = [tuple(float(x) for x in line.rsplit(" ", 1)[-1].split("/")) for line in lines]
    assert scores == [(made.max_score, made.max_score), (0.0, made.max_score)], lines
