"""Run one notebook top to bottom in a fresh kernel, cell by cell, within time limits.

The executor talks to the kernel with ``jupyter_client`` directly rather than through
``nbclient``: after some cells that display widgets, nbclient can wait for a reply
that has already arrived until the whole cell timeout runs out (nbclient issue #312).
Here every wait is a short poll against a deadline, a cell is done once its reply and
its outputs are in (or a few seconds after its reply when the kernel never reports
idle), and a notebook that runs past its limit is interrupted and then stopped.
"""

from __future__ import annotations

import json
import os
import queue
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.manager import KernelManager

from .results import Metric, NotebookResult, code_hash

POLL_SECONDS = 0.2
IDLE_GRACE_SECONDS = 5.0  # after the reply, how long to wait for the kernel to report idle


@dataclass(frozen=True)
class Limits:
    """Seconds one cell and one whole notebook may run."""

    cell: float = 1800.0
    notebook: float = 3600.0


class _CellTimeout(Exception):
    pass


def _kernel_env(profile: str, report_file: Path, notebook: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)  # figures inline, as in JupyterLab
    env.update(
        COURSE_PROFILE=profile,
        COURSE_REPORT_FILE=str(report_file),
        JPY_SESSION_NAME=str(notebook),
        PYDEVD_DISABLE_FILE_VALIDATION="1",
    )
    return env


def _add_output(outputs: list[Any], msg: dict[str, Any]) -> None:
    kind = msg["header"]["msg_type"]
    if kind == "clear_output":
        outputs.clear()
        return
    if kind not in ("stream", "display_data", "execute_result", "error"):
        return
    if kind == "stream" and outputs and outputs[-1].get("output_type") == "stream" and outputs[-1].name == msg["content"]["name"]:
        outputs[-1].text += msg["content"]["text"]
        return
    outputs.append(nbformat.v4.output_from_msg(msg))


def _run_cell(kc: Any, source: str, deadline: float) -> tuple[list[Any], dict[str, Any]]:
    """Execute one cell; its outputs and its execute_reply content."""
    msg_id = kc.execute(source, allow_stdin=False, store_history=True)
    outputs: list[Any] = []
    reply: dict[str, Any] | None = None
    idle = False
    reply_time = 0.0
    while True:
        now = time.monotonic()
        if now > deadline:
            raise _CellTimeout
        if reply is not None and (idle or now - reply_time > IDLE_GRACE_SECONDS):
            return outputs, reply
        try:
            msg = kc.get_iopub_msg(timeout=POLL_SECONDS)
            if msg["parent_header"].get("msg_id") == msg_id:
                if msg["header"]["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                    idle = True
                else:
                    _add_output(outputs, msg)
        except queue.Empty:
            pass
        while reply is None:
            try:
                shell = kc.get_shell_msg(timeout=0)
            except queue.Empty:
                break
            if shell["parent_header"].get("msg_id") == msg_id:
                reply, reply_time = shell["content"], time.monotonic()


def _start_kernel(tmp: Path, cwd: Path, env: dict[str, str]) -> tuple[KernelManager, Any]:
    """A fresh kernel on local sockets in ``tmp`` (no TCP port), and a client that is ready."""
    km = KernelManager(kernel_name="python3")
    if os.name == "posix":
        km.transport, km.ip = "ipc", str(tmp / "kernel")
    km.start_kernel(cwd=str(cwd), env=env)
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=120)
    except RuntimeError:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
        raise
    return km, kc


def _read_metrics(report_file: Path) -> list[Metric]:
    if not report_file.exists():
        return []
    metrics = []
    for line in report_file.read_text().splitlines():
        entry = json.loads(line)
        entry.pop("time", None)
        metrics.append(Metric(**entry))
    return metrics


def run_notebook(
    path: str | Path, profile: str, limits: Limits = Limits(), root: Path | None = None
) -> tuple[nbformat.NotebookNode, NotebookResult]:
    """Execute ``path`` in ``profile``; the executed notebook and how it ran."""
    path = Path(path).resolve()
    name = str(path.relative_to(root)) if root else path.name
    nb = nbformat.read(str(path), as_version=4)
    start = time.monotonic()
    deadline = start + limits.notebook
    status, error = "passed", ""
    with tempfile.TemporaryDirectory() as tmp:
        report_file = Path(tmp) / "metrics.jsonl"
        km, kc = _start_kernel(Path(tmp), path.parent, _kernel_env(profile, report_file, path))
        try:
            for cell in nb.cells:
                if cell.cell_type != "code":
                    continue
                cell.outputs = []
                try:
                    outputs, reply = _run_cell(kc, cell.source, min(deadline, time.monotonic() + limits.cell))
                except _CellTimeout:
                    km.interrupt_kernel()
                    status = "timed out"
                    error = f"stopped after {time.monotonic() - start:.0f} s (limits: {limits.cell:.0f} s a cell, {limits.notebook:.0f} s the notebook)"
                    break
                cell.outputs = outputs
                cell.execution_count = reply.get("execution_count")
                if reply.get("status") != "ok":
                    status = "failed"
                    error = f"{reply.get('ename', 'Error')}: {reply.get('evalue', '')}"
                    break
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)
        metrics = _read_metrics(report_file)
    result = NotebookResult(
        notebook=name,
        seconds=round(time.monotonic() - start, 1),
        status=status,
        code_hash=code_hash(path),
        error=error,
        metrics=metrics,
    )
    return nb, result
