"""A sandboxed Jupyter kernel for one submission, driven cell by cell with hard limits.

Each submission gets a fresh temporary folder (the sandbox) holding only the student's
files and the helper files shipped with the assignment, and a fresh kernel started by
``_launcher.py`` inside it. Every execution has a deadline: past it the kernel is
interrupted, and if it does not stop within a grace period it is killed together with
every process it started. Outputs are kept only up to a size limit and only as text.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import shutil
import signal
import site
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .config import Limits

LAUNCHER_SOURCE = (Path(__file__).with_name("_launcher.py")).read_text()
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
SYSTEM_READ_ONLY = ["/usr", "/lib", "/lib32", "/lib64", "/bin", "/sbin", "/etc", "/proc", "/sys", "/dev", "/opt"]


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


def _within(path: str, roots: list[str]) -> bool:
    return any(os.path.commonpath([path, root]) == path for root in roots)


def read_only_folders(deny: list[str]) -> list[str]:
    """Folders the kernel may read: the system and this Python installation, minus any
    folder that would contain an instructor folder (then only its library parts)."""
    deny = [os.path.realpath(d) for d in deny]
    candidates = SYSTEM_READ_ONLY + [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]
    with contextlib.suppress(AttributeError):
        candidates += site.getsitepackages()
    folders: list[str] = []
    for folder in candidates:
        real = os.path.realpath(folder)
        if not os.path.exists(real):
            continue
        if _within(real, deny):  # "/" or a folder above the course: only its library parts
            parts = [os.path.join(real, p) for p in ("lib", "lib64", "bin", "share")]
            folders += [p for p in parts if os.path.isdir(p) and not _within(p, deny)]
        elif real not in folders:
            folders.append(real)
    return folders


class Sandbox:
    """A private temporary folder for one submission's files and kernel.

    The grader exchanges files with the kernel in ``.grading/``, which student code can
    change at will (plant links, FIFOs, directories). So the grader reaches that folder
    only through a descriptor opened before any student code ran, never follows links
    there, and reads only regular files of a bounded size.
    """

    def __init__(self, parent: str | None = None) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="cvgrade-", dir=parent)).resolve()
        self.control = self.path / ".grading"
        for sub in (self.control, self.path / "tmp", self.path / ".ipython"):
            sub.mkdir()
        self._dir_fd = os.open(self.control, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        self._calls = 0

    def call_names(self) -> tuple[str, str]:
        self._calls += 1
        return f"in-{self._calls}.npz", f"out-{self._calls}.npz"

    def remove_control(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError, IsADirectoryError, PermissionError):
            os.unlink(name, dir_fd=self._dir_fd)

    def write_control(self, name: str, data: bytes) -> None:
        self.remove_control(name)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(name, flags, 0o644, dir_fd=self._dir_fd)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)

    def read_control(self, name: str, limit: int) -> bytes | None:
        """The file's bytes if it is a regular file of at most ``limit`` bytes, else None."""
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            fd = os.open(name, flags, dir_fd=self._dir_fd)
        except OSError:
            return None
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
                return None
            return handle.read(limit + 1)[:limit]

    def cleanup(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._dir_fd)
        shutil.rmtree(self.path, ignore_errors=True)


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
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


class KernelSession:
    """One kernel process in a sandbox, with a client that enforces the limits."""

    def __init__(self, sandbox: Sandbox, limits: Limits, deny: list[str]) -> None:
        self.sandbox = sandbox
        self.limits = limits
        self.deny = deny
        self.proc: subprocess.Popen | None = None
        self.client = None
        self.applied: dict = {}
        self.private = Path(tempfile.mkdtemp(prefix="cvgrade-client-"))  # never seen by the kernel
        self.log_path = self.private / "kernel.log"

    # -- life cycle -------------------------------------------------------------------
    def start(self) -> None:
        from jupyter_client import BlockingKernelClient
        from jupyter_client.connect import write_connection_file

        box = self.sandbox.path
        for stale in os.listdir(self.sandbox.control):
            if stale.startswith("k-"):
                self.sandbox.remove_control(stale)
        private_connection = self.private / "kernel.json"
        write_connection_file(str(private_connection), transport="ipc", ip=str(self.sandbox.control / "k"))
        self.sandbox.write_control("kernel.json", private_connection.read_bytes())
        connection = self.sandbox.control / "kernel.json"
        config = {
            "sandbox": str(box),
            "read_only": read_only_folders(self.deny + [str(box.parent)]),
            "deny": self.deny + [str(box.parent)],  # other sandboxes live beside this one
            "memory_bytes": self.limits.memory_mb * 1024 * 1024,
            "cpu_seconds": self.limits.cpu_seconds,
            "file_bytes": self.limits.file_mb * 1024 * 1024,
            "mode": self.limits.sandbox,
        }
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(box),
            "TMPDIR": str(box / "tmp"),
            "IPYTHONDIR": str(box / ".ipython"),
            "MPLCONFIGDIR": str(box / "tmp"),
            "MPLBACKEND": "Agg",
            "XDG_CACHE_HOME": str(box / "tmp"),
            "XDG_CONFIG_HOME": str(box / "tmp"),
            "JUPYTER_RUNTIME_DIR": str(self.sandbox.control),
            "JUPYTER_PLATFORM_DIRS": "1",
            "JPY_PARENT_PID": str(os.getpid()),
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "MALLOC_ARENA_MAX": "2",
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",
            "COURSE_GRADING": "1",
            "COURSE_OFFLINE": "1",
            "HTTP_PROXY": "http://127.0.0.1:9",
            "HTTPS_PROXY": "http://127.0.0.1:9",
            "COURSE_GRADING_SANDBOX": json.dumps(config),
        }
        command = [
            sys.executable, "-I", "-c", LAUNCHER_SOURCE, "-f", str(connection),
            "--HistoryManager.enabled=False", "--IPKernelApp.capture_fd_output=False",
        ]  # fmt: skip
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                command, cwd=box, env=env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True, close_fds=True,
            )  # fmt: skip
        client = BlockingKernelClient(connection_file=str(private_connection))
        client.load_connection_file()
        client.start_channels(hb=False)
        self.client = client
        self._wait_until_ready()
        with contextlib.suppress(ValueError, TypeError):
            self.applied = json.loads(self.sandbox.read_control("launcher.json", 4096) or b"{}")

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

    def kill(self) -> None:
        """Kill the kernel and everything it started."""
        if self.client is not None:
            with contextlib.suppress(Exception):
                self.client.stop_channels()
            self.client = None
        if self.proc is not None:
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
                    with contextlib.suppress(OSError):
                        os.kill(self.proc.pid, signal.SIGINT)
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
