"""The grading pipeline end to end: a generated class of honest and hostile submissions is
graded in parallel sandboxed kernels, and every student gets exactly what the honest part
of their work deserves. Timings and the throughput are printed (``pytest -s``).

Where bubblewrap works, the class also holds attacks on the sandbox itself (see
``grading_fixtures/isolation_cases.py``); elsewhere those tests are skipped with the reason,
and the run must say that its isolation is weaker."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
import zipfile
from pathlib import Path

import pytest
from grading_fixtures import ASSIGNMENT, notebooks, released_course
from grading_fixtures.classroom import NOTEBOOK, TOTAL, Builder, build_class, write_class
from grading_fixtures.isolation_cases import (
    CHAIN_DEPTH,
    CHAIN_NAME,
    Listeners,
    isolation_cases,
    processes_named,
    root_only_file,
)

from course_utils.grading import isolation
from course_utils.grading.assignment import load_spec
from course_utils.grading.batch import grade_batch
from course_utils.grading.config import GradingOptions, Limits, open_gradebook
from course_utils.grading.records import export_csv, export_rows

# Short limits keep the hostile cases quick: hanging code costs one timeout per call.
LIMITS = Limits(cell_timeout=6.0, interrupt_grace=2.0, submission_timeout=150.0, memory_mb=2048)
JOBS = 2


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    paths, made = released_course()
    secrets = {
        "source": str(paths.source_dir / ASSIGNMENT / NOTEBOOK),
        "gradebook": str(paths.db_path),
        "other_student": str(paths.submitted_dir / "perfect" / ASSIGNMENT / NOTEBOOK),
        "release_helper": str(made.folder / "hw1_helpers.py"),
        "grader_pid": os.getpid(),
    }
    cases = build_class(*notebooks(), secrets)
    choice = isolation.choose("auto", [str(p) for p in paths.instructor_only()])
    listeners = Listeners(tmp_path_factory.mktemp("listeners")).start()
    root_only = root_only_file(tmp_path_factory.mktemp("root-only"))
    if not choice.weaker:
        sandboxes = str(Path(tempfile.gettempdir()) / "cvgrade-*" / "box" / ".grading" / "k-*")
        cases += isolation_cases(Builder(*notebooks()), listeners, root_only, sandboxes)
    folder = tmp_path_factory.mktemp("class")
    write_class(cases, folder)
    protected = {Path(secrets["source"]): _digest(Path(secrets["source"])),
                 Path(secrets["release_helper"]): _digest(Path(secrets["release_helper"]))}  # fmt: skip
    recorded: dict[str, tuple[float, list[int]]] = {}  # student -> (when recorded, chain processes then)

    def log(line: str) -> None:
        student = line.split("] ", 1)[-1].split(":", 1)[0]
        recorded[student] = (time.monotonic(), processes_named(CHAIN_NAME))

    start = time.monotonic()
    try:
        report = grade_batch(ASSIGNMENT, folder, paths, GradingOptions(limits=LIMITS, jobs=JOBS), log=log)
    finally:
        listeners.stop()
    seconds = time.monotonic() - start
    print(f"\n{report.summary()}\n[grading test] {len(cases)} submissions in {seconds:.0f} s on {JOBS} workers")
    rows = {row["student_id"]: row for row in export_rows(paths, ASSIGNMENT)}
    return {"paths": paths, "cases": {c.student: c for c in cases}, "report": report, "rows": rows,
            "protected": protected, "secrets": secrets, "folder": folder, "choice": choice,
            "listeners": listeners, "root_only": root_only, "recorded": recorded}  # fmt: skip


def _needs_bubblewrap(graded) -> None:  # noqa: ANN001
    if graded["choice"].weaker:
        pytest.skip(f"bubblewrap is not available here ({graded['choice'].problem}); "
                    "the run is reported as weaker isolation instead (see the next test)")  # fmt: skip


def _autograded(paths, student: str) -> dict:
    return json.loads((paths.autograded_dir / student / ASSIGNMENT / NOTEBOOK).read_text())


def _outputs_text(nb: dict) -> str:
    texts = []
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            text = output.get("text", "")
            texts.append("".join(text) if isinstance(text, list) else text)
            texts.append(str(output.get("evalue", "")))
    return "\n".join(texts)


def test_the_class_is_big_enough(graded):
    cases = graded["cases"].values()
    assert len(cases) >= 30
    assert sum(1 for c in cases if c.about or c.student in ("perfect", "untouched")) >= 10  # honest ones
    assert {"graded", "timed_out", "crashed", "preflight_failed"} <= {r.status for r in graded["report"].results}


def test_every_student_gets_exactly_the_expected_score_and_status(graded):
    wrong = []
    for student, case in graded["cases"].items():
        row = graded["rows"][student]
        statuses = case.status if isinstance(case.status, tuple) else (case.status,)
        score = float(row["score"]) if row["score"] else None
        tests = {k: float(row[k]) for k in case.expected_tests()} if case.score is not None else None
        if row["status"] not in statuses or score != case.score or tests != case.expected_tests():
            wrong.append(f"{student}: {row['status']} {score} (expected {statuses} {case.score}) {row['notes'][:300]}")
    assert not wrong, "\n".join(wrong)


def test_the_solution_and_the_student_copy(graded):
    rows = graded["rows"]
    assert (rows["perfect"]["status"], rows["perfect"]["score"]) == ("graded", "20")
    assert (rows["untouched"]["status"], rows["untouched"]["score"]) == ("graded", "0")
    nb = _autograded(graded["paths"], "untouched")
    errors = [o for c in nb["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert errors and all(o["ename"] == "NotImplementedError" and "is not written yet" in o["evalue"] for o in errors)
    assert graded["report"].records["untouched"]["incidents"] == []


def test_pre_flight_failures_say_why_and_have_no_score(graded):
    rows = graded["rows"]
    assert "must keep its original name, hw1_image_basics.ipynb" in rows["wrong_name"]["notes"]
    assert "not valid JSON" in rows["invalid_json"]["notes"]
    assert "not a Jupyter notebook" in rows["not_a_notebook"]["notes"]
    assert "not a readable zip" in rows["corrupt_zip"]["notes"]
    assert "format version 3; version 4 is needed" in rows["nbformat_v3"]["notes"]
    for student in ("wrong_name", "invalid_json", "not_a_notebook", "corrupt_zip", "nbformat_v3"):
        assert rows[student]["score"] == "" and rows[student]["test_quantize"] == ""
    summary = graded["report"].summary()
    assert "failed pre-flight: 5" in summary and "wrong_name: no notebook named" in summary


def test_tampering_is_reported(graded):
    notes = {s: graded["rows"][s]["notes"] for s in graded["cases"]}
    assert "was edited" in notes["edited_test"]
    assert "was deleted" in notes["deleted_tests"]
    assert "turned into a markdown cell" in notes["tests_to_markdown"]
    assert "appears more than once" in notes["duplicated_tests"]
    assert "unknown id 'test_bayer_mosaic_v2'" in notes["renamed_test"]
    assert "points changed from 2 to 50" in notes["inflated_points"]
    assert "hw1_helpers.py differs" in notes["helper_overwrite"]
    assert "ignored the interrupt" in notes["ignores_interrupt"]
    assert "kernel died" in notes["os_exit"] and "kernel died" in notes["sigkill"]


def test_late_work_is_marked(graded):
    late, perfect = graded["rows"]["late"], graded["rows"]["perfect"]
    assert (late["late"], late["score"], late["late_penalty"]) == ("yes", "20", "0")
    assert int(late["seconds_late"]) > 0 and perfect["late"] == "no"


def test_student_code_cannot_read_instructor_files_or_write_the_gradebook(graded):
    paths = graded["paths"]
    reads = _outputs_text(_autograded(paths, "reads_instructor_files"))
    writes = _outputs_text(_autograded(paths, "writes_gradebook"))
    assert "LEAK" not in reads and reads.count("blocked") >= 8
    assert "WROTE" not in writes and writes.count("blocked") == 4
    # modules planted for the kernel restart that a crash forces never run outside the sandbox
    shadowed = _outputs_text(_autograded(paths, "shadowed_modules"))
    assert "clean" in shadowed and "LEAK" not in shadowed
    for path, digest in graded["protected"].items():
        assert _digest(path) == digest, f"{path} was changed"
    other = Path(graded["secrets"]["other_student"])
    assert other.read_bytes() == graded["cases"]["perfect"].files[NOTEBOOK]
    with open_gradebook(paths) as gb:  # the gradebook holds exactly what the grader wrote
        for sub in gb.assignment_submissions(ASSIGNMENT):
            total = sum(g.score for nb in sub.notebooks for g in nb.grades)
            assert total == graded["cases"][sub.student.id].score, sub.student.id


def test_hidden_tests_never_reach_students(graded):
    paths = graded["paths"]
    spec = load_spec(ASSIGNMENT, paths)
    secret = spec.hidden_lines
    assert len(secret) > 10
    for student in graded["report"].records:
        folder = paths.autograded_dir / student / ASSIGNMENT
        if folder.exists():
            text = (folder / NOTEBOOK).read_text()
            assert not [line for line in secret if line in text], student
    # the hostile kernels saw the hidden inputs at most, never the test code or expectations
    assert "Hidden tests passed" in _outputs_text(_autograded(paths, "perfect"))


def test_feedback_pages(graded):
    from course_utils.grading.feedback import generate

    paths = graded["paths"]
    report = generate(ASSIGNMENT, paths, students=["perfect", "monkeypatch", "invalid_json"])
    assert set(report.pages) == {"perfect", "monkeypatch", "invalid_json"} and not report.problems
    page = report.pages["monkeypatch"].read_text()
    assert "Score: 16.0 / 20.0" in page and "correlate2d() is not written yet" in page
    assert "<script>document.title" not in page and not re.search(r"<img[^>]*onerror", page)  # inert
    assert "could not be graded" in report.pages["invalid_json"].read_text()
    assert "not valid JSON" in report.pages["invalid_json"].read_text()
    hidden = load_spec(ASSIGNMENT, paths).hidden_lines
    import html

    for page in report.pages.values():
        text = html.unescape(page.read_text())
        assert not [line for line in hidden if line in text]
    assert report.zip_path.is_file()


def test_export_csv_file(graded, tmp_path):
    output = export_csv(graded["paths"], ASSIGNMENT, tmp_path / "grades.csv")
    lines = output.read_text().splitlines()
    assert lines[0].startswith("student_id,status,score,max_score,late,seconds_late,late_penalty,test_quantize")
    assert len(lines) == 1 + len(graded["cases"])
    assert any(line.startswith("invalid_json,preflight_failed,,20,") for line in lines)


def test_a_failed_regrade_replaces_the_old_score_and_late_penalties_apply(graded, tmp_path):
    paths = graded["paths"]
    again = tmp_path / "again"
    again.mkdir()
    (again / "perfect").mkdir()
    (again / "perfect" / NOTEBOOK).write_bytes(b'{"cells": ')  # the new upload is broken
    shutil.copytree(graded["folder"] / "late", again / "late")
    options = GradingOptions(limits=LIMITS, jobs=1, late_penalty="zero")
    grade_batch(ASSIGNMENT, again, paths, options, log=lambda line: None)
    rows = {row["student_id"]: row for row in export_rows(paths, ASSIGNMENT)}
    assert (rows["perfect"]["status"], rows["perfect"]["score"]) == ("preflight_failed", "")
    assert not (paths.autograded_dir / "perfect").joinpath(ASSIGNMENT).exists()
    with open_gradebook(paths) as gb:
        assert "perfect" not in {s.student.id for s in gb.assignment_submissions(ASSIGNMENT)}
    assert (rows["late"]["status"], rows["late"]["score"], rows["late"]["late_penalty"]) == ("graded", "0", "20")


def test_the_audit_hook_sandbox_also_holds(graded, tmp_path):
    """Where Landlock is missing (older kernels, macOS) the kernel falls back to audit hooks."""
    paths = graded["paths"]
    folder = tmp_path / "audit"
    folder.mkdir()
    for student in ("reads_instructor_files", "writes_gradebook"):
        shutil.copytree(graded["folder"] / student, folder / f"audit_{student}")
    limits = Limits(**{**LIMITS.__dict__, "sandbox": "audit"})
    report = grade_batch(ASSIGNMENT, folder, paths, GradingOptions(limits=limits, jobs=JOBS), log=lambda line: None)
    assert {r.sandbox for r in report.results} == {"audit-hooks"}
    assert "WEAKER ISOLATION" in report.summary()  # said plainly, in the summary and the CSV notes
    rows = {row["student_id"]: row for row in export_rows(paths, ASSIGNMENT)}
    assert "weaker isolation: graded without bubblewrap (audit-hooks)" in rows["audit_writes_gradebook"]["notes"]
    scores = {r.student: r.score for r in report.results}
    assert scores == {"audit_reads_instructor_files": TOTAL - 3, "audit_writes_gradebook": TOTAL}
    assert "LEAK" not in _outputs_text(_autograded(paths, "audit_reads_instructor_files"))
    assert "WROTE" not in _outputs_text(_autograded(paths, "audit_writes_gradebook"))
    for path, digest in graded["protected"].items():
        assert _digest(path) == digest


def test_a_run_without_bubblewrap_says_its_isolation_is_weaker(graded):
    summary, rows = graded["report"].summary(), graded["rows"]
    if graded["choice"].weaker:
        assert "WEAKER ISOLATION" in summary and graded["choice"].problem in summary
        assert "weaker isolation" in rows["perfect"]["notes"]
    else:
        assert {r.sandbox for r in graded["report"].results if r.sandbox} == {"bubblewrap"}
        assert "WEAKER" not in summary and "weaker isolation" not in rows["perfect"]["notes"]


def test_a_kernel_cannot_drive_the_kernels_graded_beside_it(graded):
    _needs_bubblewrap(graded)
    text = _outputs_text(_autograded(graded["paths"], "neighbour_driver"))
    assert "neighbour sockets found: 0" in text, text[-2000:]
    # and nobody lost a point (test_every_student_gets_exactly_the_expected_score_and_status)
    assert graded["rows"]["perfect"]["score"] == "20" and graded["rows"]["neighbour_driver"]["score"] == "20"


def test_no_process_of_a_submission_outlives_its_record(graded):
    _needs_bubblewrap(graded)
    text = _outputs_text(_autograded(graded["paths"], "fork_chain"))
    assert f"fork chain: {CHAIN_DEPTH}" in text, text[-2000:]  # 300 processes were running
    when, at_record = graded["recorded"]["fork_chain"]
    assert at_record == [], f"{len(at_record)} processes of the fork chain were alive when its record was written"
    time.sleep(max(0.0, when + 5 - time.monotonic()))
    assert processes_named(CHAIN_NAME) == []


def test_nothing_leaves_the_sandbox_over_udp_or_unix_sockets(graded):
    _needs_bubblewrap(graded)
    text = _outputs_text(_autograded(graded["paths"], "exfiltrates"))
    assert graded["listeners"].received == [], graded["listeners"].received[:3]
    assert text.count("blocked AF_UNIX") == 2, text[-2000:]  # no such socket in its world


def test_root_only_files_stay_unreadable(graded):
    _needs_bubblewrap(graded)
    text = _outputs_text(_autograded(graded["paths"], "reads_root_only"))
    secret = graded["root_only"].read_text().strip()
    assert secret not in text and "LEAK" not in text, text[-2000:]
    assert f"blocked {graded['root_only']} FileNotFoundError" in text  # not even visible
    if os.geteuid() == 0:  # the kernel is not root: a root-only file it can see stays closed
        assert "blocked /etc/shadow PermissionError" in text


def test_one_unsafe_entry_in_an_lms_zip_fails_only_its_student(graded, tmp_path):
    cases = graded["cases"]
    export = tmp_path / "export.zip"
    with zipfile.ZipFile(export, "w") as archive:
        archive.writestr(f"zip_good_a/{NOTEBOOK}", cases["perfect"].files[NOTEBOOK])
        archive.writestr(f"zip_good_b/{NOTEBOOK}", cases["untouched"].files[NOTEBOOK])
        archive.writestr(f"zip_evil/{NOTEBOOK}", cases["perfect"].files[NOTEBOOK])
        archive.writestr("zip_evil/../../escaped.txt", b"outside")
    report = grade_batch(ASSIGNMENT, export, graded["paths"], GradingOptions(limits=LIMITS, jobs=JOBS), log=lambda line: None)  # fmt: skip
    outcome = {r.student: (r.status, r.score, r.reason) for r in report.results}
    assert outcome["zip_good_a"][:2] == ("graded", TOTAL) and outcome["zip_good_b"][:2] == ("graded", 0.0)
    assert outcome["zip_evil"][:2] == ("preflight_failed", None)
    assert "unsafe path 'zip_evil/../../escaped.txt'" in outcome["zip_evil"][2]
    assert not (tmp_path / "escaped.txt").exists() and not (tmp_path.parent / "escaped.txt").exists()


def test_require_isolation_refuses_to_grade_without_bubblewrap(graded, tmp_path):
    options = GradingOptions(limits=Limits(**{**LIMITS.__dict__, "sandbox": "landlock"}), require_isolation=True)
    with pytest.raises(isolation.IsolationError, match="--require-isolation"):
        grade_batch(ASSIGNMENT, graded["folder"], graded["paths"], options, log=lambda line: None)


def test_release_self_check_grades_the_solution_and_the_student_copy(graded):
    from course_utils.grading.release import self_check

    lines = self_check(ASSIGNMENT, graded["paths"], LIMITS)
    assert lines == ["solution notebook: graded, 20.0/20", "student copy: graded, 0.0/20"]
