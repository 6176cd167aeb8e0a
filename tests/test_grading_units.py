"""Unit tests of the grading package that need no kernel: configuration, release, intake,
pre-flight checks, values crossing the sandbox, records and the CSV export."""

from __future__ import annotations

import copy
import io
import json
import zipfile
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from grading_fixtures import ASSIGNMENT, notebooks, released_course
from grading_fixtures.classroom import POINTS, Builder, cell_index, dump

from course_utils.grading import values
from course_utils.grading.assignment import ANSWER, READONLY, TEST, load_spec
from course_utils.grading.config import GradingPaths, Limits, assignment_limits
from course_utils.grading.grader import GradingResult, ScoredTest
from course_utils.grading.intake import discover, read_zip, student_id
from course_utils.grading.preflight import check
from course_utils.grading.preprocessors import nbgrader_config
from course_utils.grading.records import export_rows, mark_in_progress, save
from course_utils.grading.release import ReleaseError, release

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = f"{ASSIGNMENT}.ipynb"


@pytest.fixture(scope="module")
def course():
    paths, made = released_course()
    return paths, made, load_spec(ASSIGNMENT, paths)


@pytest.fixture(scope="module")
def builder():
    return Builder(*notebooks())


# -- configuration ---------------------------------------------------------------------
def _course_with_settings(tmp_path: Path, text: str | None) -> GradingPaths:
    paths = GradingPaths(tmp_path, tmp_path / "homework", tmp_path / "build")
    (paths.source_dir / "hwx").mkdir(parents=True)
    if text is not None:
        (paths.source_dir / "hwx" / "grading.toml").write_text(text)
    return paths


def test_assignment_limits_read_grading_toml(tmp_path):
    assert assignment_limits(_course_with_settings(tmp_path / "a", None), "hwx") == Limits()
    limits = assignment_limits(_course_with_settings(tmp_path / "b", "memory_mb = 6144\ncell_timeout = 90\n"), "hwx")
    assert (limits.memory_mb, limits.cell_timeout, limits.submission_timeout) == (6144, 90.0, Limits().submission_timeout)
    assert isinstance(limits.cell_timeout, float)


@pytest.mark.parametrize(
    ("text", "message"),
    [("memory = 6144", "unknown setting 'memory'"), ("memory_mb = 1.5", "not a valid int"),
     ("memory_mb = -1", "not a valid int"), ("memory_mb = true", "not a valid int"), ("memory_mb = ", "not valid TOML")],
)  # fmt: skip
def test_assignment_limits_reject_bad_settings_with_the_file_name(tmp_path, text, message):
    with pytest.raises(ValueError, match=message) as error:
        assignment_limits(_course_with_settings(tmp_path, text), "hwx")
    assert "grading.toml" in str(error.value)


def test_grading_settings_are_not_released_to_students():
    paths = GradingPaths(ROOT, ROOT / "notebooks" / "homework", ROOT / "build" / "grading")
    assert {"grading.toml", "answer_key.toml"} <= set(nbgrader_config(paths).CourseDirectory.ignore)


def test_nbgrader_config_file_matches_the_package_settings():
    from traitlets.config.loader import PyFileConfigLoader

    loaded = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    wanted = nbgrader_config(GradingPaths(ROOT, ROOT / "notebooks" / "homework", ROOT / "build" / "grading"))
    for key, value in loaded.CourseDirectory.items():
        assert str(value) == str(wanted.CourseDirectory[key]), key
    assert str(ROOT / "build" / "grading") in loaded.CourseDirectory.db_url


def test_build_folder_is_git_ignored():
    assert "build/" in (ROOT / ".gitignore").read_text().split()


