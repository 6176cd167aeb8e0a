"""Where results go: nbgrader's gradebook, the grader's own record per student, the CSV.

The gradebook holds scores of submissions that were graded. The grader's record
(``results/<assignment>/<student>.json``) also knows what nbgrader cannot express: that
a submission failed pre-flight and why, timed out, crashed, or is being graded right
now. The export joins both and cross-checks them, so a score is only ever shown when the
two agree, the tests have not changed since, and grading finished.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
import warnings
from datetime import datetime, timezone
from pathlib import Path

from .assignment import load_spec
from .config import GradingPaths, open_gradebook
from .grader import ERROR, PREFLIGHT_FAILED, SCORED_STATUSES, GradingResult
from .isolation import is_weaker

IN_PROGRESS = "grading"
STATUS_TEXT = {
    "graded": "graded",
    "timed_out": "graded; some code ran too long and was stopped",
    "crashed": "graded; the kernel crashed and was restarted",
    PREFLIGHT_FAILED: "not graded: failed pre-flight",
    ERROR: "not graded: grader error",
    "incomplete": "not graded: grading was interrupted",
    "stale": "not graded: the tests changed since; grade again",
    "inconsistent": "not graded: gradebook and record disagree; grade again",
    "missing": "no submission",
}


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


def record_path(paths: GradingPaths, assignment: str, student: str) -> Path:
    return paths.results_dir / assignment / f"{student}.json"


def mark_in_progress(paths: GradingPaths, assignment: str, student: str, run_id: str) -> None:
    """Before grading starts: an interrupted run leaves this, never the previous score."""
    _atomic_write(
        record_path(paths, assignment, student),
        json.dumps({"student": student, "assignment": assignment, "status": IN_PROGRESS, "run_id": run_id}),
    )


def read_records(paths: GradingPaths, assignment: str) -> dict[str, dict]:
    records = {}
    folder = paths.results_dir / assignment
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            records[path.stem] = json.loads(path.read_text())
        except (OSError, ValueError):
            records[path.stem] = {"student": path.stem, "status": "inconsistent", "reason": "unreadable record"}
    return records


def save(paths: GradingPaths, result: GradingResult, run_id: str, submission: dict) -> dict:
    """Write the result to the gradebook (scores) and to the grader's record (everything)."""
    record = result.to_dict()
    record.update(run_id=run_id, graded_at=datetime.now(timezone.utc).isoformat(timespec="seconds"), **submission)
    record["late"], record["seconds_late"], record["late_penalty"] = bool(submission.get("marked_late")), 0.0, 0.0
    autograded = paths.autograded_dir / result.student / result.assignment
    with open_gradebook(paths) as gb, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*not in session.*")  # nbgrader with SQLAlchemy 2
        if result.status in SCORED_STATUSES:
            gb.update_or_create_student(result.student)
            stamp = submission.get("timestamp")
            sub = gb.update_or_create_submission(result.assignment, result.student, timestamp=stamp)
            seconds_late = float(sub.total_seconds_late or 0.0)
            record["seconds_late"] = seconds_late
            record["late"] = record["late"] or seconds_late > 0
            for grade_id, test in result.tests.items():
                grade = gb.find_grade(grade_id, result.assignment, result.assignment, result.student)
                grade.auto_score, grade.manual_score, grade.needs_manual_grade = test.score, None, False
            penalty = (result.score or 0.0) if record["late"] and submission.get("late_policy") == "zero" else 0.0
            notebook = gb.find_submission_notebook(result.assignment, result.assignment, result.student)
            notebook.late_submission_penalty = penalty or None
            gb.db.commit()
            record["late_penalty"] = penalty
            record["score"] = (result.score or 0.0) - penalty
        else:
            try:
                gb.remove_submission(result.assignment, result.student)
            except Exception:  # noqa: BLE001 - nbgrader.api.MissingEntry: nothing stale to remove
                gb.db.rollback()
            record["score"] = None
    shutil.rmtree(paths.feedback_dir / result.student / result.assignment, ignore_errors=True)  # now outdated
    if result.status in SCORED_STATUSES and result.notebook is not None:
        import nbformat

        autograded.mkdir(parents=True, exist_ok=True)
        nbformat.write(nbformat.from_dict(result.notebook), str(autograded / f"{result.assignment}.ipynb"))
    elif autograded.exists():
        shutil.rmtree(autograded, ignore_errors=True)
    _atomic_write(record_path(paths, result.assignment, result.student), json.dumps(record, indent=1))
    return record


def export_rows(paths: GradingPaths, assignment: str) -> list[dict]:
    """One row per student: status, score (only when trustworthy), per-test scores, notes."""
    spec = load_spec(assignment, paths)
    tests = [c.grade_id for c in spec.tests]
    records = read_records(paths, assignment)
    automatic: dict[str, dict[str, float]] = {}  # what the autograder wrote
    final: dict[str, dict[str, float]] = {}  # with manual changes made in nbgrader's formgrader
    with open_gradebook(paths) as gb:
        roster = [s.id for s in gb.students]
        for sub in gb.assignment_submissions(assignment):
            auto, score = {}, {}
            for notebook in sub.notebooks:
                for grade in notebook.grades:
                    auto[grade.cell.name] = None if grade.auto_score is None else float(grade.auto_score)
                    score[grade.cell.name] = float(grade.score)
            automatic[sub.student.id], final[sub.student.id] = auto, score
    rows = []
    for student in sorted(set(records) | set(roster)):
        record = records.get(student)
        row = {"student_id": student, "status": "missing", "score": "", "max_score": f"{spec.max_score:g}",
               "late": "", "seconds_late": "", "late_penalty": ""}  # fmt: skip
        row.update({grade_id: "" for grade_id in tests})
        row["notes"] = ""
        if record is None:
            rows.append(row)
            continue
        status = record.get("status", "inconsistent")
        notes = [record.get("reason", "")] + record.get("incidents", []) + record.get("warnings", [])
        if status in SCORED_STATUSES and is_weaker(record.get("sandbox", "")):
            notes.append(f"weaker isolation: graded without bubblewrap ({record['sandbox']})")
        if status == IN_PROGRESS:
            status = "incomplete"
        elif status in SCORED_STATUSES:
            recorded = {k: float(v["score"]) for k, v in record.get("tests", {}).items()}
            if record.get("release_checksum") != spec.checksum:
                status = "stale"
            elif automatic.get(student) != recorded or set(recorded) != set(tests):
                status = "inconsistent"
        row["status"] = status
        if status in SCORED_STATUSES:
            scores = final[student]
            if scores != recorded:
                notes.insert(0, "scores changed by hand in the gradebook")
            row.update({k: f"{v:g}" for k, v in scores.items()})
            row["score"] = f"{sum(scores.values()) - float(record.get('late_penalty') or 0):g}"
            row["late"] = "yes" if record.get("late") else "no"
            row["seconds_late"] = f"{record.get('seconds_late', 0):.0f}"
            row["late_penalty"] = f"{record.get('late_penalty', 0):g}"
        row["notes"] = " | ".join(n for n in notes if n)[:2000]
        rows.append(row)
    return rows


def export_csv(paths: GradingPaths, assignment: str, output: Path | None = None) -> Path:
    rows = export_rows(paths, assignment)
    output = Path(output) if output else paths.build_dir / f"{assignment}_grades.csv"
    output.parent.mkdir(parents=True, exist_ok=True)
    fields = list(rows[0]) if rows else ["student_id", "status", "score", "max_score"]
    with open(output, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return output
