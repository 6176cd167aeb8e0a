"""Checks on a submission before it is graded, and the notebook that is actually graded.

A submission fails pre-flight (and is not graded) when its notebook cannot be found under
the expected name, is too big, is not valid JSON, or is not a notebook. Otherwise the
grader rebuilds the notebook from two sources:

- from the student: the answer cells (matched by their nbgrader ``grade_id``) and every
  cell of their own, in their order;
- from the gradebook: every test and read-only cell, pristine, placed after the cell it
  follows in the release. Whatever the student did to those cells (edited, deleted,
  duplicated, renamed, turned into markdown, points changed) is reported and ignored.

A missing answer cell is replaced by the released stub (it scores nothing). Helper files
shipped with the assignment always come from the release.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from .assignment import ANSWER, PLAIN, READONLY, TEST, AssignmentSpec, Cell
from .config import Limits

MAX_CELLS = 1000


@dataclass
class PlannedCell:
    """A cell of the notebook that is graded."""

    role: str  # answer | test | readonly | plain (the student's own) | stub (missing answer)
    cell_type: str
    source: str
    grade_id: str | None = None


@dataclass
class Preflight:
    ok: bool
    reason: str = ""
    warnings: list[str] = field(default_factory=list)
    plan: list[PlannedCell] = field(default_factory=list)
    notebook_path: str = ""
    extra_files: dict[str, bytes] = field(default_factory=dict)

    def fail(self, reason: str) -> Preflight:
        self.ok, self.reason = False, reason
        return self


def _ignored(path: str) -> bool:
    parts = PurePosixPath(path).parts
    return any(p.startswith(".") or p in ("__MACOSX", "__pycache__") for p in parts) or path.endswith(".pyc")


def _text(source: object) -> str | None:
    if isinstance(source, str):
        return source
    if isinstance(source, list) and all(isinstance(s, str) for s in source):
        return "".join(source)
    return None


def _same(a: str, b: str) -> bool:
    return [line.rstrip() for line in a.strip().split("\n")] == [line.rstrip() for line in b.strip().split("\n")]


def _read_cells(data: bytes, pre: Preflight) -> list[dict] | None:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pre.fail("the notebook is not UTF-8 text (is it really a .ipynb file?)")
        return None
    try:
        nb = json.loads(text)
    except RecursionError:
        pre.fail("the notebook is not valid JSON (nested too deeply)")
        return None
    except ValueError as error:
        pre.fail(f"the notebook is not valid JSON ({error}); open it in Jupyter, save it, resubmit")
        return None
    if not isinstance(nb, dict):
        pre.fail("the file is JSON but not a Jupyter notebook (it has no list of cells)")
        return None
    version = nb.get("nbformat")
    if isinstance(version, int) and not isinstance(version, bool) and version != 4:
        pre.fail(
            f"the notebook has format version {version}; version 4 is needed "
            "(open it in a current Jupyter, save it, and hand it in again)"
        )
        return None
    if not isinstance(nb.get("cells"), list) or version != 4:
        pre.fail("the file is JSON but not a Jupyter notebook (it has no list of cells)")
        return None
    if len(nb["cells"]) > MAX_CELLS:
        pre.fail(f"the notebook has {len(nb['cells'])} cells, more than {MAX_CELLS}")
        return None
    cells = []
    for number, cell in enumerate(nb["cells"], start=1):
        source = _text(cell.get("source")) if isinstance(cell, dict) else None
        if source is None or cell.get("cell_type") not in ("code", "markdown", "raw"):
            pre.fail(f"cell {number} of the notebook is malformed (not a valid notebook)")
            return None
        metadata = cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}
        nbgrader = metadata.get("nbgrader") if isinstance(metadata.get("nbgrader"), dict) else None
        cell_id = cell.get("id") if isinstance(cell.get("id"), str) else None
        cells.append({"cell_type": cell["cell_type"], "source": source, "nbgrader": nbgrader, "id": cell_id})
    try:
        import nbformat

        nbformat.validate(nbformat.from_dict(nb))
    except Exception as error:  # nbformat.ValidationError and friends
        message = str(error).split("\n")[0][:200]
        pre.warnings.append(f"the notebook does not fully follow the notebook format ({message}); graded anyway")
    return cells


def _tampering(ref: Cell, cell: dict, number: int, meta: dict) -> list[str]:
    notes = []
    label = f"{'test' if ref.role == TEST else 'read-only'} cell {ref.grade_id!r} (cell {number})"
    if cell["cell_type"] != ref.cell_type:
        notes.append(f"{label} was turned into a {cell['cell_type']} cell")
    elif not _same(cell["source"], ref.released):
        notes.append(f"{label} was edited")
    if ref.role == TEST:
        points = meta.get("points")
        if not isinstance(points, (int, float)) or float(points) != ref.points:
            notes.append(f"{label}: points changed from {ref.points:g} to {points!r}")
        if meta.get("grade") is not True or meta.get("solution") not in (False, None):
            notes.append(f"{label}: its nbgrader settings were changed")
    return notes


def check(spec: AssignmentSpec, files: dict[str, bytes], limits: Limits | None = None) -> Preflight:
    """Find, check and rebuild the notebook to grade from a student's files."""
    limits = limits or Limits()
    pre = Preflight(ok=True)
    visible = {p: data for p, data in files.items() if not _ignored(p)}
    matches = sorted((p for p in visible if PurePosixPath(p).name == spec.notebook), key=lambda p: (p.count("/"), p))
    if not matches:
        others = sorted(p for p in visible if p.lower().endswith(".ipynb"))
        if others:
            return pre.fail(
                f"no notebook named {spec.notebook}; found {', '.join(others[:5])}. "
                f"The notebook must keep its original name, {spec.notebook}"
            )
        return pre.fail(f"the submission holds no notebook (expected {spec.notebook})")
    if len(matches) > 1 and matches[0].count("/") == matches[1].count("/"):
        return pre.fail(f"the submission holds several copies of {spec.notebook}: {', '.join(matches[:5])}")
    pre.notebook_path = matches[0]
    data = visible[pre.notebook_path]
    if len(data) > limits.max_notebook_mb * 1e6:
        return pre.fail(f"the notebook is {len(data) / 1e6:.1f} MB, more than {limits.max_notebook_mb:g} MB "
                        "(clear the outputs: Edit > Clear Outputs of All Cells, then save)")  # fmt: skip
    folder = str(PurePosixPath(pre.notebook_path).parent)
    total = 0
    for path, content in sorted(visible.items()):
        relative = path if folder == "." else path[len(folder) + 1 :] if path.startswith(folder + "/") else None
        if relative is None or path == pre.notebook_path:
            continue
        if relative in spec.helper_files:
            if content != spec.helper_files[relative]:
                pre.warnings.append(f"{relative} differs from the course's copy: the original was used")
            continue
        total += len(content)
        if total > limits.max_files_mb * 1e6:
            pre.warnings.append(f"files beyond {limits.max_files_mb:g} MB were left out, from {relative} on")
            break
        pre.extra_files[relative] = content
    cells = _read_cells(data, pre)
    if cells is None:
        return pre
    _plan(spec, cells, pre)
    return pre


