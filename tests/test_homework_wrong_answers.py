"""The homework checkers reject wrong answers: each plausible mistake loses exactly the
points of the tests that should catch it, and every test cell catches at least one.

Together with the honest and hostile class of the grading tests, this shows that the
points measure correctness: a checker that accepted anything would fail here.
"""

from __future__ import annotations

import copy
import html
import json
from pathlib import Path

import pytest
from grading_fixtures.classroom import solutions
from grading_fixtures.wrong_answers import WrongAnswer, assignments, wrong_answers

from course_utils.grading.answer_key import load_answer_key
from course_utils.grading.batch import grade_batch
from course_utils.grading.config import GradingOptions, GradingPaths, assignment_limits
from course_utils.grading.feedback import generate
from course_utils.grading.records import export_rows
from course_utils.grading.release import release

ROOT = Path(__file__).resolve().parents[1]
HOMEWORK = ROOT / "notebooks" / "homework"


def _cells(nb: dict) -> list[tuple[str, dict]]:
    return [(c.get("metadata", {}).get("nbgrader", {}).get("grade_id"), c.get("metadata", {}).get("nbgrader", {}))
            for c in nb["cells"]]  # fmt: skip


def _test_points(source: dict) -> dict[str, float]:
    return {gid: float(meta.get("points", 0)) for gid, meta in _cells(source)
            if meta.get("grade") and not meta.get("solution")}  # fmt: skip


def _submission(release_nb: dict, solved: dict[str, str], answers: dict[str, str]) -> dict:
    nb = copy.deepcopy(release_nb)
    unknown = set(answers) - set(solved)
    assert not unknown, f"no answer cells {unknown}"
    for cell in nb["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in solved:
            cell["source"] = answers.get(gid, solved[gid])
    return nb


@pytest.fixture(scope="module", params=assignments())
def graded(request, tmp_path_factory):
    assignment = request.param
    paths = GradingPaths(ROOT, HOMEWORK, tmp_path_factory.mktemp("grading"))
    made = release(assignment, paths)
    source = json.loads((HOMEWORK / assignment / f"{assignment}.ipynb").read_text())
    release_nb = json.loads(made.notebook.read_text())
    cases = [WrongAnswer("solution", "the instructor's solution", {}, frozenset()), *wrong_answers(assignment)]
    folder = tmp_path_factory.mktemp("class")
    for case in cases:
        target = folder / case.name / f"{assignment}.ipynb"
        target.parent.mkdir(parents=True)
        target.write_text(json.dumps(_submission(release_nb, solutions(source), case.answers), indent=1))
    options = GradingOptions(limits=assignment_limits(paths, assignment), jobs=2)
    report = grade_batch(assignment, folder, paths, options, log=lambda line: None)
    print(f"\n[{assignment}] {len(cases)} submissions: {report.summary()}")
    rows = {row["student_id"]: row for row in export_rows(paths, assignment)}
    return assignment, source, cases, rows, paths


def test_there_are_wrong_answers_for_every_assignment():
    names = sorted(p.name for p in HOMEWORK.iterdir() if (p / f"{p.name}.ipynb").is_file())
    assert assignments() == names


def test_every_test_cell_rejects_some_wrong_answer(graded):
    assignment, source, cases, _, _ = graded
    caught = set().union(*(case.fails for case in cases))
    uncovered = sorted(set(_test_points(source)) - caught)
    assert not uncovered, f"{assignment}: test cells that no wrong answer is shown to fail: {uncovered}"


def test_wrong_answers_lose_exactly_the_points_of_the_tests_that_catch_them(graded):
    assignment, source, cases, rows, _ = graded
    points = _test_points(source)
    problems = []
    for case in cases:
        row = rows[case.name]
        expected = {test: 0.0 if test in case.fails else p for test, p in points.items()}
        got = {test: float(row[test]) if row.get(test) not in (None, "") else None for test in points}
        if row["status"] != "graded" or got != expected:
            diff = {t: (got[t], expected[t]) for t in points if got[t] != expected[t]}
            problems.append(f"{case.name} ({case.about}): {row['status']}; got/expected {diff} {row['notes'][:200]}")
    assert not problems, f"{assignment}:\n" + "\n".join(problems)


def test_the_answer_key_names_each_wrong_answer_and_its_feedback_page_does_too(graded):
    assignment, source, cases, _, paths = graded
    key = {m.name: m for m in load_answer_key(HOMEWORK / assignment, set(_test_points(source)))}
    assert key, f"{assignment} has no answer_key.toml"
    wrong = [case for case in cases if case.fails]
    unnamed = sorted({case.about for case in wrong} - set(key))
    assert not unnamed, f"{assignment}: mistakes missing from the answer key: {unnamed}"
    report = generate(assignment, paths, students=[case.name for case in cases])
    assert not report.problems, report.problems
    for case in wrong:
        page = html.unescape(report.pages[case.name].read_text())
        assert "What the grader recognised" in page and case.about in page, f"{case.name}: mistake not named"
    assert "What the grader recognised" not in report.pages["solution"].read_text()
