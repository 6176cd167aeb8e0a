"""Claims that lessons make about their results: checked, printed and collected.

When ``COURSE_REPORT_FILE`` is set (the test suite sets it), every reported
metric is appended there as one JSON line, so the test run can print a table of
what each notebook measured.
"""

from __future__ import annotations

import json
import os
import time

REPORT_ENV = "COURSE_REPORT_FILE"


def report(name: str, value: float) -> float:
    """Print a named result and record it for the test run's summary table."""
    print(f"{name}: {value:.4g}")
    path = os.environ.get(REPORT_ENV)
    if path:
        line = json.dumps({"name": name, "value": float(value), "time": time.time()})
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")
    return value


def assert_at_least(name: str, value: float, minimum: float) -> float:
    """Report ``value`` and fail with a readable message if it is below ``minimum``."""
    report(name, value)
    if not value >= minimum:
        raise AssertionError(f"{name} is {value:.4g}, below the {minimum:.4g} this lesson claims.")
    return value


def assert_at_most(name: str, value: float, maximum: float) -> float:
    """Report ``value`` and fail with a readable message if it is above ``maximum``."""
    report(name, value)
    if not value <= maximum:
        raise AssertionError(f"{name} is {value:.4g}, above the {maximum:.4g} this lesson claims.")
    return value