# -- release ---------------------------------------------------------------------------
def test_release_makes_a_student_copy_without_solutions_or_hidden_tests(course):
    paths, made, spec = course
    text = made.notebook.read_text()
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS", "_reference_demosaic", "colorsys"):
        assert marker not in text
    student = json.loads(text)
    for name in ("quantize", "rgb_to_hsv", "bayer_mosaic", "demosaic_bilinear", "correlate2d", "equalize_histogram"):
        stub = "".join(student["cells"][cell_index(student, name)]["source"])
        assert f'raise NotImplementedError("{name}() is not written yet' in stub
    assert "".join(student["cells"][0]["source"]).startswith("# Homework 1 · Image basics")
    assert made.max_score == 20
    with zipfile.ZipFile(made.zip_path) as archive:
        assert sorted(archive.namelist()) == [f"{ASSIGNMENT}/checks.py", f"{ASSIGNMENT}/hw1_helpers.py", f"{ASSIGNMENT}/{NOTEBOOK}"]


def test_the_gradebook_keeps_the_hidden_tests_and_points(course):
    _, _, spec = course
    tests = {c.grade_id: c for c in spec.cells if c.role == TEST}
    assert {k: c.points for k, c in tests.items()} == POINTS
    assert all(c.hidden == k.endswith("_hidden") for k, c in tests.items())
    assert "colorsys" in tests["test_rgb_to_hsv_hidden"].source
    assert "colorsys" not in tests["test_rgb_to_hsv_hidden"].released
    assert spec.functions == ("quantize", "rgb_to_hsv", "bayer_mosaic", "demosaic_bilinear", "correlate2d",
                              "equalize_histogram")  # fmt: skip
    assert [c.grade_id for c in spec.setup_cells] == ["setup"]
    assert spec.helper_files.keys() == {"checks.py", "hw1_helpers.py"}  # both tamper-checked
    assert spec.duedate.startswith("2025-03-14T23:59")
    assert any("_reference_demosaic" in line for line in spec.hidden_lines)


def test_release_of_an_unknown_assignment_says_what_exists(tmp_path):
    with pytest.raises(ReleaseError, match="hw1_image_basics"):
        release("hw9_nothing", GradingPaths.default(tmp_path))


# -- values crossing the sandbox -------------------------------------------------------
def test_values_round_trip_through_the_result_format(tmp_path):
    value = (np.arange(6, dtype=np.uint8).reshape(2, 3), 3, 2.5, "text", None, [True, np.float32(1.5)])
    arrays: dict = {}
    spec = values.encode(value, arrays)
    path = tmp_path / "out.npz"
    np.savez(path, __spec__=np.array(json.dumps({"ok": spec})), **arrays)
    back = values.read_result(path)
    assert isinstance(back, tuple) and back[1:5] == (3, 2.5, "text", None)
    np.testing.assert_array_equal(back[0], value[0])
    assert back[0].dtype == np.uint8 and back[5][1] == np.float32(1.5)


def test_numpy_scalars_cross_to_the_kernel_and_back(tmp_path):
    """np.float64 is a float too: it must still travel as a NumPy scalar, both ways."""
    arguments = (np.float64(np.log(4.0)), np.int64(3), 2.5)
    (tmp_path / "in.npz").write_bytes(values.arguments_file(arguments, {}))
    namespace: dict = {}
    exec(values.CALL_SNIPPET, namespace)  # noqa: S102 - the course's own kernel-side code
    user = {"echo": lambda *args: args}
    namespace["_grading_call"](user, "echo", str(tmp_path / "in.npz"), str(tmp_path / "out.npz"))
    back = values.read_result(tmp_path / "out.npz")
    assert back == arguments and type(back[0]) is np.float64 and type(back[1]) is np.int64


def test_results_cannot_smuggle_objects_or_pickles(tmp_path):
    path = tmp_path / "out.npz"
    np.savez(path, __spec__=np.array(json.dumps({"ok": ["a", "a0"]})), a0=np.array([{"x": 1}], dtype=object))
    with pytest.raises(values.StudentError, match="unreadable"):
        values.read_result(path)  # np.load refuses pickled object arrays
    np.savez(path, __spec__=np.array(json.dumps({"ok": ["x", "os.system"]})))
    with pytest.raises(values.UncheckableResult):
        values.read_result(path)
    np.savez(path, __spec__=np.array(json.dumps({"unsupported": "a value of type Foo"})))
    with pytest.raises(values.UncheckableResult, match="Foo"):
        values.read_result(path)
    with pytest.raises(values.StudentError, match="no result"):
        values.read_result(tmp_path / "missing.npz")


