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

from .answer_key import Mistake, load_answer_key, recognise
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


def _mistakes_section(found: list[Mistake]) -> str:
    items = "".join(
        f"<li><b>{html.escape(m.name)}</b> (costs {m.points:g} point{'s' if m.points != 1 else ''})"
        + (f": {html.escape(m.advice)}" if m.advice else "") + "</li>"
        for m in found
    )
    return (
        "<div id='recognised-mistakes' style='border:2px solid #c60;padding:.5em 1em;margin:1em'>"
        f"<h3>What the grader recognised</h3><ul>{items}</ul></div>"
    )


def _add_mistakes(page: Path, found: list[Mistake]) -> None:
    text = page.read_text(errors="replace")
    section = _mistakes_section(found)
    at = text.find("</body>")
    page.write_text(text[:at] + section + text[at:] if at >= 0 else text + section)


def generate(assignment: str, paths: GradingPaths | None = None, students: list[str] | None = None) -> FeedbackReport:
    """Write one feedback page per student with a record; returns where they are."""
    from nbgrader.apps import NbGraderAPI

    paths = paths or GradingPaths.default()
    spec = load_spec(assignment, paths)
    secret = spec.hidden_lines
    mistakes = load_answer_key(paths.source_dir / assignment, set(spec.graded))
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
            found = recognise(mistakes, record.get("tests", {}))
            if found:
                _add_mistakes(page, found)
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
