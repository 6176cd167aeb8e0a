"""Grade a batch of submissions in parallel worker processes, and say how it went.

The parent process reads the submissions, keeps a copy of each in ``submitted/``, marks
each student as being graded, and hands the students to a pool of worker processes.
Each worker grades one submission at a time (its kernel in a sandbox) and returns plain
data; only the parent writes the gradebook and the records. If a worker process dies,
its submission is graded again by a fresh worker, and recorded as a grader error if
that fails too; nothing one submission does can stop the others.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import isolation, records
from .assignment import AssignmentSpec, load_spec
from .config import GradingOptions, GradingPaths, Limits
from .grader import (
    CRASHED,
    ERROR,
    GRADED,
    PREFLIGHT_FAILED,
    TIMED_OUT,
    GradingResult,
    grade_files,
    read_files,
)
from .intake import Submission, discover
from .kernel import become_subreaper
from .workers import WorkerPool

_WORKER: dict = {}


def _worker_start(spec: AssignmentSpec, deny: list[str], limits: Limits, sandbox_parent: str | None) -> None:
    become_subreaper()
    _WORKER.update(spec=spec, deny=deny, limits=limits, sandbox_parent=sandbox_parent)
    import numpy  # noqa: F401 - loaded once per worker, not once per test


def _worker_grade(student: str, folder: str, problem: str) -> GradingResult:
    w = _WORKER
    files = read_files(Path(folder)) if not problem else {}
    return grade_files(w["spec"], student, files, w["limits"], w["deny"], problem, w["sandbox_parent"])


@dataclass
class BatchReport:
    """What a grading run did."""

    assignment: str
    results: list[GradingResult] = field(default_factory=list)
    records: dict[str, dict] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    workers: int = 1
    sandbox_choice: isolation.Choice | None = None

    @property
    def counts(self) -> Counter:
        return Counter(r.status for r in self.results)

    @property
    def per_minute(self) -> float:
        return 60.0 * len(self.results) / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        counts = self.counts
        lines = [
            f"Graded {len(self.results)} submissions of {self.assignment} in {self.seconds:.0f} s "
            f"with {self.workers} worker processes ({self.per_minute:.1f} per minute).",
            f"  graded: {counts[GRADED]}   timed out: {counts[TIMED_OUT]}   crashed: {counts[CRASHED]}   "
            f"failed pre-flight: {counts[PREFLIGHT_FAILED]}   grader errors: {counts[ERROR]}",
        ]
        for status, title in ((PREFLIGHT_FAILED, "Failed pre-flight (not graded)"),
                              (ERROR, "Grader errors (not graded; see the reason, then grade them again)"),
                              (TIMED_OUT, "Timed out (graded; code that ran too long was stopped)"),
                              (CRASHED, "Crashed (graded; the kernel was restarted)")):  # fmt: skip
            chosen = [r for r in self.results if r.status == status]
            if chosen:
                lines.append(f"{title}:")
                for r in chosen:
                    why = r.reason or "; ".join(r.incidents[:2])
                    recorded = self.records.get(r.student, {}).get("score")
                    score = f" [{recorded:g}/{r.max_score:g}]" if recorded is not None else ""
                    lines.append(f"  {r.student}{score}: {why}")
        tampered = [r for r in self.results if r.warnings]
        if tampered:
            lines.append("Pre-flight warnings (graded with the original test cells and helper files):")
            for r in tampered:
                lines.append(f"  {r.student}: " + "; ".join(r.warnings[:4]) + (" ..." if len(r.warnings) > 4 else ""))
        sandboxes = sorted({r.sandbox for r in self.results if r.sandbox})
        if sandboxes:
            lines.append(f"Sandbox: {', '.join(sandboxes)}")
        weaker = [s for s in sandboxes if isolation.is_weaker(s)]
        if weaker:
            choice = self.sandbox_choice
            why = f" ({choice.problem})" if choice and choice.problem else ""
            lines.append(
                f"  WEAKER ISOLATION: kernels ran without bubblewrap{why}, under {', '.join(weaker)}. "
                "They were not cut off from the network, and when grading as root they kept uid 0. "
                "Install bubblewrap (see the README) and use --require-isolation to refuse such runs."
            )
            if "audit-hooks" in weaker:
                lines.append("  (no Landlock either: file access was limited by audit hooks only)")
        lines += self.notes
        return "\n".join(lines)


def _store_submitted(paths: GradingPaths, assignment: str, sub: Submission) -> None:
    folder = paths.submitted_dir / sub.student / assignment
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for relative, content in sub.files.items():
        target = (folder / relative).resolve()
        if folder.resolve() in target.parents:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)


def grade_batch(
    assignment: str,
    source: Path,
    paths: GradingPaths | None = None,
    options: GradingOptions | None = None,
    students: list[str] | None = None,
    log: Callable[[str], None] = print,
    sandbox_parent: str | None = None,
) -> BatchReport:
    """Grade every submission in ``source`` (a folder or an LMS export zip)."""
    paths = paths or GradingPaths.default()
    options = options or GradingOptions()
    spec = load_spec(assignment, paths)
    submissions, notes = discover(Path(source), spec.notebook)
    if students:
        wanted = set(students)
        submissions = [s for s in submissions if s.student in wanted]
    report = BatchReport(assignment, notes=notes, workers=min(options.worker_count(), max(1, len(submissions))))
    deny = [str(p) for p in paths.instructor_only()] + [str(Path(source).resolve())]
    report.sandbox_choice = isolation.choose(options.limits.sandbox, deny)
    if options.require_isolation:
        isolation.require(report.sandbox_choice)
    limits = replace(options.limits, sandbox=report.sandbox_choice.mode)  # the workers need not choose again
    if not submissions:
        report.notes.append(f"No submissions found in {source}.")
        return report
    run_id = uuid.uuid4().hex[:12]
    details: dict[str, dict] = {}
    for sub in submissions:
        records.mark_in_progress(paths, assignment, sub.student, run_id)
        _store_submitted(paths, assignment, sub)
        sub.files = {}  # the workers read the stored copy
        details[sub.student] = {
            "origin": sub.origin,
            "timestamp": sub.timestamp.isoformat(sep=" ") if sub.timestamp else None,
            "marked_late": sub.marked_late,
            "late_policy": options.late_penalty,
        }
    start = time.monotonic()
    log(f"Grading {len(submissions)} submissions of {assignment} with {report.workers} worker processes ...")
    pool = WorkerPool(report.workers, _worker_start, (spec, deny, limits, sandbox_parent))
    tasks = {s.student: (s.student, str(paths.submitted_dir / s.student / assignment), s.problem) for s in submissions}
    try:
        for student, status, value in pool.run(_worker_grade, tasks):
            if status != "ok":
                value = GradingResult(student, assignment, ERROR, reason=str(value), max_score=spec.max_score,
                                      release_checksum=spec.checksum)  # fmt: skip
            _finish(paths, report, value, run_id, details[student], log, len(submissions))
    except KeyboardInterrupt:
        log("Interrupted: the students not yet graded show as 'incomplete' in the export.")
        raise
    report.seconds = time.monotonic() - start
    report.results.sort(key=lambda r: r.student)
    return report


def _finish(paths: GradingPaths, report: BatchReport, result: GradingResult, run_id: str, detail: dict,
            log: Callable[[str], None], total: int) -> None:  # fmt: skip
    try:
        record = records.save(paths, result, run_id, detail)
    except Exception as error:  # noqa: BLE001 - keep going; the record still says 'grading'
        result.status, result.reason = ERROR, f"could not record the result: {type(error).__name__}: {error}"
        record = {"score": None}
    report.results.append(result)
    report.records[result.student] = record
    score = record.get("score")
    shown = f"{score:g}/{result.max_score:g}" if score is not None else "-"
    late = " (late)" if record.get("late") else ""
    log(f"[{len(report.results)}/{total}] {result.student}: {result.status} {shown}{late} ({result.seconds:.1f} s)")