def test_exceptions_from_the_kernel_become_builtin_ones():
    assert isinstance(values.exception_from({"mro": ["ValueError", "Exception"], "message": "m"}), ValueError)
    axis = values.exception_from({"mro": ["AxisError", "ValueError", "IndexError", "Exception"], "message": "m"})
    assert isinstance(axis, ValueError) and "AxisError" in str(axis)
    fake = values.exception_from({"mro": ["SystemExit", "BaseException"], "message": "bye"})
    assert isinstance(fake, values.StudentError)  # never a real SystemExit in the grader
    assert isinstance(values.exception_from({"mro": "junk"}), values.StudentError)


# -- intake ----------------------------------------------------------------------------
def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_intake_reads_folders_and_zips_per_student(tmp_path):
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice" / NOTEBOOK).write_text("{}")
    (tmp_path / "alice" / "timestamp.txt").write_text("2025-03-15 10:00:00 UTC")
    (tmp_path / "bob.zip").write_bytes(_zip({f"{ASSIGNMENT}/{NOTEBOOK}": b"{}", f"{ASSIGNMENT}/notes.txt": b"hi"}))
    (tmp_path / "README.txt").write_text("not a submission")
    found, notes = discover(tmp_path, NOTEBOOK)
    by_id = {s.student: s for s in found}
    assert set(by_id) == {"alice", "bob"}
    assert set(by_id["bob"].files) == {NOTEBOOK, "notes.txt"}
    assert by_id["alice"].timestamp == datetime(2025, 3, 15, 10, 0)
    assert any("README.txt" in note for note in notes)


def test_intake_understands_moodle_and_canvas_exports(tmp_path):
    moodle = tmp_path / "moodle.zip"
    moodle.write_bytes(_zip({
        f"Jane Doe_123456_assignsubmission_file_/{NOTEBOOK}": b"{}",
        f"Li Wei_777_assignsubmission_file_/{ASSIGNMENT}/{NOTEBOOK}": b"{}",
    }))  # fmt: skip
    assert sorted(s.student for s in discover(moodle, NOTEBOOK)[0]) == ["123456", "777"]
    canvas = tmp_path / "canvas.zip"
    canvas.write_bytes(_zip({
        f"submissions/doejane_12_345_{NOTEBOOK}": b"{}",
        "submissions/smithj_LATE_13_346_hw1_image_basics-1.ipynb": b"{}",
    }))  # fmt: skip
    found = {s.student: s for s in discover(canvas, NOTEBOOK)[0]}
    assert set(found) == {"doejane", "smithj"}
    assert found["smithj"].marked_late and not found["doejane"].marked_late
    assert NOTEBOOK in found["smithj"].files  # Canvas's "-1" resubmission suffix is removed


def test_zips_with_unsafe_paths_or_garbage_are_refused():
    files, problem = read_zip(_zip({"../../etc/evil": b"x"}), "evil.zip")
    assert files == {} and "unsafe path" in problem
    files, problem = read_zip(b"PK\x03\x04 nonsense", "broken.zip")
    assert files == {} and "not a readable zip" in problem
    assert student_id("Jane Doe/../x") == "Jane_Doe_._x" and student_id("...") == "unnamed"


# -- pre-flight checks ------------------------------------------------------------------
def _plan_ids(pre) -> list[tuple[str, str | None]]:
    return [(c.role, c.grade_id) for c in pre.plan if c.grade_id]


