"""Grade one submission: pre-flight, a sandboxed kernel for the student's code, and tests
that run in the grader's own process.

Why the tests do not run in the student's kernel: everything in that kernel is under the
student's control (``numpy.allclose``, ``AssertionError``, IPython's hooks, what a cell
"returns" to the grader, even whether a test cell runs at all). So the grader walks the
rebuilt notebook in order; the student's cells (and the read-only ones) run in the
kernel, and each test cell runs *here*, on pristine source from the gradebook, where
the names of the student's functions are stand-ins: calling one sends the arguments to
the kernel, runs the student's function there, and brings back the result as plain
data (see ``values.py``). A test passes when its code finishes here without an
exception. Students cannot forge that; the most their code can do is return results,
which is exactly what is being graded.

Crashes and timeouts: a cell or call that runs too long is interrupted, and the kernel
killed if it ignores the interrupt; a kernel that dies (``os._exit``, a signal, memory)
is restarted and the cells that ran before are replayed, so what the student earned
before (and after) a crash is kept.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import json
import sys
import time
import traceback
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import isolation, values
from .assignment import ANSWER, READONLY, TEST, AssignmentSpec, load_spec
from .config import GradingPaths, Limits, assignment_limits
from .kernel import Execution, KernelSession
from .preflight import PlannedCell, check
from .sandbox import Sandbox

GRADED, TIMED_OUT, CRASHED = "graded", "timed_out", "crashed"
PREFLIGHT_FAILED, ERROR = "preflight_failed", "error"
SCORED_STATUSES = (GRADED, TIMED_OUT, CRASHED)


class CallAborted(BaseException):  # noqa: N818 - not an Exception: tests must not catch it
    """A call into the student's kernel timed out, or the kernel died or is gone."""


@dataclass
class ScoredTest:
    grade_id: str
    points: float
    score: float
    hidden: bool
    message: str = ""  # for visible tests: what was expected and what came back
    seconds: float = 0.0
    detail: str = ""  # the failure itself, hidden tests too: for the instructor's record only


@dataclass
class GradingResult:
    """Everything the grader found out about one submission (plain data)."""

    student: str
    assignment: str
    status: str
    reason: str = ""
    score: float | None = None
    max_score: float = 0.0
    tests: dict[str, ScoredTest] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    incidents: list[str] = field(default_factory=list)
    notebook: dict | None = None  # the graded notebook, hidden tests removed
    seconds: float = 0.0
    sandbox: str = ""
    release_checksum: str = ""

    def to_dict(self) -> dict:
        data = asdict(self)
        data.pop("notebook")
        return data


def _code_cell(source: str, outputs: list[dict] | None = None, nbgrader: dict | None = None) -> dict:
    cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": outputs or [], "source": source}
    if nbgrader:
        cell["metadata"]["nbgrader"] = nbgrader
    return cell


def _text_cell(cell_type: str, source: str, nbgrader: dict | None = None) -> dict:
    cell = {"cell_type": cell_type, "metadata": {}, "source": source}
    if nbgrader:
        cell["metadata"]["nbgrader"] = nbgrader
    return cell


def _nbgrader_meta(planned: PlannedCell, spec: AssignmentSpec) -> dict | None:
    if not planned.grade_id:
        return None
    ref = spec.graded[planned.grade_id]
    meta = {"grade_id": ref.grade_id, "schema_version": 3, "grade": ref.role == TEST,
            "solution": ref.role == ANSWER, "locked": ref.role in (TEST, READONLY)}  # fmt: skip
    if ref.role == TEST:
        meta["points"] = ref.points
    return meta


def _error_output(ename: str, evalue: str, lines: list[str]) -> dict:
    return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": lines}


