"""A sandboxed Jupyter kernel for one submission, driven cell by cell with hard limits.

Each submission gets a fresh temporary folder (the sandbox, see ``sandbox``) holding only
the student's files and the helper files shipped with the assignment, and a fresh kernel
started by ``_launcher.py`` inside it: under bubblewrap where it works, else under the
Landlock and audit-hook fallback (see ``isolation``). The kernel talks to the grader over
unix sockets in the sandbox, and every message is signed with a random key made for that
kernel alone, so no other process can drive it. Every execution has a deadline: past it
the kernel is interrupted, and if it does not stop within a grace period it is killed
together with every process it started (under bubblewrap: its whole PID namespace).
Outputs are kept only up to a size limit and only as text.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import queue
import re
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_client import BlockingKernelClient
from jupyter_client.connect import write_connection_file

from . import isolation
from .config import Limits
from .sandbox import Sandbox, read_only_folders

LAUNCHER_SOURCE = (Path(__file__).with_name("_launcher.py")).read_text()
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
MAX_PROCESSES = 1024  # processes and threads of one kernel under bubblewrap
CHANNELS = ("shell", "iopub", "stdin", "control", "hb")


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


@dataclass
class Execution:
    """What happened when one piece of code ran in the kernel."""

    status: str  # ok | error | timeout | died
    outputs: list[dict] = field(default_factory=list)  # nbformat outputs, text only
    error: dict | None = None  # ename, evalue, traceback (list of lines)
    seconds: float = 0.0
    truncated: bool = False
    killed: bool = False  # the kernel ignored the interrupt and was killed

    @property
    def kernel_lost(self) -> bool:
        return self.status == "died" or self.killed


def _descendants_reaped(session: int) -> None:
    """Kill what is left of a kernel: its session, and orphans reparented to this process."""
    if not sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            os.killpg(session, signal.SIGKILL)
        return
    me = os.getpid()
    for _ in range(20):
        found = False
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rfind(")") + 2 :].split()
            ppid, sid = int(fields[1]), int(fields[3])
            if int(entry) != me and (sid == session or ppid == me):
                with contextlib.suppress(OSError):
                    os.kill(int(entry), signal.SIGKILL)
                found = True
        # collect exited children of this process (zombies) without blocking
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        if not found:
            return
        time.sleep(0.05)


def become_subreaper() -> None:
    """Orphaned processes started by a kernel become children of this process (Linux)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


