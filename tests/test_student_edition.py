"""The student edition holds the lessons and released homework, and no answers."""

from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib
import tomllib

from course_utils.grading.student_edition import (
    FORBIDDEN,
    StudentEditionError,
    _student_pyproject,
    write_student_edition,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    return write_student_edition(tmp_path_factory.mktemp("publish") / "course")


def test_it_holds_the_lessons_helpers_and_released_homework(edition):
    lessons = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert sorted(p.name for p in (edition / "notebooks").glob("*.ipynb")) == lessons
    homework = sorted(p.name for p in (ROOT / "notebooks" / "homework").iterdir() if p.is_dir())
    for name in homework:
        folder = edition / "notebooks" / "homework" / name
        assert (folder / f"{name}.ipynb").is_file() and (folder / "checks.py").is_file()
        assert "is not written yet" in (folder / f"{name}.ipynb").read_text()
    assert (edition / "course_utils" / "core" / "lesson.py").is_file()
    assert (edition / "course.py").is_file() and (edition / "conftest.py").is_file()


def test_it_holds_no_answers_hidden_tests_or_grading_tools(edition):
    for path in edition.rglob("*"):
        if path.is_file() and path.suffix in (".ipynb", ".py", ".md", ".toml"):
            text = path.read_text()
            assert not [m for m in FORBIDDEN if m in text], path
    names = {p.name for p in edition.rglob("*")}
    assert not names & {"grading.toml", "answer_key.toml", "nbgrader_config.py", "grading_fixtures"}
    assert not (edition / "course_utils" / "grading").exists()
    assert not list(edition.glob("tests/test_grading_*")) and not list(edition.glob("tests/test_homework_*"))
    project = tomllib.loads((edition / "pyproject.toml").read_text())
    assert set(project["project"]["optional-dependencies"]) == {"dev"}
    assert "nbgrader" not in (edition / "pyproject.toml").read_text()
    readme = (edition / "README.md").read_text()
    assert readme.index("python3 course.py lab") < 400 and "student edition" in readme


def test_the_instructors_project_keeps_its_grading_extra():
    text = (ROOT / "pyproject.toml").read_text()
    assert "nbgrader" in tomllib.loads(text)["project"]["optional-dependencies"]["grading"][0]
    assert "nbgrader" not in _student_pyproject(text)


def test_an_existing_folder_is_never_overwritten(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(StudentEditionError, match="exists already"):
        write_student_edition(tmp_path)
    assert (tmp_path / "keep.txt").read_text() == "mine"
