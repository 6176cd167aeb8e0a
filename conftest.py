"""Test-run settings shared by the unit tests and the notebook runs (nbval).

- The fast profile is the default here; ``COURSE_PROFILE=full`` runs the full one.
- Nothing may reach the network: downloads are switched off for the notebooks'
  kernels, and the test process itself refuses connections beyond this machine.
- Deprecations raised by course code are errors.
- After the run, a table of per-notebook wall times and the metrics each notebook
  reported is printed and written to ``build/notebook-report.md``.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
BUILD = ROOT / "build"
REPORT_FILE = BUILD / f"notebook-metrics-{os.getpid()}.jsonl"
TABLE_FILE = BUILD / "notebook-report.md"

# In the student edition (no grading package) the homework notebooks hold stubs for
# students to fill in: they are not run as tests there.
# The grading tests' fixtures (a frozen homework among them) are data, not tests.
collect_ignore_glob = ["tests/grading_fixtures/*"]
if not (ROOT / "course_utils" / "grading").is_dir():
    collect_ignore_glob.append("notebooks/homework/*")

_LOOPBACK_PREFIXES = ("127.", "::1", "localhost", "0.0.0.0")
_windows: dict[str, list[float]] = {}
_failed: set[str] = set()


class NetworkBlockedError(OSError):
    """Raised when a test tries to open a connection beyond this machine."""


def _guarded_connect(original):
    def connect(self, address):  # noqa: ANN001 - same signature as socket.connect
        host = address[0] if isinstance(address, tuple) else str(address)
        if self.family in (socket.AF_INET, socket.AF_INET6) and not str(host).startswith(
            _LOOPBACK_PREFIXES
        ):
            raise NetworkBlockedError(f"tests may not use the network (tried to reach {address})")
        return original(self, address)

    return connect


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("COURSE_PROFILE", "fast")
    os.environ["COURSE_OFFLINE"] = "1"
    os.environ["COURSE_STRICT_WARNINGS"] = "1"
    os.environ.setdefault("MPLBACKEND", "Agg")
    # OpenMP's default wait policy: forcing PASSIVE (threads sleep between parallel
    # regions) made a lesson 16 training step 1.35-1.5x slower on two cores. The
    # graded kernels run single-threaded, so they do not compete for spinning threads.
    # Any HTTP library in a notebook kernel goes through a proxy that refuses at once.
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        os.environ[var] = "http://127.0.0.1:9"
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "localhost,127.0.0.1"
    BUILD.mkdir(exist_ok=True)
    REPORT_FILE.write_text("")
    config.add_cleanup(lambda: REPORT_FILE.unlink(missing_ok=True))
    os.environ["COURSE_REPORT_FILE"] = str(REPORT_FILE)
    socket.socket.connect = _guarded_connect(socket.socket.connect)
    socket.socket.connect_ex = _guarded_connect(socket.socket.connect_ex)


def _notebook_of(nodeid: str) -> str | None:
    path = nodeid.split("::", 1)[0]
    return path if path.endswith(".ipynb") else None


def pytest_runtest_logstart(nodeid: str, location: tuple) -> None:
    notebook = _notebook_of(nodeid)
    if notebook:
        now = time.time()
        _windows.setdefault(notebook, [now, now])


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    notebook = _notebook_of(report.nodeid)
    if notebook:
        _windows[notebook][1] = time.time()
        if report.failed:
            _failed.add(notebook)


def _metrics_by_notebook() -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    if not REPORT_FILE.exists():
        return found
    for line in REPORT_FILE.read_text().splitlines():
        entry = json.loads(line)
        for notebook, (start, end) in _windows.items():
            if start <= entry["time"] <= end:
                found[notebook].append(f"{entry['name']}={entry['value']:.4g}")
    return found


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ANN001
    if not _windows:
        return
    metrics = _metrics_by_notebook()
    profile = os.environ.get("COURSE_PROFILE", "fast")
    lines = [
        f"Notebook times, profile '{profile}'",
        "",
        "| notebook | seconds | status | metrics |",
        "|---|---:|---|---|",
    ]
    total = 0.0
    for notebook, (start, end) in sorted(_windows.items()):
        total += end - start
        status = "FAILED" if notebook in _failed else "ok"
        lines.append(
            f"| {notebook} | {end - start:.1f} | {status} | {', '.join(metrics[notebook])} |"
        )
    lines.append(f"| total | {total:.1f} | | |")
    TABLE_FILE.write_text("\n".join(lines) + "\n")
    terminalreporter.section("notebook report")
    for line in lines:
        terminalreporter.write_line(line)
    terminalreporter.write_line(f"(written to {TABLE_FILE.relative_to(ROOT)})")
