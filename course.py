#!/usr/bin/env python3
"""Set up the course and use it, with nothing but Python 3.10+ installed.

    python3 course.py lab     # set up (first time only) and open the lessons in JupyterLab
    python3 course.py test    # set up (first time only) and run every test and notebook
    python3 course.py verify  # run the lessons in a profile; executed site + results/<profile>.md

For instructors (homework graded with nbgrader; see the README, "For instructors"):

    python3 course.py release  hw1_image_basics               # student copy + zip, self-checked
    python3 course.py grade    hw1_image_basics SUBMISSIONS   # a folder or an LMS zip
    python3 course.py feedback hw1_image_basics               # an HTML page per student
    python3 course.py export   hw1_image_basics               # grades as CSV, with a status
    python3 course.py student-edition OUTDIR                  # the course without answers, to publish

Setting up means: create a virtual environment in .venv/ (unless one is already
active) and install the course with its dependencies into it. It is redone only
when pyproject.toml changes. Anything after the command is passed on, e.g.
``python3 course.py test -k lesson_01`` or ``python3 course.py lab --no-browser``.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
# The instructor's course has the grading package and installs its extras (nbgrader);
# the student edition has neither, so students' JupyterLab shows no grading tools.
GRADING = (ROOT / "course_utils" / "grading").is_dir()
EXTRAS = "dev,grading" if GRADING else "dev"
STAMP_NAME = ".course-installed"


def _active_environment() -> Path | None:
    """The already active virtualenv or (non-base) conda environment, if any."""
    if sys.prefix != sys.base_prefix:
        return Path(sys.prefix)
    conda = os.environ.get("CONDA_PREFIX")
    if conda and os.environ.get("CONDA_DEFAULT_ENV", "base") != "base":
        return Path(conda)
    return None


def _python_in(env: Path) -> Path:
    return env / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_environment() -> Path:
    """Return the Python of a ready environment, creating and installing it if needed."""
    env = _active_environment()
    if env is None:
        env = VENV
        if not _python_in(env).exists():
            print(f"[course] creating a virtual environment in {env} ...", flush=True)
            venv.EnvBuilder(with_pip=True).create(env)
    python = _python_in(env) if env == VENV else Path(sys.executable)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + EXTRAS.encode()).hexdigest()
    stamp = env / STAMP_NAME
    if not stamp.exists() or stamp.read_text().strip() != wanted:
        print("[course] installing the course and its dependencies (first run: a few minutes) ...", flush=True)
        start = time.perf_counter()
        subprocess.run(
            [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", "-e", f".[{EXTRAS}]"],
            cwd=ROOT,
            check=True,
        )
        stamp.write_text(wanted + "\n")
        print(f"[course] installed in {time.perf_counter() - start:.0f} s", flush=True)
    return python


def main(argv: list[str]) -> int:
    grading = {"release", "grade", "feedback", "export", "student-edition"}
    commands = {"lab", "test", "verify"} | grading
    if not argv or argv[0] not in commands:
        print(__doc__)
        return 2
    if argv[0] in grading and not GRADING:
        print("[course] this is the student edition: releasing and grading homework are for "
              "instructors and need the course's instructor repository.", file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    try:
        python = ensure_environment()
    except subprocess.CalledProcessError as error:
        print(
            f"[course] setup failed ({error}). Check your internet connection or proxy "
            "(pip must reach PyPI), then run the same command again; see README, Troubleshooting.",
            file=sys.stderr,
        )
        return 1
    if command == "lab":
        args = [str(python), "-m", "jupyter", "lab", f"--notebook-dir={ROOT / 'notebooks'}", *rest]
        if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in rest:
            args.append("--allow-root")  # containers and cloud notebooks often run as root
    elif command == "verify":
        args = [str(python), "-m", "course_utils.verification", *rest]
    elif command == "student-edition":
        args = [str(python), "-m", "course_utils.grading.student_edition", *rest]
    elif command in grading:
        args = [str(python), "-m", "course_utils.grading", command, *rest]
    else:
        args = [str(python), "-m", "pytest", *rest]
    return subprocess.call(args, cwd=ROOT)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
