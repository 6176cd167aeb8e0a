"""course.py verify: the results record, drift checks, the executor and the site."""

import json
from pathlib import Path

import nbformat
import pytest

from course_utils.verification.cli import default_notebooks
from course_utils.verification.executor import Limits, run_notebook
from course_utils.verification.readme_table import current_block, replace_block, summary_table
from course_utils.verification.results import (
    Metric,
    NotebookResult,
    RunRecord,
    code_hash,
    drift,
    lesson_seconds,
    merge,
    read_results,
    to_markdown,
)
from course_utils.verification.site import render_index, render_page

ROOT = Path(__file__).resolve().parents[1]


def _notebook(path: Path, *sources: str, markdown: str = "# title") -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(markdown)] + [nbformat.v4.new_code_cell(s) for s in sources]
    nbformat.write(nb, str(path))
    return path


def _record(*results: NotebookResult, profile: str = "laptop") -> RunRecord:
    return RunRecord(profile, "2026-01-01 00:00 UTC", {"cpu": "x", "cores": 2, "gpu": None}, {"python": "3"}, list(results))


def test_code_hash_ignores_markdown_but_not_code(tmp_path):
    a = code_hash(_notebook(tmp_path / "a.ipynb", "x = 1", markdown="one"))
    b = code_hash(_notebook(tmp_path / "b.ipynb", "x = 1", markdown="two"))
    c = code_hash(_notebook(tmp_path / "c.ipynb", "x = 2"))
    assert a == b != c


def test_results_file_round_trips_and_keeps_claims_apart(tmp_path):
    metrics = [Metric("acc", 0.9, 0.8, ">=", True), Metric("seconds", 3.0)]
    record = _record(NotebookResult("notebooks/x.ipynb", 12.3, "passed", "abc", metrics=metrics))
    path = tmp_path / "laptop.md"
    path.write_text(to_markdown(record))
    text = path.read_text()
    assert "| acc | 0.9 | >= 0.8: pass |" in text and "| seconds | 3 | reported |" in text
    back = read_results(path)
    assert back == record
    assert lesson_seconds("laptop", tmp_path) == {"x.ipynb": 12.3}
    assert read_results(tmp_path / "missing.md") is None


def test_merge_keeps_notebooks_the_new_run_did_not_touch():
    old = _record(NotebookResult("a", 1, "passed", "h1"), NotebookResult("b", 2, "passed", "h2"))
    new = _record(NotebookResult("b", 3, "passed", "h3"))
    assert [(r.notebook, r.seconds) for r in merge(old, new).notebooks] == [("a", 1), ("b", 3)]
    assert merge(old, _record(profile="full")).profile == "full"


def test_drift_finds_failures_changed_code_and_missing_notebooks(tmp_path):
    good = _notebook(tmp_path / "good.ipynb", "x = 1")
    changed = _notebook(tmp_path / "changed.ipynb", "x = 1")
    record = _record(
        NotebookResult("good.ipynb", 1, "passed", code_hash(good)),
        NotebookResult("changed.ipynb", 1, "passed", code_hash(changed)),
        NotebookResult("gone.ipynb", 1, "passed", "h"),
        NotebookResult("failed.ipynb", 1, "failed", "h", error="AssertionError: boom"),
        NotebookResult("claim.ipynb", 1, "passed", "h", metrics=[Metric("acc", 0.1, 0.5, ">=", False)]),
    )
    _notebook(changed, "x = 2")
    for name in ("failed.ipynb", "claim.ipynb"):
        _notebook(tmp_path / name, "x = 1")
    problems = drift(record, tmp_path)
    assert not any(p.startswith("good.ipynb") for p in problems)
    assert any(p.startswith("changed.ipynb: code changed") for p in problems)
    assert any(p.startswith("gone.ipynb: recorded but no longer exists") for p in problems)
    assert any(p.startswith("failed.ipynb: failed") and "boom" in p for p in problems)
    assert any(p.startswith("claim.ipynb: passed") for p in problems)  # passed, but a claim failed


