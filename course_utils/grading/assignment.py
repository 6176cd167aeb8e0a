"""What the grader knows about a released assignment, read from the gradebook and the release.

The gradebook holds the pristine source of every test and read-only cell (hidden tests
included: nbgrader saves them before removing them from the student copy) and the
points of every test cell. The release folder gives the cell order, the text students
were given, and the helper files shipped with the notebook. Everything here is plain
data, so it can be handed to grading worker processes.
"""

from __future__ import annotations

import ast
import hashlib
import json
from dataclasses import dataclass, field

from .config import GradingPaths, open_gradebook

ANSWER, TEST, READONLY, PLAIN = "answer", "test", "readonly", "plain"


class AssignmentError(RuntimeError):
    """The assignment is not released, or its release and gradebook disagree."""


@dataclass(frozen=True)
class Cell:
    """One cell of the released notebook, with what the grader needs to know about it."""

    role: str  # answer | test | readonly | plain (a cell without nbgrader markup)
    cell_type: str  # code | markdown | raw
    source: str  # pristine source (tests with their hidden part); the stub for answers
    released: str  # the text the students were given
    grade_id: str | None = None
    cell_id: str | None = None
    points: float = 0.0
    hidden: bool = False  # a test cell with a hidden part
    functions: tuple[str, ...] = ()  # names an answer cell defines at top level


@dataclass(frozen=True)
class AssignmentSpec:
    """A released assignment as the grader sees it."""

    assignment: str
    notebook: str  # file name of the notebook students hand in
    cells: tuple[Cell, ...]
    helper_files: dict[str, bytes] = field(default_factory=dict)  # shipped with the notebook
    release_dir: str = ""
    duedate: str | None = None  # ISO format, UTC

    @property
    def graded(self) -> dict[str, Cell]:
        return {c.grade_id: c for c in self.cells if c.grade_id}

    @property
    def tests(self) -> list[Cell]:
        return [c for c in self.cells if c.role == TEST]

    @property
    def max_score(self) -> float:
        return float(sum(c.points for c in self.tests))

    @property
    def functions(self) -> tuple[str, ...]:
        """Every function the students write (the names tests call)."""
        return tuple(name for c in self.cells if c.role == ANSWER for name in c.functions)

    @property
    def setup_cells(self) -> list[Cell]:
        """Read-only code cells before the first answer: tests may use what they define."""
        setup = []
        for cell in self.cells:
            if cell.role == ANSWER:
                break
            if cell.role == READONLY and cell.cell_type == "code":
                setup.append(cell)
        return setup

    @property
    def hidden_lines(self) -> set[str]:
        """Lines that only the hidden part of a test has (they must never reach a student)."""
        lines: set[str] = set()
        for cell in self.tests:
            shown = {line.strip() for line in cell.released.split("\n")}
            lines |= {
                line.strip()
                for line in cell.source.split("\n")
                if len(line.strip()) >= 12 and line.strip() not in shown and "HIDDEN TESTS" not in line
            }
        return lines

    @property
    def checksum(self) -> str:
        """Changes when a test, its points, a read-only cell or a helper file changes."""
        digest = hashlib.sha256()
        for cell in self.cells:
            if cell.role in (TEST, READONLY, ANSWER):
                digest.update(json.dumps([cell.grade_id, cell.role, cell.source, cell.points]).encode())
        for name in sorted(self.helper_files):
            digest.update(name.encode() + hashlib.sha256(self.helper_files[name]).digest())
        return digest.hexdigest()[:16]


def defined_functions(source: str) -> tuple[str, ...]:
    """Names of the functions a cell defines at top level."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return ()
    return tuple(node.name for node in tree.body if isinstance(node, ast.FunctionDef))


def _role(meta: dict) -> str:
    if not meta:
        return PLAIN
    if meta.get("solution") and meta.get("grade"):
        return "manual"
    if meta.get("task"):
        return "manual"
    if meta.get("solution"):
        return ANSWER
    if meta.get("grade"):
        return TEST
    if meta.get("locked"):
        return READONLY
    return PLAIN


def load_spec(assignment: str, paths: GradingPaths | None = None) -> AssignmentSpec:
    """Read the released assignment; fails clearly if it was never released or was changed."""
    import nbformat

    paths = paths or GradingPaths.default()
    folder = paths.release_dir / assignment
    notebook_path = folder / f"{assignment}.ipynb"
    if not notebook_path.is_file() or not paths.db_path.is_file():
        raise AssignmentError(
            f"{assignment} has not been released here ({notebook_path} is missing). "
            f"Run: python3 course.py release {assignment}"
        )
    released = nbformat.read(notebook_path, as_version=4)
    with open_gradebook(paths) as gb:
        try:
            notebook = gb.find_notebook(assignment, assignment)
        except Exception as error:  # nbgrader.api.MissingEntry
            raise AssignmentError(
                f"The gradebook has no notebook {assignment} for assignment {assignment}; "
                f"release it again: python3 course.py release {assignment}"
            ) from error
        sources = {c.name: c.source for c in notebook.source_cells}
        points = {c.name: float(c.max_score) for c in notebook.grade_cells}
        duedate = notebook.assignment.duedate
    cells = []
    for raw in released.cells:
        meta = raw.metadata.get("nbgrader", {})
        role = _role(meta)
        if role == "manual":
            raise AssignmentError(
                f"Cell {meta.get('grade_id')!r} needs manual grading; this grader handles "
                "autograded answers and tests only."
            )
        grade_id = meta.get("grade_id") if role != PLAIN else None
        if grade_id is not None and grade_id not in sources:
            raise AssignmentError(
                f"Cell {grade_id!r} of the release is not in the gradebook: release {assignment} again."
            )
        source = sources[grade_id] if grade_id else raw.source
        cells.append(
            Cell(
                role=role,
                cell_type=raw.cell_type,
                source=source,
                released=raw.source,
                grade_id=grade_id,
                cell_id=raw.get("id"),
                points=points.get(grade_id, 0.0) if role == TEST else 0.0,
                hidden=role == TEST and "BEGIN HIDDEN TESTS" in source,
                functions=defined_functions(raw.source) if role == ANSWER else (),
            )
        )
    ids = [c.grade_id for c in cells if c.grade_id]
    if len(ids) != len(set(ids)):
        raise AssignmentError(f"{notebook_path} has duplicate grade ids.")
    if set(ids) != set(sources) or set(points) != {c.grade_id for c in cells if c.role == TEST}:
        raise AssignmentError(
            f"The release of {assignment} and the gradebook disagree; release it again."
        )
    helpers = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path != notebook_path and "__pycache__" not in path.parts:
            helpers[str(path.relative_to(folder))] = path.read_bytes()
    return AssignmentSpec(
        assignment=assignment,
        notebook=notebook_path.name,
        cells=tuple(cells),
        helper_files=helpers,
        release_dir=str(folder),
        duedate=duedate.isoformat() if duedate else None,
    )
