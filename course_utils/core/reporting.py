"""Claims that lessons make about their results: checked, printed and collected.

When ``COURSE_REPORT_FILE`` is set (the test suite and ``course.py verify`` set it),
every reported metric is appended there as one JSON line: asserted ones with their
bound and direction, reported ones without, so a run can list what each notebook
claimed and what it only measured.
"""

from __future__ import annotations

import json
import os
import time

REPORT_ENV = "COURSE_REPORT_FILE"


def _record(entry: dict[str, object]) -> None:
    path = os.environ.get(REPORT_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry | {"time": time.time()}) + "\n")


def report(name: str, value: float) -> float:
    """Print a named result and record it (a measured number, with no claim attached)."""
    print(f"{name}: {value:.4g}")
    _record({"name": name, "value": float(value)})
    return value


def _claim(name: str, value: float, bound: float, direction: str) -> float:
    passed = bool(value >= bound) if direction == ">=" else bool(value <= bound)
    print(f"{name}: {value:.4g} (claimed {direction} {bound:.4g})")
    _record({"name": name, "value": float(value), "bound": float(bound), "direction": direction, "passed": passed})
    if not passed:
        side = "below" if direction == ">=" else "above"
        raise AssertionError(f"{name} is {value:.4g}, {side} the {bound:.4g} this lesson claims.")
    return value


def assert_at_least(name: str, value: float, minimum: float) -> float:
    """Report ``value`` with its claimed minimum; fail with a readable message below it."""
    return _claim(name, value, minimum, ">=")


def assert_at_most(name: str, value: float, maximum: float) -> float:
    """Report ``value`` with its claimed maximum; fail with a readable message above it."""
    return _claim(name, value, maximum, "<=")