def test_an_honest_notebook_is_rebuilt_in_its_own_order(course, builder):
    _, _, spec = course
    nb = builder.notebook()
    pre = check(spec, {NOTEBOOK: dump(nb)})
    assert pre.ok and pre.warnings == []
    assert _plan_ids(pre) == [(c.role, c.grade_id) for c in spec.cells if c.grade_id]
    tests = {c.grade_id: c for c in pre.plan if c.role == TEST}
    assert "BEGIN HIDDEN TESTS" in tests["test_quantize_hidden"].source  # injected only now


@pytest.mark.parametrize(
    "tamper, warning",
    [
        ("edit", "was edited"),
        ("delete", "was deleted"),
        ("markdown", "turned into a markdown cell"),
        ("duplicate", "appears more than once"),
        ("rename", "unknown id"),
        ("points", "points changed from 2 to 99"),
    ],
)
def test_tampered_test_cells_are_replaced_by_the_originals(course, builder, tamper, warning):
    _, _, spec = course
    nb = builder.notebook()
    index = cell_index(nb, "test_quantize")
    cell = nb["cells"][index]
    if tamper == "edit":
        cell["source"] = "pass"
    elif tamper == "delete":
        del nb["cells"][index]
    elif tamper == "markdown":
        cell["cell_type"] = "markdown"
    elif tamper == "duplicate":
        nb["cells"].insert(index, copy.deepcopy(cell) | {"id": "twin"})
    elif tamper == "rename":
        cell["metadata"]["nbgrader"]["grade_id"] = "test_mine"
    else:
        cell["metadata"]["nbgrader"]["points"] = 99
    pre = check(spec, {NOTEBOOK: dump(nb)})
    assert pre.ok
    assert any(warning in w for w in pre.warnings), pre.warnings
    planned_tests = [c for c in pre.plan if c.role == TEST]
    assert [c.grade_id for c in planned_tests] == [c.grade_id for c in spec.tests]
    assert all(c.source == spec.graded[c.grade_id].source for c in planned_tests)


def test_missing_or_duplicated_answers(course, builder):
    _, _, spec = course
    nb = builder.notebook()
    del nb["cells"][cell_index(nb, "rgb_to_hsv")]
    twin = copy.deepcopy(nb["cells"][cell_index(nb, "quantize")]) | {"id": "twin"}
    twin["source"] = "def quantize(image, bits):\n    return image  # the later copy wins"
    nb["cells"].insert(cell_index(nb, "quantize") + 1, twin)
    pre = check(spec, {NOTEBOOK: dump(nb)})
    stub = next(c for c in pre.plan if c.grade_id == "rgb_to_hsv")
    assert stub.role == "stub" and "NotImplementedError" in stub.source
    answers = [c for c in pre.plan if c.role == ANSWER and c.grade_id == "quantize"]
    assert len(answers) == 1 and "the later copy wins" in answers[0].source
    roles = [c.role for c in pre.plan]
    assert roles.index("stub") < [c.grade_id for c in pre.plan].index("test_rgb_to_hsv")
    assert any("missing" in w for w in pre.warnings)


def test_readonly_cells_and_helpers_always_come_from_the_release(course, builder):
    _, _, spec = course
    nb = builder.notebook()
    nb["cells"][cell_index(nb, "setup")]["source"] = "import numpy as np\ncheck_array = print"
    pre = check(spec, {NOTEBOOK: dump(nb), "hw1_helpers.py": b"def check_array(*a): pass", "mine.py": b"x = 1"})
    setup = next(c for c in pre.plan if c.grade_id == "setup")
    assert setup.role == READONLY and "from hw1_helpers import" in setup.source
    assert any("hw1_helpers.py differs" in w for w in pre.warnings)
    assert pre.extra_files == {"mine.py": b"x = 1"}