class NotebookRun:
    """Walks the rebuilt notebook: student cells in the kernel, tests in this process."""

    def __init__(self, spec: AssignmentSpec, plan: list[PlannedCell], sandbox: Sandbox, limits: Limits, deny: list[str]) -> None:  # fmt: skip
        self.spec, self.plan, self.sandbox, self.limits, self.deny = spec, plan, sandbox, limits, deny
        self.kernel: KernelSession | None = None
        self.replay: list[str] = []  # kernel cells that ran without incident, for restarts
        self.restarts = 0
        self.crashed = self.timed_out = False
        self.incidents: list[str] = []
        self.deadline = time.monotonic() + limits.submission_timeout
        self.call_outputs: list[dict] = []
        self.namespace: dict = {}
        self.sandbox_level = ""
        self.mode = isolation.choose(limits.sandbox, deny).mode

    # -- the kernel --------------------------------------------------------------------
    def _kernel(self) -> KernelSession:
        """The live kernel; starts (or restarts and replays) one when needed."""
        while self.kernel is None or not self.kernel.alive:
            if self.kernel is not None:
                self.kernel.kill()
                self.kernel = None
                self.restarts += 1
            if self.restarts > self.limits.max_restarts:
                raise CallAborted(f"the kernel crashed or was killed {self.restarts} times; grading stopped there")
            if time.monotonic() > self.deadline:
                raise CallAborted("the notebook used up its time limit")
            kernel = KernelSession(self.sandbox, self.limits, self.deny, self.mode)
            try:
                kernel.start()
            except Exception as error:
                kernel.kill()
                if self.restarts == 0:
                    raise  # the first kernel: a grader problem, not the student's
                self.crashed = True
                self.restarts = self.limits.max_restarts + 1
                self.incidents.append(f"the kernel could not be restarted: {str(error)[:300]}")
                raise CallAborted("the kernel could not be restarted") from error
            self.kernel = kernel
            level = kernel.applied
            if level.get("mode") == isolation.BUBBLEWRAP:
                self.sandbox_level = isolation.BUBBLEWRAP
            else:
                self.sandbox_level = f"landlock-abi-{level['landlock_abi']}" if level.get("landlock_abi") else "audit-hooks"
            for source in list(self.replay):
                run = kernel.execute(source, self._timeout())
                if run.kernel_lost or run.status == "timeout":
                    self.replay.remove(source)  # never replay it again
                    self._incident(run, "while replaying earlier cells after a restart")
                    if run.kernel_lost:
                        break
        return self.kernel

    def _timeout(self) -> float:
        return max(0.5, min(self.limits.cell_timeout, self.deadline - time.monotonic()))

    def _incident(self, run: Execution, where: str) -> None:
        if run.status == "died":
            self.crashed = True
            self.incidents.append(f"the kernel died {where}; it was restarted")
        elif run.status == "timeout":
            self.timed_out = True
            how = "and was killed (it ignored the interrupt)" if run.killed else "and was interrupted"
            self.incidents.append(f"a run took longer than {self.limits.cell_timeout:g} s {where} {how}")

    def call(self, name: str, args: tuple, kwargs: dict):  # noqa: ANN201 - any checkable value
        """Run the student's function ``name`` in the kernel; its result as plain data."""
        kernel = self._kernel()
        name_in, name_out = self.sandbox.call_names()
        self.sandbox.write_control(name_in, values.arguments_file(args, kwargs))
        self.sandbox.remove_control(name_out)
        control = self.sandbox.inside_control  # the same folder, as the kernel sees it
        run = kernel.execute(values.call_code(name, control / name_in, control / name_out), self._timeout())
        self.call_outputs.extend(o for o in run.outputs if o["output_type"] == "stream")
        try:
            if run.status in ("timeout", "died"):
                self._incident(run, f"in {name}()")
                if run.status == "died":
                    raise CallAborted(f"the kernel died while {name}() ran (it crashed or was killed)")
                raise CallAborted(f"{name}() did not finish within {self.limits.cell_timeout:g} s")
            return values.read_result(self.sandbox.read_control(name_out, values.MAX_RESULT_BYTES))
        finally:
            self.sandbox.remove_control(name_in)
            self.sandbox.remove_control(name_out)

    # -- the tests ---------------------------------------------------------------------
    def _stand_in(self, name: str):  # noqa: ANN202
        def function(*args, **kwargs):  # noqa: ANN202
            return self.call(name, args, kwargs)

        function.__name__ = function.__qualname__ = name
        return function

    def _prepare_namespace(self) -> None:
        if self.spec.release_dir and self.spec.release_dir not in sys.path:
            sys.path.insert(0, self.spec.release_dir)  # the pristine helper files, for the tests
        self.namespace = {"__name__": "__main__", "__builtins__": builtins}
        for cell in self.spec.setup_cells:
            with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                exec(compile(cell.source, f"<setup {cell.grade_id}>", "exec"), self.namespace)  # noqa: S102
        for name in self.spec.functions:
            self.namespace[name] = self._stand_in(name)

    def run_test(self, planned: PlannedCell) -> tuple[ScoredTest, list[dict]]:
        ref = self.spec.graded[planned.grade_id]
        self.call_outputs = []
        printed = io.StringIO()
        start = time.monotonic()
        failure: BaseException | None = None
        filename = f"<test {ref.grade_id}>"
        if time.monotonic() > self.deadline:
            failure = CallAborted("not run: the notebook used up its time limit")
            self.timed_out = True
        else:
            for name in self.spec.functions:  # a test may have rebound a name; restore it
                self.namespace[name] = self._stand_in(name)
            try:
                with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    exec(compile(ref.source, filename, "exec"), self.namespace)  # noqa: S102
            except (Exception, CallAborted) as error:  # noqa: BLE001 - any failure fails the test
                failure = error
        result = ScoredTest(ref.grade_id, ref.points, 0.0 if failure else ref.points, ref.hidden)
        result.seconds = time.monotonic() - start
        if failure is not None:
            result.detail = f"{type(failure).__name__}: {failure}"[:3000]
        outputs: list[dict] = []
        if ref.hidden:
            if failure is None:
                outputs.append({"output_type": "stream", "name": "stdout", "text": "Hidden tests passed.\n"})
            else:
                result.message = "hidden tests failed" + _hidden_reason(failure)
                outputs.append({"output_type": "stream", "name": "stdout", "text": f"Hidden tests failed{_hidden_reason(failure)}.\n"})  # fmt: skip
            return result, outputs
        if self.call_outputs:
            text = "".join(o["text"] for o in self.call_outputs)[: self.limits.max_output_chars]
            outputs.append({"output_type": "stream", "name": "stdout", "text": "[printed by your code]\n" + text})
        if printed.getvalue():
            outputs.append({"output_type": "stream", "name": "stdout", "text": printed.getvalue()[: self.limits.max_output_chars]})
        if failure is not None:
            ename = type(failure).__name__ if not isinstance(failure, CallAborted) else "GradingError"
            evalue = str(failure)[:3000]
            lines = _test_traceback(failure, filename, ref.source)
            student_tb = getattr(failure, "student_traceback", "")
            if student_tb:
                lines.append("Raised in your code:\n" + student_tb)
            lines.append(f"{ename}: {evalue}")
            result.message = f"{ename}: {evalue}"
            outputs.append(_error_output(ename, evalue, lines))
        return result, outputs

    # -- the whole notebook ----------------------------------------------------------------
    def run(self) -> tuple[dict[str, ScoredTest], list[dict]]:
        self._prepare_namespace()
        tests: dict[str, ScoredTest] = {}
        cells: list[dict] = []
        for planned in self.plan:
            meta = _nbgrader_meta(planned, self.spec)
            if planned.cell_type != "code":
                # the student's own text goes into HTML feedback: no live HTML in it
                source = planned.source if planned.role == READONLY else _inert(planned.source)
                cells.append(_text_cell("markdown", source, meta))
                continue
            if planned.role == TEST:
                result, outputs = self.run_test(planned)
                tests[planned.grade_id] = result
                ref = self.spec.graded[planned.grade_id]
                shown = ref.released.rstrip() + ("\n# (the hidden tests ran here)" if ref.hidden else "")
                cells.append(_code_cell(shown, outputs, meta))
                continue
            cells.append(_code_cell(planned.source, self._run_kernel_cell(planned), meta))
        return tests, cells

    def _run_kernel_cell(self, planned: PlannedCell) -> list[dict]:
        if not planned.source.strip():
            return []
        if time.monotonic() > self.deadline:
            self.timed_out = True
            return [{"output_type": "stream", "name": "stderr", "text": "[not run: the notebook used up its time limit]\n"}]
        try:
            kernel = self._kernel()
        except CallAborted as error:
            return [{"output_type": "stream", "name": "stderr", "text": f"[not run: {error}]\n"}]
        run = kernel.execute(planned.source, self._timeout())
        outputs = list(run.outputs)
        if run.error:
            outputs.append(_error_output(run.error["ename"], run.error["evalue"], run.error["traceback"]))
        if run.status in ("timeout", "died"):
            what = "an answer cell" if planned.role in (ANSWER, "stub") else "a cell"
            self._incident(run, f"in {what}" + (f" ({planned.grade_id})" if planned.grade_id else ""))
            note = ("[the kernel died here and was restarted]" if run.status == "died"
                    else f"[stopped: this cell ran longer than {self.limits.cell_timeout:g} s]")  # fmt: skip
            outputs.append({"output_type": "stream", "name": "stderr", "text": note + "\n"})
        if not run.kernel_lost and run.status != "timeout":
            self.replay.append(planned.source)
        return outputs


