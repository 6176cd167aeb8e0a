"""The instructor's answer key: common mistakes, the points they cost, and how to spot them.

``notebooks/homework/<assignment>/answer_key.toml`` (never released) lists mistakes::

    [[mistake]]
    name = "truncates instead of rounding"      # a few words, shown to the student
    tests = ["test_quantize_hidden"]             # the test cells that catch it
    points = 1                                   # what it costs in total
    message = "expected 36, got 34"             # a regular expression on those tests' failure
    advice = "Round to the nearest level."      # shown to the student with the name

A mistake is recognised in a graded submission when every one of its tests failed and
the failure of at least one of them matches ``message``. The feedback page then names
it, with its advice, so a student learns what went wrong even from a hidden test.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from .config import ANSWER_KEY_FILE


class AnswerKeyError(ValueError):
    """An answer key that cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class Mistake:
    name: str
    tests: tuple[str, ...]
    points: float
    message: str
    advice: str = ""


def load_answer_key(folder: Path, test_ids: set[str] | None = None) -> list[Mistake]:
    """The mistakes in ``folder/answer_key.toml`` (none when there is no file)."""
    path = Path(folder) / ANSWER_KEY_FILE
    if not path.is_file():
        return []
    try:
        entries = tomllib.loads(path.read_text()).get("mistake", [])
        mistakes = [
            Mistake(str(e["name"]), tuple(e["tests"]), float(e["points"]), str(e["message"]), str(e.get("advice", "")))
            for e in entries
        ]
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as error:
        raise AnswerKeyError(f"{path}: {error} (each [[mistake]] needs name, tests, points, message)") from error
    for mistake in mistakes:
        try:
            re.compile(mistake.message)
        except re.error as error:
            raise AnswerKeyError(f"{path}: mistake {mistake.name!r}: bad regular expression: {error}") from error
        unknown = set(mistake.tests) - test_ids if test_ids is not None else set()
        if unknown or not mistake.tests:
            raise AnswerKeyError(f"{path}: mistake {mistake.name!r} names no test or unknown tests {sorted(unknown)}")
    return mistakes


def recognise(mistakes: list[Mistake], tests: dict[str, dict[str, Any]]) -> list[Mistake]:
    """The mistakes a graded record shows: all their tests failed, one failure matches."""
    found = []
    for mistake in mistakes:
        results = [tests.get(t) for t in mistake.tests]
        if any(r is None or float(r["score"]) >= float(r["points"]) for r in results):
            continue
        texts = [f"{r.get('detail', '')}\n{r.get('message', '')}" for r in results if r]
        if any(re.search(mistake.message, text) for text in texts):
            found.append(mistake)
    return found
