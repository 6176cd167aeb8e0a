"""Release an assignment: nbgrader's student copy (stubs, no hidden tests), checked and zipped."""

from __future__ import annotations

import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbgrader.apps import NbGraderAPI

from .assignment import load_spec
from .config import GradingPaths, Limits, open_gradebook
from .grader import GRADED, grade_files
from .kernel import become_subreaper
from .preprocessors import nbgrader_config

CHECKS_SOURCE = Path(__file__).with_name("checks.py")
CHECKS_FILE = "checks.py"
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


class ReleaseError(RuntimeError):
    """The assignment could not be released, or its student copy is not safe to hand out."""


@dataclass(frozen=True)
class Release:
    """What ``release`` produced."""

    assignment: str
    folder: Path
    zip_path: Path
    notebook: Path
    max_score: float


def source_folder(paths: GradingPaths, assignment: str) -> Path:
    folder = paths.source_dir / assignment
    if not (folder / f"{assignment}.ipynb").is_file():
        known = sorted(p.name for p in paths.source_dir.iterdir() if p.is_dir()) if paths.source_dir.is_dir() else []
        raise ReleaseError(
            f"No source notebook {folder / (assignment + '.ipynb')}. Assignments found in "
            f"{paths.source_dir}: {', '.join(known) or 'none'}."
        )
    return folder


def _check_student_copy(notebook: Path, source: Path) -> None:
    """Refuse a student copy that leaks solutions or hidden tests."""
    released = nbformat.read(notebook, as_version=4)
    text = "\n".join(cell.source for cell in released.cells)
    leaked = [marker for marker in MARKERS if marker in text]
    if leaked:
        raise ReleaseError(f"{notebook} still contains {leaked}; check the source's markup.")
    original = nbformat.read(source, as_version=4)
    secret_lines = set()
    for cell in original.cells:
        inside = False
        for line in cell.source.split("\n"):
            if any(m in line for m in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS")):
                inside = True
            elif any(m in line for m in ("END SOLUTION", "END HIDDEN TESTS")):
                inside = False
            elif inside and len(line.strip()) >= 12:
                secret_lines.add(line.strip())
    released_lines = {line.strip() for line in text.split("\n")}
    shown = sorted(secret_lines & released_lines)
    if shown:
        raise ReleaseError(
            f"{notebook} shows lines that are also inside solution or hidden-test regions: {shown[:3]}"
        )


def release(assignment: str, paths: GradingPaths | None = None, due: str | None = None) -> Release:
    """Generate the student copy with nbgrader, record the assignment in the gradebook, zip it.

    ``due`` (e.g. ``"2025-03-14 23:59:00 Europe/Berlin"``) is stored as the assignment's
    due date; submissions with a later ``timestamp.txt`` count as late.
    """
    paths = paths or GradingPaths.default()
    source = source_folder(paths, assignment)
    paths.build_dir.mkdir(parents=True, exist_ok=True)
    for leftover in source.rglob("__pycache__"):
        shutil.rmtree(leftover, ignore_errors=True)
    api = NbGraderAPI(config=nbgrader_config(paths))
    outcome = api.generate_assignment(assignment, force=True, create=True)
    if not outcome.get("success"):
        raise ReleaseError(
            f"nbgrader could not generate {assignment}:\n{outcome.get('error') or outcome.get('log')}"
        )
    folder = paths.release_dir / assignment
    # The shared checks travel with every assignment; its helpers import them from here.
    shutil.copyfile(CHECKS_SOURCE, folder / CHECKS_FILE)
    notebook = folder / f"{assignment}.ipynb"
    _check_student_copy(notebook, source / f"{assignment}.ipynb")
    with open_gradebook(paths) as gb:
        if due is not None:
            gb.update_or_create_assignment(assignment, duedate=due)
        max_score = float(gb.find_assignment(assignment).max_score)
    zip_path = paths.release_dir / f"{assignment}.zip"
    tmp = zip_path.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                archive.write(path, Path(assignment) / path.relative_to(folder))
    tmp.replace(zip_path)
    return Release(assignment, folder, zip_path, notebook, max_score)


def self_check(assignment: str, paths: GradingPaths | None = None, limits: Limits | None = None) -> list[str]:
    """Grade the solution (must score full marks) and the student copy (must score 0 and
    fail only with the stubs' NotImplementedError). Returns a line per check; raises
    ReleaseError if one fails."""
    paths = paths or GradingPaths.default()
    limits = limits or Limits()
    become_subreaper()
    spec = load_spec(assignment, paths)
    deny = [str(p) for p in paths.instructor_only()]
    solution = (paths.source_dir / assignment / spec.notebook).read_bytes()
    student_copy = (Path(spec.release_dir) / spec.notebook).read_bytes()
    lines, problems = [], []
    full = grade_files(spec, "solution", {spec.notebook: solution}, limits, deny)
    lines.append(f"solution notebook: {full.status}, {full.score}/{spec.max_score:g}")
    if full.status != GRADED or full.score != spec.max_score:
        failed = [f"{k}: {t.message}" for k, t in full.tests.items() if t.score < t.points]
        problems.append(f"the solution does not score full marks ({full.reason or '; '.join(failed)[:1500]})")
    empty = grade_files(spec, "student-copy", {spec.notebook: student_copy}, limits, deny)
    lines.append(f"student copy: {empty.status}, {empty.score}/{spec.max_score:g}")
    if empty.status != GRADED or empty.score != 0:
        problems.append(f"the student copy scores {empty.score} ({empty.status}) instead of 0")
    others = [k for k, t in empty.tests.items() if "NotImplementedError" not in t.message]
    if others:
        problems.append(f"tests of the student copy fail with something else than the stubs: {others}")
    if problems:
        raise ReleaseError("Self-check failed: " + "; ".join(problems))
    return lines
