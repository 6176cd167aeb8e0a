"""A small pool of grading worker processes, talking to the parent over pipes.

Why not ``concurrent.futures``: a worker must start light and fast (importing
``course_utils`` itself would load PyTorch, which grading does not need), a worker that
dies must be replaced without losing the other workers' work, and a worker must die
with its parent. Each worker reads pickled tasks on stdin and writes pickled results on
stdout; the parent hands out one task at a time per worker.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import selectors
import struct
import subprocess
import sys
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

# course_utils loads nothing heavy until a name is used, so a worker starts without PyTorch.
BOOTSTRAP = "from course_utils.grading.workers import serve\nserve()\n"


def _write(stream, obj: Any) -> None:  # noqa: ANN001
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(struct.pack("<Q", len(data)) + data)
    stream.flush()


def _read(stream) -> Any:  # noqa: ANN001
    header = stream.read(8)
    if len(header) < 8:
        raise EOFError
    (size,) = struct.unpack("<Q", header)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)  # noqa: S301 - frames come from our own worker processes


def serve() -> None:
    """The worker's loop: an initializer call, then one task after another."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's business
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    channel_in = os.fdopen(os.dup(0), "rb")
    channel_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything printed goes to stderr, never into the channel
    sys.stdout = sys.stderr
    initializer, args = _read(channel_in)
    initializer(*args)
    while True:
        try:
            function, args = _read(channel_in)
        except EOFError:
            return
        try:
            result = ("ok", function(*args))
        except Exception as error:  # noqa: BLE001 - reported to the parent
            result = ("error", f"{type(error).__name__}: {error}")
        _write(channel_out, result)


class WorkerPool:
    """Run ``function(*args)`` for many tasks in ``size`` worker processes."""

    def __init__(self, size: int, initializer: Callable, initargs: tuple, stderr=None) -> None:  # noqa: ANN001
        self.size, self.initializer, self.initargs, self.stderr = size, initializer, initargs, stderr
        self.workers: list[subprocess.Popen] = []

    def _start(self) -> subprocess.Popen:
        worker = subprocess.Popen(
            [sys.executable, "-c", BOOTSTRAP], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self.stderr, close_fds=True,
        )  # fmt: skip
        _write(worker.stdin, (self.initializer, self.initargs))
        self.workers.append(worker)
        return worker

    def run(self, function: Callable, tasks: dict[str, tuple], retries: int = 1) -> Iterator[tuple[str, str, Any]]:
        """Yield (key, "ok" | "error" | "lost", result or message) as tasks finish."""
        queue = deque(tasks)
        attempts = dict.fromkeys(tasks, 0)
        busy: dict[int, tuple[subprocess.Popen, str]] = {}
        selector = selectors.DefaultSelector()
        try:
            while queue or busy:
                while queue and len(busy) < self.size:
                    key = queue.popleft()
                    worker = self._idle(busy) or self._start()
                    attempts[key] += 1
                    try:
                        _write(worker.stdin, (function, tasks[key]))
                    except (BrokenPipeError, OSError):
                        self._retire(worker)
                        queue.appendleft(key)
                        continue
                    busy[worker.pid] = (worker, key)
                    selector.register(worker.stdout, selectors.EVENT_READ, worker)
                for event, _ in selector.select():
                    worker = event.data
                    selector.unregister(worker.stdout)
                    _, key = busy.pop(worker.pid)
                    try:
                        status, value = _read(worker.stdout)
                    except (EOFError, OSError, pickle.UnpicklingError):
                        self._retire(worker)
                        if attempts[key] <= retries:
                            queue.append(key)
                        else:
                            yield key, "lost", "a grading worker process died while grading this submission"
                        continue
                    yield key, status, value
        finally:
            selector.close()
            self.close()

    def _idle(self, busy: dict) -> subprocess.Popen | None:
        for worker in self.workers:
            if worker.pid not in busy and worker.poll() is None:
                return worker
        return None

    def _retire(self, worker: subprocess.Popen) -> None:
        with contextlib.suppress(OSError):
            worker.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            worker.wait(timeout=5)
        if worker in self.workers:
            self.workers.remove(worker)

    def close(self) -> None:
        for worker in list(self.workers):
            with contextlib.suppress(OSError):
                worker.stdin.close()
        for worker in list(self.workers):
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
            with contextlib.suppress(OSError):
                worker.stdout.close()
        self.workers.clear()