def _plan(spec: AssignmentSpec, cells: list[dict], pre: Preflight) -> None:
    graded = spec.graded
    answers: dict[str, int] = {}  # grade_id -> index of the cell used as the answer
    kept: list[tuple[int, PlannedCell]] = []  # the student's cells that are kept, in order
    seen: dict[str, int] = {}
    for index, cell in enumerate(cells):
        number, meta = index + 1, cell["nbgrader"] or {}
        grade_id = meta.get("grade_id") if isinstance(meta.get("grade_id"), str) else None
        ref = graded.get(grade_id) if grade_id else None
        if ref is None:
            if grade_id is not None or meta:
                kind = "test" if meta.get("grade") else "graded"
                pre.warnings.append(
                    f"cell {number} has {kind}-cell markup with an unknown id {str(grade_id)[:40]!r} "
                    "(renamed?): it was run as an ordinary cell and earns no points"
                )
            kept.append((index, PlannedCell(PLAIN, cell["cell_type"], cell["source"])))
            continue
        if grade_id in seen:
            pre.warnings.append(f"cell {grade_id!r} appears more than once (cells {seen[grade_id]} and {number})")
        seen.setdefault(grade_id, number)
        if ref.role == ANSWER:
            if cell["cell_type"] != ref.cell_type:
                pre.warnings.append(f"the answer cell {grade_id!r} was turned into a {cell['cell_type']} cell")
                kept.append((index, PlannedCell(PLAIN, cell["cell_type"], cell["source"])))
                continue
            if grade_id in answers:  # a duplicate: the earlier copy stays as an ordinary cell
                position = next(i for i, (idx, _) in enumerate(kept) if idx == answers[grade_id])
                kept[position] = (answers[grade_id], PlannedCell(PLAIN, ref.cell_type, kept[position][1].source))
            answers[grade_id] = index
            kept.append((index, PlannedCell(ANSWER, ref.cell_type, cell["source"], grade_id)))
            continue
        pre.warnings.extend(_tampering(ref, cell, number, meta))  # test or read-only: replaced
    for ref in spec.cells:
        if ref.role in (TEST, READONLY) and ref.grade_id not in seen:
            kind = "test" if ref.role == TEST else "read-only"
            pre.warnings.append(f"the {kind} cell {ref.grade_id!r} was deleted: the original was used")
        if ref.role == ANSWER and ref.grade_id not in answers:
            pre.warnings.append(f"the answer cell {ref.grade_id!r} is missing: graded as not answered")

    # Anchors: answer cells by grade_id, the release's own plain cells by their cell id.
    id_counts: dict[str, int] = {}
    for _, cell in enumerate(cells):
        if cell["id"]:
            id_counts[cell["id"]] = id_counts.get(cell["id"], 0) + 1
    anchor_of_cell: dict[int, str] = {}  # submission index -> anchor key
    for index, planned in kept:
        if planned.role == ANSWER:
            anchor_of_cell[index] = f"answer:{planned.grade_id}"
        elif cells[index]["id"] and id_counts[cells[index]["id"]] == 1 and cells[index]["nbgrader"] is None:
            anchor_of_cell[index] = f"plain:{cells[index]['id']}"
    present = set(anchor_of_cell.values())
    inserted: dict[str | None, list[PlannedCell]] = {}
    anchor: str | None = None
    for ref in spec.cells:
        key = f"answer:{ref.grade_id}" if ref.role == ANSWER else f"plain:{ref.cell_id}" if ref.role == PLAIN else None
        if key is not None and key in present:
            anchor = key
        elif ref.role in (TEST, READONLY):
            inserted.setdefault(anchor, []).append(PlannedCell(ref.role, ref.cell_type, ref.source, ref.grade_id))
        elif ref.role == ANSWER:  # missing: the released stub takes its place
            inserted.setdefault(anchor, []).append(PlannedCell("stub", ref.cell_type, ref.released, ref.grade_id))
    plan = list(inserted.get(None, []))
    for index, planned in kept:
        plan.append(planned)
        plan.extend(inserted.get(anchor_of_cell.get(index), []) if index in anchor_of_cell else [])
    pre.plan = plan