@pytest.mark.parametrize(
    "files, reason",
    [
        ({NOTEBOOK: b'{"cells": ['}, "not valid JSON"),
        ({NOTEBOOK: b"[1, 2]"}, "not a Jupyter notebook"),
        ({NOTEBOOK: b'{"cells": [], "nbformat": 3}'}, "version 4 is needed"),
        ({NOTEBOOK: b'{"cells": [{"cell_type": "code"}], "nbformat": 4}'}, "malformed"),
        ({NOTEBOOK: b"\xff\xfe\x00"}, "not UTF-8"),
        ({"hw1 (1).ipynb": b"{}"}, "must keep its original name"),
        ({"notes.txt": b"hi"}, "holds no notebook"),
        ({f"a/{NOTEBOOK}": b"{}", f"b/{NOTEBOOK}": b"{}"}, "several copies"),
    ],
)
def test_broken_submissions_fail_preflight_with_a_reason(course, files, reason):
    _, _, spec = course
    pre = check(spec, files)
    assert not pre.ok and reason in pre.reason


def test_oversized_notebooks_fail_preflight(course, builder):
    _, _, spec = course
    pre = check(spec, {NOTEBOOK: dump(builder.notebook())}, Limits(max_notebook_mb=0.001))
    assert not pre.ok and "clear the outputs" in pre.reason


# -- records and the export ------------------------------------------------------------
def _result(spec, student: str, status: str, passed: set[str]) -> GradingResult:
    tests = {c.grade_id: ScoredTest(c.grade_id, c.points, c.points if c.grade_id in passed else 0.0, c.hidden)
             for c in spec.tests}  # fmt: skip
    scored = status in ("graded", "timed_out", "crashed")
    return GradingResult(student, ASSIGNMENT, status, reason="" if scored else "the notebook is not valid JSON",
                         score=sum(t.score for t in tests.values()) if scored else None,
                         max_score=spec.max_score, tests=tests if scored else {},
                         release_checksum=spec.checksum)  # fmt: skip


@pytest.fixture()
def scratch_course(course, tmp_path):
    """A copy of the released course, so records can be broken on purpose."""
    import shutil

    paths, _, _ = course
    build = tmp_path / "build"
    shutil.copytree(paths.build_dir, build)
    scratch = GradingPaths(paths.root, paths.source_dir, build)
    return scratch, load_spec(ASSIGNMENT, scratch)


def test_export_shows_a_status_and_never_a_silent_zero(scratch_course):
    paths, spec = scratch_course
    everything = {c.grade_id for c in spec.tests}
    save(paths, _result(spec, "ada", "graded", everything), "run1", {})
    save(paths, _result(spec, "bo", "preflight_failed", set()), "run1", {})
    save(paths, _result(spec, "cy", "timed_out", {"test_quantize"}), "run1", {})
    save(paths, _result(spec, "di", "graded", everything), "run1",
         {"timestamp": "2025-03-16 10:00:00 UTC", "late_policy": "zero"})  # fmt: skip
    mark_in_progress(paths, ASSIGNMENT, "ed", "run2")
    rows = {r["student_id"]: r for r in export_rows(paths, ASSIGNMENT)}
    assert (rows["ada"]["status"], rows["ada"]["score"], rows["ada"]["late"]) == ("graded", "20", "no")
    assert (rows["bo"]["status"], rows["bo"]["score"]) == ("preflight_failed", "")
    assert "not valid JSON" in rows["bo"]["notes"]
    assert (rows["cy"]["status"], rows["cy"]["score"], rows["cy"]["test_quantize"]) == ("timed_out", "2", "2")
    assert (rows["di"]["late"], rows["di"]["seconds_late"], rows["di"]["score"]) == ("yes", "122460", "0")
    assert (rows["ed"]["status"], rows["ed"]["score"]) == ("incomplete", "")


