"""Checks on the repository itself: clean notebooks, lint, no hard-coded paths, no network."""

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def test_there_are_lessons():
    assert any(p.name.startswith("00_") for p in NOTEBOOKS)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_is_committed_without_outputs(notebook):
    cells = json.loads(notebook.read_text())["cells"]
    dirty = [
        i for i, cell in enumerate(cells)
        if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count"))
    ]
    assert not dirty, f"{notebook.name}: clear the outputs of cells {dirty} before committing"


@pytest.mark.parametrize("notebook", [p for p in NOTEBOOKS if "homework" not in p.parts], ids=lambda p: p.name)
def test_lesson_starts_with_title_and_setup(notebook):
    cells = json.loads(notebook.read_text())["cells"]
    assert cells[0]["cell_type"] == "markdown" and "".join(cells[0]["source"]).startswith("# ")
    first_code = next(c for c in cells if c["cell_type"] == "code")
    assert "course_utils" in "".join(first_code["source"])


def test_ruff_passes_on_code_and_notebooks():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "."],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_hard_coded_shared_folder():
    offenders = []
    for path in ROOT.rglob("*"):
        if path.is_dir() or any(part in {".git", ".venv", "build", "data", ".ci"} for part in path.relative_to(ROOT).parts):
            continue
        if path.suffix in {".py", ".ipynb", ".md", ".toml", ".yml", ".cfg"} and path.name != "test_repository.py":
            if "../shared" in path.read_text(errors="ignore"):
                offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, f"name the dataset folder through COURSE_DATASETS_DIR instead: {offenders}"


def test_only_the_readme_is_tracked_under_data():
    result = subprocess.run(["git", "ls-files", "data"], cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip("not a git checkout")
    assert result.stdout.split() in ([], ["data/README.md"])


def test_the_network_is_blocked_during_tests():
    with pytest.raises(OSError, match="may not use the network"):
        socket.create_connection(("192.0.2.1", 80), timeout=1)
