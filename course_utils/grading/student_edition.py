"""The course as students should get it: lessons, helpers, released homework, no answers.

``python3 course.py student-edition OUTDIR`` writes a folder that an instructor can
publish (a public repository, a zip on the LMS) while the instructor's own repository,
with the solutions, hidden tests and grading settings, stays private:

- the lessons, ``course_utils`` without the grading package, the unit tests that go
  with them, and the recorded results;
- every homework as released: stubs and visible tests, its helpers and ``checks.py``;
- a README that starts with the student's two commands, and a ``pyproject.toml``
  without the grading extras, so students' JupyterLab has no grading tools.

It refuses to finish if a solution marker, a hidden test or a grading file slipped in.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from pathlib import Path

from .config import GradingPaths
from .release import release

ROOT = Path(__file__).resolve().parents[2]
KEPT = ("course.py", "conftest.py", "environment.yml", ".gitignore", "data/README.md")
KEPT_TREES = ("course_utils", "tests", "results")
LEFT_OUT = (
    "course_utils/grading",
    "tests/grading_fixtures",
    "tests/test_grading_",
    "tests/test_homework_",
    "tests/test_student_edition",
)
FORBIDDEN = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
FORBIDDEN_FILES = ("grading.toml", "answer_key.toml", "nbgrader_config.py", "gradebook.db")


class StudentEditionError(RuntimeError):
    """The student edition would have held something students must not get."""


def _left_out(relative: str) -> bool:
    return "__pycache__" in relative or any(relative.startswith(prefix) for prefix in LEFT_OUT)


def _copy_tree(source: Path, target: Path, root: Path) -> None:
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.is_file() and not _left_out(relative) and not path.name.endswith((".pyc", ".egg-info")):
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)


def _student_pyproject(text: str) -> str:
    """The project file without the ``grading`` extra. Released homework imports what its
    hidden tests used too (they are removed, the setup cell is not), so unused imports
    are allowed there."""
    text = re.sub(r"\n# Instructors only[^\n]*\ngrading = \[[^\]]*\]\n", "\n", text)
    return text.replace(
        '[tool.ruff.lint.per-file-ignores]\n',
        '[tool.ruff.lint.per-file-ignores]\n"notebooks/homework/*/*.ipynb" = ["E402", "B018", "F401"]\n',
    )


def student_readme(homework: list[str]) -> str:
    listed = "\n".join(f"- `notebooks/homework/{name}/`" for name in homework)
    return f"""# Computer Vision, from pixels to diffusion (student edition)

You need Python 3.10 or newer (3.11 recommended) and nothing else. From this folder:

```bash
python3 course.py lab     # set up (first time only), then open the lessons in JupyterLab
python3 course.py test    # set up, then run the tests and execute every lesson
```

The first run creates a virtual environment in `.venv/` and installs the course into
it: a few minutes, mostly PyTorch.

## What is here

- `notebooks/`: the lessons, 00 to 18, in the order of the lecture. Start with
  `00_welcome.ipynb`: it explains the run profiles (`fast`, `laptop`, `full`) and
  checks your setup.
- `notebooks/homework/`: one assignment per block of lessons. Each has stubs for you to
  fill in (`raise NotImplementedError(...)`) and visible tests that tell you what is
  expected; your instructor grades them with more tests.
{listed}
- `course_utils/`: the helpers every lesson imports (see `course_utils/README.md`).
- `results/`: what each profile showed when the lessons were last verified.

Hand in each assignment's notebook under its original name, as your instructor asks.
The tests (`python3 course.py test`) run the lessons, not your homework; run an
assignment's own test cells in JupyterLab to check your work.
"""


def _check(folder: Path) -> None:
    problems = []
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        if path.name in FORBIDDEN_FILES:
            problems.append(f"{path.relative_to(folder)} is an instructor's file")
        elif path.suffix in (".ipynb", ".py", ".md", ".toml", ".txt"):
            text = path.read_text(errors="replace")
            problems += [f"{path.relative_to(folder)} contains {m!r}" for m in FORBIDDEN if m in text]
    if (folder / "course_utils" / "grading").exists():
        problems.append("course_utils/grading is the instructor's grading package")
    if problems:
        raise StudentEditionError("The student edition is not safe to hand out: " + "; ".join(sorted(problems)[:10]))


def write_student_edition(out: str | Path, root: Path = ROOT) -> Path:
    """Write the student edition of the course at ``root`` into ``out`` (which must not exist)."""
    out = Path(out).resolve()
    if out.exists():
        raise StudentEditionError(f"{out} exists already; choose a new folder (nothing was written)")
    homework_root = root / "notebooks" / "homework"
    homework = sorted(p.parent.name for p in homework_root.glob("*/*.ipynb") if p.stem == p.parent.name)
    staging = Path(tempfile.mkdtemp(prefix="student-edition-", dir=out.parent if out.parent.exists() else None))
    try:
        for name in KEPT:
            if (root / name).is_file():
                (staging / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(root / name, staging / name)
        for tree in KEPT_TREES:
            if (root / tree).is_dir():
                _copy_tree(root / tree, staging, root)
        for lesson in sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb")):
            (staging / "notebooks").mkdir(parents=True, exist_ok=True)
            shutil.copy2(lesson, staging / "notebooks" / lesson.name)
        with tempfile.TemporaryDirectory() as build:
            paths = GradingPaths(root, homework_root, Path(build))
            for name in homework:
                made = release(name, paths)
                shutil.copytree(made.folder, staging / "notebooks" / "homework" / name,
                                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))  # fmt: skip
        (staging / "pyproject.toml").write_text(_student_pyproject((root / "pyproject.toml").read_text()))
        env = staging / "environment.yml"
        if env.exists():
            env.write_text(env.read_text().replace(".[dev,grading]", ".[dev]"))
        (staging / "README.md").write_text(student_readme(homework))
        _check(staging)
        staging.rename(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m course_utils.grading.student_edition OUTDIR``."""
    parser = argparse.ArgumentParser(
        prog="python3 course.py student-edition",
        description="Write the course as students get it (lessons, helpers, released homework; "
        "no solutions, hidden tests or grading tools) into a new folder.",
    )
    parser.add_argument("outdir", type=Path, help="a folder that does not exist yet")
    args = parser.parse_args(argv)
    try:
        out = write_student_edition(args.outdir)
    except (StudentEditionError, RuntimeError) as error:
        print(f"[student-edition] {error}", file=sys.stderr)
        return 1
    print(f"[student-edition] written to {out}; publish it, and keep this repository private.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
