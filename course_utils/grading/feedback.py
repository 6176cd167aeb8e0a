"""Feedback pages for students: nbgrader's HTML feedback, checked to reveal no hidden test.

Graded submissions get nbgrader's feedback page, made from the graded notebook (in which
hidden tests show only "passed" or "failed") and the gradebook's scores. Submissions that
could not be graded get a short page that says why. Everything is also zipped into
``feedback/<assignment>_feedback.zip`` (one folder per student) for upload to an LMS.
"""

from __future__ import annotations

import html
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from .assignment import load_spec
from .config import GradingPaths
from .grader import SCORED_STATUSES
from .preprocessors import nbgrader_config
from .records import STATUS_TEXT, read_records


class FeedbackLeakError(RuntimeError):
    """A feedback page would have shown hidden test code; it was deleted."""


@dataclass
class FeedbackReport:
    pages: dict[str, Path] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)
    zip_path: Path | None = None


def _not_graded_page(assignment: str, record: dict) -> str:
    status = record.get("status", "")
    reason = record.get("reason") or STATUS_TEXT.get(status, status)
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(assignment)}</title></head><body>"
        f"<h2>{html.escape(assignment)}: your submission could not be graded</h2>"
        f"<p>{html.escape(reason)}</p>"
        "<p>Fix this and hand the notebook in again, or ask your teaching assistant.</p></body></html>"
    )


def generate(assignment: str, paths: GradingPaths | None = None, students: list[str] | None = None) -> FeedbackReport:
    """Write one feedback page per student with a record; returns where they are."""
    from nbgrader.apps import NbGraderAPI

    paths = paths or GradingPaths.default()
    spec = load_spec(assignment, paths)
    secret = spec.hidden_lines
    api = NbGraderAPI(config=nbgrader_config(paths))
    report = FeedbackReport()
    for student, record in sorted(read_records(paths, assignment).items()):
        if students and student not in students:
            continue
        folder = paths.feedback_dir / student / assignment
        page = folder / f"{assignment}.html"
        if record.get("status") in SCORED_STATUSES:
            outcome = api.generate_feedback(assignment, student, force=True)
            if not outcome.get("success") or not page.is_file():
                report.problems[student] = str(outcome.get("error") or outcome.get("log"))[-2000:]
                continue
        else:
            folder.mkdir(parents=True, exist_ok=True)
            page.write_text(_not_graded_page(assignment, record))
        text = html.unescape(page.read_text(errors="replace"))
        leaked = [line for line in secret if line in text]
        if leaked:
            page.unlink()
            raise FeedbackLeakError(f"the feedback page for {student} showed hidden test code ({leaked[0]!r})")
        report.pages[student] = page
    report.zip_path = paths.feedback_dir / f"{assignment}_feedback.zip"
    report.zip_path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(report.zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
        for student, page in sorted(report.pages.items()):
            archive.write(page, f"{student}/{page.name}")
    return report