def test_executor_runs_cells_collects_claims_and_stops_at_an_error(tmp_path):
    path = _notebook(
        tmp_path / "n.ipynb",
        "from course_utils import assert_at_least, report\nprint('hello')",
        "report('measured', 2.5)\nassert_at_least('claimed', 0.9, 0.5)",
        "import os\nprint(os.environ['COURSE_PROFILE'])",
        "raise ValueError('stop here')",
        "print('never')",
    )
    nb, result = run_notebook(path, "fast", Limits(cell=60, notebook=120))
    assert result.status == "failed" and "ValueError: stop here" in result.error
    assert [(m.name, m.value, m.bound) for m in result.metrics] == [("measured", 2.5, None), ("claimed", 0.9, 0.5)]
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code[0].outputs[0]["text"] == "hello\n"
    assert code[2].outputs[0]["text"] == "fast\n"
    assert code[3].outputs[0]["output_type"] == "error" and code[4].outputs == []


def test_executor_stops_a_notebook_that_runs_too_long(tmp_path):
    path = _notebook(tmp_path / "slow.ipynb", "import time\ntime.sleep(60)", "print('never')")
    _, result = run_notebook(path, "fast", Limits(cell=3, notebook=30))
    assert result.status == "timed out" and result.seconds < 25


def test_site_has_a_page_per_notebook_and_an_index(tmp_path):
    path = _notebook(tmp_path / "n.ipynb", "print(1 + 1)")
    nb, result = run_notebook(path, "fast", Limits(cell=60, notebook=120))
    page = render_page(nb, tmp_path / "site" / "n.html")
    assert "2" in page.read_text()
    result.metrics.append(Metric("acc", 0.3, 0.5, ">=", False))
    index = render_index(_record(result), tmp_path / "site").read_text()
    assert "n.html" in index and "acc: 0.3 &gt;= 0.5 (FAIL)" in index and "claim failed" in index


def test_committed_results_match_their_notebooks():
    """Recorded results never drift from the code: every committed record still holds."""
    for path in sorted((ROOT / "results").glob("*.md")):
        record = read_results(path)
        assert record is not None
        problems = drift(record, ROOT)
        assert not problems, f"{path.name}: " + "; ".join(problems)


def test_laptop_results_cover_every_lesson_and_homework_solution():
    """The laptop profile's record covers the whole course, not only the lessons that passed."""
    record = read_results(ROOT / "results" / "laptop.md")
    assert record is not None
    recorded = {r.notebook for r in record.notebooks}
    missing = [str(p.relative_to(ROOT)) for p in default_notebooks(ROOT) if str(p.relative_to(ROOT)) not in recorded]
    assert not missing, "not verified in the laptop profile (run python3 course.py verify --profile laptop): " + ", ".join(missing)


LAPTOP_BUDGET_SECONDS = {"default": 600, "10_deep_architectures.ipynb": 900, "14_object_detection.ipynb": 900}


def test_laptop_results_keep_the_time_budgets():
    """Each lesson at most 10 minutes (lessons 10 and 14: 15), the whole course at most 2.5 hours."""
    record = read_results(ROOT / "results" / "laptop.md")
    assert record is not None
    over = [f"{r.notebook} took {r.seconds:.0f} s" for r in record.notebooks
            if r.seconds > LAPTOP_BUDGET_SECONDS.get(Path(r.notebook).name, LAPTOP_BUDGET_SECONDS["default"])]
    assert not over, "over the laptop budget: " + "; ".join(over)
    assert sum(r.seconds for r in record.notebooks) <= 2.5 * 3600


def test_readme_shows_the_recorded_laptop_results():
    """The README's results table is the one the committed results file gives."""
    record = read_results(ROOT / "results" / "laptop.md")
    assert record is not None
    shown = current_block((ROOT / "README.md").read_text(), "laptop")
    assert shown == summary_table(record), "run: python3 course.py verify --profile laptop <notebook>"


def test_readme_block_is_replaced_and_a_failed_claim_is_named():
    result = NotebookResult("notebooks/x.ipynb", 12.0, "passed", "h", metrics=[Metric("acc", 0.3, 0.5, ">=", False)])
    table = summary_table(_record(result))
    assert "| x | 12 | passed, 1 claim(s) failed | 0/1 passed |" in table
    text = "intro\n<!-- results:laptop:start -->\nold\n<!-- results:laptop:end -->\nrest"
    updated = replace_block(text, "laptop", table)
    assert current_block(updated, "laptop") == table and updated.startswith("intro") and updated.endswith("rest")
    assert replace_block("no block", "laptop", table) == "no block"


@pytest.mark.parametrize("text", ["no record here", "```json\n{not json}\n```"])
def test_damaged_results_file_is_refused(tmp_path, text):
    path = tmp_path / "laptop.md"
    path.write_text(text)
    with pytest.raises((ValueError, json.JSONDecodeError)):
        read_results(path)