def test_a_failed_regrade_leaves_no_stale_score(scratch_course):
    from course_utils.grading.config import open_gradebook

    paths, spec = scratch_course
    save(paths, _result(spec, "ada", "graded", {c.grade_id for c in spec.tests}), "run1", {})
    assert (paths.autograded_dir / "ada" / ASSIGNMENT / NOTEBOOK).exists() is False  # no notebook given
    mark_in_progress(paths, ASSIGNMENT, "ada", "run2")  # a regrade starts ...
    row = next(r for r in export_rows(paths, ASSIGNMENT) if r["student_id"] == "ada")
    assert (row["status"], row["score"]) == ("incomplete", "")  # ... and is interrupted
    save(paths, _result(spec, "ada", "preflight_failed", set()), "run2", {})  # ... or fails
    row = next(r for r in export_rows(paths, ASSIGNMENT) if r["student_id"] == "ada")
    assert (row["status"], row["score"]) == ("preflight_failed", "")
    with open_gradebook(paths) as gb:
        # Other tests in this process may have graded other students into the same release.
        assert "ada" not in [s.student.id for s in gb.assignment_submissions(ASSIGNMENT)]


def test_export_refuses_scores_it_cannot_vouch_for(scratch_course):
    from course_utils.grading.config import open_gradebook
    from course_utils.grading.records import record_path

    paths, spec = scratch_course
    everything = {c.grade_id for c in spec.tests}
    save(paths, _result(spec, "ada", "graded", everything), "run1", {})
    save(paths, _result(spec, "bo", "graded", everything), "run1", {})
    with open_gradebook(paths) as gb:  # someone edits the gradebook's automatic score
        gb.find_grade("test_quantize", ASSIGNMENT, ASSIGNMENT, "ada").auto_score = 0
        gb.db.commit()
    record = json.loads(record_path(paths, ASSIGNMENT, "bo").read_text())
    record["release_checksum"] = "0" * 16  # graded against tests that have changed since
    record_path(paths, ASSIGNMENT, "bo").write_text(json.dumps(record))
    rows = {r["student_id"]: r for r in export_rows(paths, ASSIGNMENT)}
    assert (rows["ada"]["status"], rows["ada"]["score"]) == ("inconsistent", "")
    assert (rows["bo"]["status"], rows["bo"]["score"]) == ("stale", "")


def test_manual_changes_in_the_gradebook_are_exported_and_noted(scratch_course):
    from course_utils.grading.config import open_gradebook

    paths, spec = scratch_course
    save(paths, _result(spec, "ada", "graded", {"test_quantize"}), "run1", {})
    with open_gradebook(paths) as gb:
        gb.find_grade("test_quantize_hidden", ASSIGNMENT, ASSIGNMENT, "ada").manual_score = 1
        gb.db.commit()
    row = next(r for r in export_rows(paths, ASSIGNMENT) if r["student_id"] == "ada")
    assert (row["status"], row["score"]) == ("graded", "3")
    assert "changed by hand" in row["notes"]


# -- the entry point -------------------------------------------------------------------
def test_course_py_passes_instructor_commands_to_the_grading_package(monkeypatch):
    import course

    calls = []
    monkeypatch.setattr(course, "ensure_environment", lambda: Path("/env/bin/python"))
    monkeypatch.setattr(course.subprocess, "call", lambda args, cwd: calls.append(args) or 0)
    for command in ("release", "grade", "feedback", "export"):
        assert course.main([command, ASSIGNMENT, "--jobs", "2"]) == 0
        assert calls[-1][:3] == ["/env/bin/python", "-m", "course_utils.grading"] and calls[-1][3:] == [command, ASSIGNMENT, "--jobs", "2"]
    assert course.main(["test", "-k", "x"]) == 0 and calls[-1] == ["/env/bin/python", "-m", "pytest", "-k", "x"]
    assert course.main(["lab", "--no-browser"]) == 0 and calls[-1][1:4] == ["-m", "jupyter", "lab"]
    assert course.main(["nonsense"]) == 2


def test_cli_explains_itself():
    from course_utils.grading.cli import build_parser

    text = build_parser().format_help()
    for command in ("release", "grade", "feedback", "export"):
        assert command in text
    with pytest.raises(SystemExit):
        build_parser().parse_args(["grade"])