def _inert(text: str) -> str:
    """Markdown with any HTML made harmless (it is shown on feedback pages)."""
    from nbconvert.filters import clean_html  # here, not at the top: it takes a second to import

    return clean_html(text)


def _hidden_reason(failure: BaseException) -> str:
    if isinstance(failure, CallAborted):
        return f" ({failure})"
    if isinstance(failure, AssertionError):
        return " (a result did not match the expected one)"
    return f" (your code raised {type(failure).__name__})"


def _test_traceback(failure: BaseException, filename: str, source: str) -> list[str]:
    lines = source.split("\n")
    frames = [f for f in traceback.extract_tb(failure.__traceback__) if f.filename == filename]
    if not frames:
        return []
    number = frames[-1].lineno or 0
    text = lines[number - 1] if 0 < number <= len(lines) else ""
    return [f"In the test, line {number}:\n    {text.strip()}"]


def read_files(folder: Path) -> dict[str, bytes]:
    """A stored submission's files (no links; the intake already bounded their size)."""
    files = {}
    for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
        if path.is_file() and not path.is_symlink():
            files[path.relative_to(folder).as_posix()] = path.read_bytes()
    return files


def _write_sandbox(sandbox: Sandbox, spec: AssignmentSpec, notebook_bytes: bytes, extra: dict[str, bytes]) -> None:
    for relative, content in list(extra.items()) + list(spec.helper_files.items()):
        target = (sandbox.path / relative).resolve()
        if sandbox.path not in target.parents:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    (sandbox.path / spec.notebook).write_bytes(notebook_bytes)


