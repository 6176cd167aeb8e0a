"""``python3 course.py verify [--profile P] [NOTEBOOK ...]``: run lessons, keep what they showed."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import nbformat

from ..core.profile import PROFILES, choose_profile
from .executor import Limits, run_notebook
from .machine import describe_machine, package_versions
from .readme_table import replace_block, summary_table
from .results import RESULTS_DIR, RunRecord, merge, read_results, results_path, to_markdown
from .site import page_name, render_index, render_page

ROOT = RESULTS_DIR.parent


def default_notebooks(root: Path = ROOT) -> list[Path]:
    """Every lesson, then every homework solution (in the instructor's course, not in the
    student edition, whose homework notebooks are stubs)."""
    lessons = sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if not (root / "course_utils" / "grading").is_dir():
        return lessons
    homework = sorted((root / "notebooks" / "homework").glob("*/*.ipynb"))
    return lessons + homework


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python3 course.py verify",
        description="Execute lessons (and homework solutions), each in a fresh kernel; save the "
        "executed notebooks and an HTML site under build/executed/<profile>/, and record times "
        "and every asserted metric in results/<profile>.md.",
    )
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to run (default: all lessons and homework)")
    parser.add_argument("--profile", choices=sorted(PROFILES), help="default: COURSE_PROFILE, else full on a CUDA GPU, laptop otherwise")
    parser.add_argument("--cell-timeout", type=float, default=1800.0, help="seconds one cell may run (default 1800)")
    parser.add_argument("--notebook-timeout", type=float, default=3600.0, help="seconds one notebook may run (default 3600)")
    parser.add_argument("--no-record", action="store_true", help="do not update results/<profile>.md")
    parser.add_argument("--output", type=Path, default=ROOT / "build" / "executed", help="where executed notebooks and pages go")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    profile, reason = choose_profile(args.profile)
    notebooks = [p.resolve() for p in args.notebooks] or default_notebooks()
    missing = [str(p) for p in notebooks if not p.is_file()]
    if missing:
        print(f"[verify] no such notebook: {', '.join(missing)}", file=sys.stderr)
        return 2
    out = args.output / profile.name
    limits = Limits(cell=args.cell_timeout, notebook=args.notebook_timeout)
    print(f"[verify] profile {profile.name} ({reason}); {len(notebooks)} notebook(s) -> {out}", flush=True)
    record = RunRecord(
        profile=profile.name,
        date=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        machine=describe_machine(),
        versions=package_versions(),
    )
    for path in notebooks:
        name = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name
        print(f"[verify] {name} ...", flush=True)
        executed, result = run_notebook(path, profile.name, limits, root=ROOT if path.is_relative_to(ROOT) else path.parent)
        record.notebooks.append(result)
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(executed, str(target))
        render_page(executed, out / page_name(name))
        claims = [m for m in result.metrics if m.is_claim]
        print(
            f"[verify] {name}: {result.status} in {result.seconds:.0f} s, "
            f"{sum(bool(m.passed) for m in claims)}/{len(claims)} claims passed" + (f"; {result.error}" if result.error else ""),
            flush=True,
        )
    if not args.no_record:
        path = results_path(profile.name)
        record = merge(read_results(path), record)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(to_markdown(record))
        print(f"[verify] recorded in {path.relative_to(ROOT)}")
        readme = ROOT / "README.md"
        if readme.is_file():
            text = readme.read_text()
            updated = replace_block(text, profile.name, summary_table(record))
            if updated != text:
                readme.write_text(updated)
                print("[verify] README.md: results table updated")
    index = render_index(record, out)
    print(f"[verify] site: {index}")
    return 0 if all(r.ok for r in record.notebooks) else 1