class KernelSession:
    """One kernel process in a sandbox, with a client that enforces the limits.

    ``mode`` is the isolation chosen for the run (``isolation.choose``): ``bubblewrap``,
    or the fallback ``landlock`` or ``audit``."""

    def __init__(self, sandbox: Sandbox, limits: Limits, deny: list[str], mode: str) -> None:
        self.sandbox = sandbox
        self.limits = limits
        self.deny = deny
        self.mode = mode
        self.proc: subprocess.Popen | None = None
        self.client = None
        self.applied: dict = {}
        self.namespace_init: tuple[int, str] | None = None  # bubblewrap: (pid, start time) of its PID 1
        self.private = Path(tempfile.mkdtemp(prefix="cvgrade-client-"))  # never seen by the kernel
        self.log_path = self.private / "kernel.log"

    @property
    def bubblewrap(self) -> bool:
        return self.mode == isolation.BUBBLEWRAP

    # -- life cycle -------------------------------------------------------------------
    def _connection_files(self) -> Path:
        """A fresh key and socket names: the kernel's file in the sandbox, the grader's here."""
        for stale in os.listdir(self.sandbox.control):
            if stale.startswith("k-"):
                self.sandbox.remove_control(stale)
        ports = {f"{name}_port": number for number, name in enumerate(CHANNELS, start=1)}
        key = secrets.token_hex(32).encode()
        private_connection = self.private / "kernel.json"
        write_connection_file(str(private_connection), transport="ipc", ip=str(self.sandbox.control / "k"), key=key, **ports)  # fmt: skip
        info = json.loads(private_connection.read_text())
        info["ip"] = str(self.sandbox.inside_control / "k")
        self.sandbox.write_control("kernel.json", json.dumps(info).encode(), mode=0o600)
        return private_connection

    def _environment(self, config: dict) -> dict[str, str]:
        box = str(self.sandbox.inside)
        env = {
            "PATH": "/usr/bin:/bin", "HOME": box, "TMPDIR": f"{box}/tmp", "IPYTHONDIR": f"{box}/.ipython",
            "MPLCONFIGDIR": f"{box}/tmp", "MPLBACKEND": "Agg", "XDG_CACHE_HOME": f"{box}/tmp",
            "XDG_CONFIG_HOME": f"{box}/tmp", "JUPYTER_RUNTIME_DIR": f"{box}/.grading", "JUPYTER_PLATFORM_DIRS": "1",
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MALLOC_ARENA_MAX": "2",
            "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1",
            "COURSE_GRADING": "1", "COURSE_OFFLINE": "1", "HTTP_PROXY": "http://127.0.0.1:9",
            "HTTPS_PROXY": "http://127.0.0.1:9", "COURSE_GRADING_SANDBOX": json.dumps(config),
        }  # fmt: skip
        if not self.bubblewrap:  # inside bubblewrap the kernel's parent is PID 1: no parent polling
            env["JPY_PARENT_PID"] = str(os.getpid())
        return env

    def start(self) -> None:
        if self.bubblewrap:
            isolation.prepare(self.sandbox)
        private_connection = self._connection_files()
        parent = str(self.sandbox.holder.parent)  # other sandboxes live beside this one
        config = {
            "sandbox": str(self.sandbox.inside),
            "read_only": [] if self.bubblewrap else read_only_folders(self.deny + [parent]),
            "deny": self.deny + [parent],
            "memory_bytes": self.limits.memory_mb * 1024 * 1024,
            "cpu_seconds": self.limits.cpu_seconds,
            "file_bytes": self.limits.file_mb * 1024 * 1024,
            "processes": MAX_PROCESSES if self.bubblewrap else 0,
            "mode": self.mode,
        }
        command = [
            sys.executable, "-I", "-c", LAUNCHER_SOURCE, "-f", str(self.sandbox.inside_control / "kernel.json"),
            "--HistoryManager.enabled=False", "--IPKernelApp.capture_fd_output=False",
        ]  # fmt: skip
        info_read = info_write = -1
        if self.bubblewrap:
            info_read, info_write = os.pipe()
            bwrap = isolation.find_bwrap() or "bwrap"
            command = isolation.launch_command(bwrap, self.sandbox, self.deny, command, info_write)
        try:
            with open(self.log_path, "ab") as log:
                self.proc = subprocess.Popen(
                    command, cwd=self.sandbox.path, env=self._environment(config), stdin=subprocess.DEVNULL,
                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True, close_fds=True,
                    pass_fds=(info_write,) if self.bubblewrap else (),
                )  # fmt: skip
            if self.bubblewrap:
                os.close(info_write)
                info_write = -1
                self.namespace_init = self._read_namespace_init(info_read)
        finally:
            for fd in (info_read, info_write):
                if fd >= 0:
                    os.close(fd)
        client = BlockingKernelClient(connection_file=str(private_connection))
        client.load_connection_file()
        client.start_channels(hb=False)
        self.client = client
        self._wait_until_ready()
        with contextlib.suppress(ValueError, TypeError):
            self.applied = json.loads(self.sandbox.read_control("launcher.json", 4096) or b"{}")

    def _read_namespace_init(self, fd: int) -> tuple[int, str] | None:
        """bubblewrap's ``--info-fd`` report: the host PID of the sandbox's PID 1."""
        data = b""
        deadline = time.monotonic() + self.limits.startup_timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                chunk = os.read(fd, 4096)
                if not chunk:
                    break
                data += chunk
                with contextlib.suppress(ValueError, KeyError):
                    pid = int(json.loads(data)["child-pid"])
                    return pid, isolation.start_time(pid)
            elif self.proc.poll() is not None:
                break
        return None

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self.limits.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the kernel exited while starting:\n{self.log_tail()}")
            msg_id = self.client.kernel_info()
            got_reply = got_status = False
            until = time.monotonic() + 2.0
            while time.monotonic() < until and not (got_reply and got_status):
                with contextlib.suppress(queue.Empty):
                    reply = self.client.get_shell_msg(timeout=0.05)
                    got_reply |= reply["parent_header"].get("msg_id") == msg_id
                with contextlib.suppress(queue.Empty):
                    self.client.get_iopub_msg(timeout=0.05)
                    got_status = True
            if got_reply and got_status:
                while True:  # drain what is left of the start-up chatter
                    try:
                        self.client.get_iopub_msg(timeout=0.05)
                    except queue.Empty:
                        return
        raise RuntimeError(f"the kernel did not start within {self.limits.startup_timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def interrupt(self) -> None:
        """Ask the kernel to stop what it runs (a SIGINT; under bubblewrap the kernel sends it
        to itself when asked on its control channel)."""
        if not self.bubblewrap:
            with contextlib.suppress(OSError):
                os.kill(self.proc.pid, signal.SIGINT)
            return
        with contextlib.suppress(Exception):  # the kernel may be gone; the grace period decides
            self.client.control_channel.send(self.client.session.msg("interrupt_request", {}))

    def kill(self) -> None:
        """Kill the kernel and everything it started."""
        if self.client is not None:
            with contextlib.suppress(Exception):
                self.client.stop_channels()
            self.client = None
        if self.proc is not None:
            if self.namespace_init is not None:
                # PID 1 of the sandbox: when it dies, the kernel kills every process in its
                # namespace, and bubblewrap exits (reaping it) once they are all gone.
                pid, started = self.namespace_init
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(OSError):
                        os.killpg(self.proc.pid, signal.SIGKILL)
                    self.proc.wait()
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:
                    with contextlib.suppress(ChildProcessError):
                        os.waitpid(pid, os.WNOHANG)  # ours to reap (a subreaper) if bubblewrap exited first
                    if isolation.process_gone(pid, started):
                        break
                    time.sleep(0.01)
            else:
                with contextlib.suppress(OSError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(timeout=10)
                _descendants_reaped(self.proc.pid)
            self.proc = None
        shutil.rmtree(self.private, ignore_errors=True)

    # -- running code -----------------------------------------------------------------
    def execute(self, code: str, timeout: float) -> Execution:
        """Run ``code``; interrupt it at ``timeout`` and kill the kernel if it will not stop."""
        result = Execution(status="ok")
        if not self.alive:
            result.status = "died"
            return result
        start = time.monotonic()
        msg_id = self.client.execute(code, silent=False, store_history=False, allow_stdin=False, stop_on_error=False)
        deadline, interrupted = start + timeout, False
        idle = replied = False
        replied_at = 0.0
        kept = 0
        limit = self.limits.max_output_chars

        def keep(text: str, name: str = "stdout") -> None:
            nonlocal kept
            if kept >= limit:
                result.truncated = True
                return
            text = strip_ansi(text)
            piece = text[: limit - kept]
            kept += len(piece)
            if len(piece) < len(text):
                result.truncated = True
            if result.outputs and result.outputs[-1].get("name") == name and result.outputs[-1]["output_type"] == "stream":
                result.outputs[-1]["text"] += piece
            else:
                result.outputs.append({"output_type": "stream", "name": name, "text": piece})

        while True:
            now = time.monotonic()
            if idle and replied:
                break
            if replied and not idle and now - replied_at > 1.0:
                break  # the reply came but the idle status was lost (a flooded IOPub channel)
            if self.proc.poll() is not None:
                result.status = "died"
                break
            if now > deadline:
                if not interrupted:
                    self.interrupt()
                    interrupted = True
                    result.status = "timeout"
                    deadline = now + self.limits.interrupt_grace
                    continue
                result.killed = True
                self.kill()
                break
            with contextlib.suppress(queue.Empty):
                reply = self.client.get_shell_msg(timeout=0)
                if reply["parent_header"].get("msg_id") == msg_id:
                    replied, replied_at = True, now
                    if reply["content"].get("status") == "error" and result.status == "ok":
                        result.status = "error"
            try:
                msg = self.client.get_iopub_msg(timeout=0.05)
            except queue.Empty:
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "status" and content.get("execution_state") == "idle":
                idle = True
            elif kind == "stream":
                keep(str(content.get("text", "")), "stderr" if content.get("name") == "stderr" else "stdout")
            elif kind in ("execute_result", "display_data"):
                text = content.get("data", {}).get("text/plain")
                if isinstance(text, str):
                    keep(text + "\n")
            elif kind == "error":
                traceback = [strip_ansi(str(line))[:4000] for line in content.get("traceback", [])[:60]]
                result.error = {
                    "ename": strip_ansi(str(content.get("ename", "Error")))[:200],
                    "evalue": strip_ansi(str(content.get("evalue", "")))[:2000],
                    "traceback": traceback,
                }
                if result.status == "ok":
                    result.status = "error"
        if result.truncated:
            result.outputs.append(
                {"output_type": "stream", "name": "stderr", "text": "\n[output truncated by the grader]\n"}
            )
        result.seconds = time.monotonic() - start
        return result
