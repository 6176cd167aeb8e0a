"""The record of a verification run and the ``results/<profile>.md`` file that keeps it.

The Markdown file is for people (tables of times and metrics); a JSON block at its end
holds the same record for programs: :func:`read_results` parses it back, and the test
suite uses it to check that every recorded notebook still has the code it was run with.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import nbformat

RESULTS_DIR = Path(__file__).resolve().parents[2] / "results"
_JSON_FENCE = "```json"


@dataclass
class Metric:
    """One number a notebook reported; ``bound`` and ``direction`` only for claims."""

    name: str
    value: float
    bound: float | None = None
    direction: str | None = None  # ">=" or "<="
    passed: bool | None = None

    @property
    def is_claim(self) -> bool:
        return self.bound is not None

    def describe(self) -> str:
        if not self.is_claim:
            return f"{self.value:.4g}"
        verdict = "pass" if self.passed else "FAIL"
        return f"{self.value:.4g} {self.direction} {self.bound:.4g} ({verdict})"


@dataclass
class NotebookResult:
    """How one notebook ran."""

    notebook: str
    seconds: float
    status: str  # "passed", "failed" or "timed out"
    code_hash: str
    error: str = ""
    metrics: list[Metric] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "passed" and all(m.passed is not False for m in self.metrics)


@dataclass
class RunRecord:
    """A whole verification run."""

    profile: str
    date: str
    machine: dict[str, Any]
    versions: dict[str, str]
    notebooks: list[NotebookResult] = field(default_factory=list)


def code_hash(notebook: str | Path) -> str:
    """SHA-256 (first 16 hex digits) of a notebook's code cells; markdown edits don't count."""
    nb = nbformat.read(str(notebook), as_version=4)
    sources = [cell.source for cell in nb.cells if cell.cell_type == "code"]
    return hashlib.sha256("\n\x00\n".join(sources).encode()).hexdigest()[:16]


def results_path(profile: str, folder: Path | None = None) -> Path:
    return (folder or RESULTS_DIR) / f"{profile}.md"


def merge(old: RunRecord | None, new: RunRecord) -> RunRecord:
    """``new`` with the notebooks of ``old`` that it did not run kept (a run of some lessons)."""
    if old is None or old.profile != new.profile:
        return new
    ran = {r.notebook for r in new.notebooks}
    kept = [r for r in old.notebooks if r.notebook not in ran]
    merged = sorted(kept + new.notebooks, key=lambda r: r.notebook)
    return RunRecord(new.profile, new.date, new.machine, new.versions, merged)


def to_markdown(record: RunRecord) -> str:
    """The results file: machine, versions, a time table, then every metric."""
    m = record.machine
    lines = [
        f"# Results of the `{record.profile}` profile",
        "",
        f"Written by `python3 course.py verify --profile {record.profile}` on {record.date}. "
        "Each notebook ran top to bottom in a fresh kernel. Do not edit by hand: run the command "
        "again for the notebooks whose code changed.",
        "",
        f"- machine: {m.get('cpu', '?')}, {m.get('cores', '?')} cores, {m.get('memory_gb', '?')} GB, "
        f"GPU: {m.get('gpu') or 'none'}; {m.get('platform', '')}",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in record.versions.items()),
        "",
        "| notebook | seconds | status | claims passed | code hash |",
        "|---|---:|---|---:|---|",
    ]
    for r in record.notebooks:
        claims = [x for x in r.metrics if x.is_claim]
        passed = sum(bool(x.passed) for x in claims)
        status = r.status if r.ok or r.status != "passed" else "claim failed"
        lines.append(f"| {r.notebook} | {r.seconds:.0f} | {status} | {passed}/{len(claims)} | `{r.code_hash}` |")
    total = sum(r.seconds for r in record.notebooks)
    lines += [f"| total | {total:.0f} | | | |", "", "## Metrics", ""]
    for r in record.notebooks:
        lines.append(f"### {r.notebook}")
        if r.error:
            lines.append(f"\nError: `{r.error.strip().splitlines()[-1][:300]}`\n")
        if not r.metrics:
            lines.append("\n(no metrics reported)\n")
            continue
        lines += ["", "| metric | value | claim |", "|---|---:|---|"]
        for x in r.metrics:
            claim = f"{x.direction} {x.bound:.4g}: {'pass' if x.passed else 'FAIL'}" if x.is_claim else "reported"
            lines.append(f"| {x.name} | {x.value:.4g} | {claim} |")
        lines.append("")
    lines += ["## Record", "", _JSON_FENCE, json.dumps(asdict(record), indent=1), "```", ""]
    return "\n".join(lines)


def from_dict(data: dict[str, Any]) -> RunRecord:
    notebooks = [
        NotebookResult(**{**r, "metrics": [Metric(**x) for x in r.get("metrics", [])]})
        for r in data.get("notebooks", [])
    ]
    return RunRecord(data["profile"], data["date"], data["machine"], data["versions"], notebooks)


def read_results(path: str | Path) -> RunRecord | None:
    """The record kept in a results file, or None when there is no file."""
    path = Path(path)
    if not path.exists():
        return None
    text = path.read_text()
    start = text.rfind(_JSON_FENCE)
    if start < 0:
        raise ValueError(f"{path} has no JSON record block; write it with course.py verify")
    body = text[start + len(_JSON_FENCE) :]
    return from_dict(json.loads(body[: body.index("```")]))


def drift(record: RunRecord, root: Path) -> list[str]:
    """Problems that make a record untrustworthy: failures, and code changed since the run."""
    problems = []
    for r in record.notebooks:
        path = root / r.notebook
        if not r.ok:
            problems.append(f"{r.notebook}: {r.status}" + (f" ({r.error.strip().splitlines()[-1][:120]})" if r.error else ""))
        if not path.exists():
            problems.append(f"{r.notebook}: recorded but no longer exists")
        elif code_hash(path) != r.code_hash:
            problems.append(f"{r.notebook}: code changed since it was verified (run course.py verify again)")
    return problems


def lesson_seconds(profile: str, folder: Path | None = None) -> dict[str, float]:
    """Recorded seconds per notebook file name for ``profile`` (empty when none are recorded)."""
    try:
        record = read_results(results_path(profile, folder))
    except (ValueError, json.JSONDecodeError):
        return {}
    return {} if record is None else {Path(r.notebook).name: r.seconds for r in record.notebooks}
