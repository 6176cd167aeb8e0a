"""Plausible wrong answers for every homework, each with the test cells it must fail.

One module per assignment, named after it (``hw1_image_basics.py``), defines
``WRONG_ANSWERS``: a list of :class:`WrongAnswer`. A wrong answer replaces one or more
answer cells of the solution (by the cell's nbgrader ``grade_id``) and names the test
cells that must fail because of it; every other test must still pass.
``tests/test_homework_wrong_answers.py`` grades them all and checks the exact scores,
and that every test cell of every assignment rejects at least one wrong answer.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass


@dataclass(frozen=True)
class WrongAnswer:
    """A mistake a student could make, and the tests that must catch it."""

    name: str  # becomes the student id: lower case letters, digits and _
    about: str  # the mistake in a few words (the answer key uses the same words)
    answers: dict[str, str]  # answer cell grade_id -> the code that replaces the solution
    fails: frozenset[str]  # test cell grade_ids that must give 0 points


def assignments() -> list[str]:
    """Assignments that have a module of wrong answers here."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def wrong_answers(assignment: str) -> list[WrongAnswer]:
    return list(importlib.import_module(f"{__name__}.{assignment}").WRONG_ANSWERS)