def grade_files(
    spec: AssignmentSpec, student: str, files: dict[str, bytes], limits: Limits, deny: list[str],
    problem: str = "", sandbox_parent: str | None = None,
) -> GradingResult:  # fmt: skip
    """Grade one student's files. Never raises: problems become the result's status."""
    start = time.monotonic()
    result = GradingResult(student, spec.assignment, status=ERROR, max_score=spec.max_score,
                           release_checksum=spec.checksum)  # fmt: skip
    if problem:
        result.status, result.reason = PREFLIGHT_FAILED, problem
        return result
    try:
        pre = check(spec, files, limits)
    except Exception as error:  # noqa: BLE001 - a submission must never stop the batch
        result.reason = f"pre-flight check failed unexpectedly: {type(error).__name__}: {error}"
        return result
    result.warnings = pre.warnings
    if not pre.ok:
        result.status, result.reason = PREFLIGHT_FAILED, pre.reason
        return result
    sandbox = Sandbox(sandbox_parent)
    run = NotebookRun(spec, pre.plan, sandbox, limits, deny)
    try:
        _write_sandbox(sandbox, spec, files[pre.notebook_path], pre.extra_files)
        tests, cells = run.run()
    except Exception as error:  # noqa: BLE001 - e.g. the kernel cannot start at all
        result.reason = f"{type(error).__name__}: {error}"[:2000]
        result.incidents = run.incidents
        return result
    finally:
        if run.kernel is not None:
            run.kernel.kill()
        sandbox.cleanup()
        result.seconds = time.monotonic() - start
    result.tests = tests
    result.incidents = run.incidents
    result.sandbox = run.sandbox_level
    result.score = float(sum(t.score for t in tests.values()))
    result.status = CRASHED if run.crashed else TIMED_OUT if run.timed_out else GRADED
    notes = [f"- {w}" for w in pre.warnings] + [f"- {i}" for i in run.incidents]
    header = (
        f"**Autograded: {result.score:g} / {result.max_score:g} points.** "
        "Your answers ran in a fresh kernel; the test cells ran with the course's own copies."
    )
    if notes:
        header += "\n\nNotes from the grader:\n" + "\n".join(notes)
    result.notebook = {
        "cells": [_text_cell("markdown", _inert(header))] + cells,
        "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
                     "language_info": {"name": "python"}},  # fmt: skip
        "nbformat": 4,
        "nbformat_minor": 4,
    }
    return result


def main_self_test() -> None:  # pragma: no cover - a debugging aid
    """python -m course_utils.grading.grader ASSIGNMENT NOTEBOOK: grade one notebook, print the result."""
    paths = GradingPaths.default()
    spec = load_spec(sys.argv[1], paths)
    notebook = Path(sys.argv[2])
    limits = assignment_limits(paths, sys.argv[1])
    result = grade_files(spec, "self-test", {spec.notebook: notebook.read_bytes()}, limits,
                         [str(p) for p in paths.instructor_only()])  # fmt: skip
    print(json.dumps(result.to_dict(), indent=1))


if __name__ == "__main__":  # pragma: no cover
    main_self_test()
