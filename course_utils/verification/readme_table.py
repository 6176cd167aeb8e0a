"""The README's short table of a profile's recorded results, kept in step with ``results/``.

``verify`` rewrites the block between two markers in the README after each recorded run,
and a test checks that the block equals what the committed results file gives, so the
table a reader sees is always the recorded one.
"""

from __future__ import annotations

from pathlib import Path

from .results import RunRecord


def block_markers(profile: str) -> tuple[str, str]:
    """The HTML comments that open and close a profile's block in the README."""
    return f"<!-- results:{profile}:start -->", f"<!-- results:{profile}:end -->"


def summary_table(record: RunRecord) -> str:
    """One row per notebook: seconds, status and its claims (value, bound) in short."""
    rows = ["| notebook | seconds | status | claims |", "|---|---:|---|---|"]
    for result in sorted(record.notebooks, key=lambda r: r.notebook):
        claims = [m for m in result.metrics if m.is_claim]
        failed = [m.name for m in claims if m.passed is False]
        status = result.status if not failed else f"{result.status}, {len(failed)} claim(s) failed"
        passed = sum(bool(m.passed) for m in claims)
        rows.append(f"| {Path(result.notebook).stem} | {result.seconds:.0f} | {status} | {passed}/{len(claims)} passed |")
    total = sum(r.seconds for r in record.notebooks)
    rows.append(f"| total | {total:.0f} | | |")
    return "\n".join(rows)


def replace_block(text: str, profile: str, table: str) -> str:
    """``text`` with the profile's block replaced by ``table``; unchanged if it has no block."""
    start, end = block_markers(profile)
    if start not in text or end not in text:
        return text
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{table}\n{end}{tail}"


def current_block(text: str, profile: str) -> str | None:
    """The table inside the profile's block of ``text``, or None if there is no block."""
    start, end = block_markers(profile)
    if start not in text or end not in text:
        return None
    return text.split(start, 1)[1].split(end, 1)[0].strip("\n")
