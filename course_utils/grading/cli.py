"""The instructor commands: release, grade, feedback, export (``python3 course.py <command>``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .config import GradingOptions, GradingPaths, assignment_limits

EPILOG = """
typical round:
  python3 course.py release  hw1_image_basics --due "2025-03-14 23:59:00 Europe/Berlin"
  (hand out build/grading/release/hw1_image_basics.zip; collect the notebooks)
  python3 course.py grade    hw1_image_basics ~/Downloads/hw1-submissions.zip
  python3 course.py feedback hw1_image_basics
  python3 course.py export   hw1_image_basics --output hw1_grades.csv

An assignment's defaults for --timeout, --total-timeout and --memory can be set in
notebooks/homework/<assignment>/grading.toml (cell_timeout, submission_timeout,
memory_mb; e.g. memory_mb = 6144 for homework that imports torch). Flags still win.
"""


def _paths(args: argparse.Namespace) -> GradingPaths:
    return GradingPaths.default(args.build)


def cmd_release(args: argparse.Namespace) -> int:
    from .release import release, self_check

    paths = _paths(args)
    made = release(args.assignment, paths, due=args.due)
    print(f"Released {made.assignment} ({made.max_score:g} points):")
    print(f"  student copy: {made.folder}/")
    print(f"  zip to hand out: {made.zip_path}")
    print(f"  gradebook: {paths.db_path}")
    if not args.no_check:
        print("Self-check (grading the solution and the student copy) ...")
        for line in self_check(args.assignment, paths, assignment_limits(paths, args.assignment)):
            print(f"  {line}")
        print("  ok: the solution scores full marks, the student copy scores 0.")
    return 0


def cmd_grade(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from .batch import grade_batch
    from .grader import ERROR

    paths = _paths(args)
    given = {"cell_timeout": args.timeout, "submission_timeout": args.total_timeout, "memory_mb": args.memory}
    limits = replace(
        assignment_limits(paths, args.assignment),
        sandbox=args.sandbox,
        **{name: value for name, value in given.items() if value is not None},
    )
    options = GradingOptions(limits=limits, jobs=args.jobs, late_penalty=args.late_penalty,
                             require_isolation=args.require_isolation)  # fmt: skip
    report = grade_batch(args.assignment, Path(args.submissions), paths, options, students=args.student)
    print()
    print(report.summary())
    print(f"\nNext: python3 course.py feedback {args.assignment}   and   python3 course.py export {args.assignment}")
    return 1 if report.counts[ERROR] else 0


def cmd_feedback(args: argparse.Namespace) -> int:
    from .feedback import generate

    report = generate(args.assignment, _paths(args), students=args.student)
    print(f"Feedback pages: {len(report.pages)} (one folder per student in {_paths(args).feedback_dir})")
    print(f"  all in one zip: {report.zip_path}")
    for student, problem in report.problems.items():
        print(f"  {student}: no page ({problem.splitlines()[-1] if problem else 'unknown error'})")
    return 1 if report.problems else 0


def cmd_export(args: argparse.Namespace) -> int:
    from collections import Counter

    from .records import STATUS_TEXT, export_csv, export_rows

    paths = _paths(args)
    output = export_csv(paths, args.assignment, Path(args.output) if args.output else None)
    rows = export_rows(paths, args.assignment)
    counts = Counter(row["status"] for row in rows)
    print(f"Wrote {len(rows)} students to {output}")
    for status, count in sorted(counts.items()):
        print(f"  {status:17s} {count:4d}  ({STATUS_TEXT.get(status, status)})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python3 course.py", description="Instructor commands for the course's homework.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("assignment", help="assignment name, a folder of notebooks/homework/ (e.g. hw1_image_basics)")
        sub.add_argument("--build", help="grading folder (default: build/grading in the repository)")
        return sub

    release = command("release", "make the student copy (stubs, no hidden tests) and its zip; check it")
    release.add_argument("--due", help='due date, e.g. "2025-03-14 23:59:00 Europe/Berlin" (marks late work)')
    release.add_argument("--no-check", action="store_true", help="skip grading the solution and the student copy")
    release.set_defaults(run=cmd_release)

    grade = command("grade", "grade submissions: a folder (one subfolder or zip per student) or an LMS zip")
    grade.add_argument("submissions", help="folder or .zip with the submissions")
    grade.add_argument("--jobs", type=int, default=0, help="parallel grading processes (default: one per CPU core)")
    grade.add_argument("--timeout", type=float, help="seconds per cell and per test call (default 60)")
    grade.add_argument("--total-timeout", type=float, help="seconds per notebook (default 600)")
    grade.add_argument("--memory", type=int, help="memory limit per notebook in MB (default 2048)")
    grade.add_argument("--student", action="append", help="grade only this student (repeatable)")
    grade.add_argument("--late-penalty", choices=["none", "zero"], default="none",
                       help="none: only mark late work (default); zero: late work scores 0")  # fmt: skip
    grade.add_argument("--require-isolation", action="store_true",
                       help="refuse to grade unless every kernel can run under bubblewrap (see the README)")  # fmt: skip
    grade.add_argument("--sandbox", choices=["auto", "bubblewrap", "landlock", "audit"], default="auto",
                       help=argparse.SUPPRESS)  # fmt: skip
    grade.set_defaults(run=cmd_grade)

    feedback = command("feedback", "write an HTML feedback page per student (and a zip of all of them)")
    feedback.add_argument("--student", action="append", help="only this student (repeatable)")
    feedback.set_defaults(run=cmd_feedback)

    export = command("export", "write the grades as CSV, with a status column (never a silent 0)")
    export.add_argument("--output", help="CSV file (default: build/grading/<assignment>_grades.csv)")
    export.set_defaults(run=cmd_export)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (RuntimeError, FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
