"""How a kernel is isolated: bubblewrap where it works, Landlock and audit hooks otherwise.

Bubblewrap (``bwrap``, the namespace sandbox Flatpak uses). The kernel runs as an
unprivileged user (``nobody`` when the grader is root, else the grader's own user), set
before ``bwrap`` runs, in new user, PID, network, IPC, UTS and cgroup namespaces, with
``--die-with-parent``. Its file system is a fresh root that holds only read-only system
folders (``/usr``, ``/etc`` and the ``/bin``, ``/lib`` links), the Python installation
(read-only) and its own sandbox folder, seen as ``/home/student``. So:

- it has no network at all: TCP, UDP and abstract unix sockets stay in its own network
  namespace, and no unix socket of the machine is in its file system;
- it cannot see other kernels, their sockets or their folders, nor the course's sources,
  hidden tests, gradebook or other students' work;
- as an unprivileged user it cannot read root-only files even in the folders it sees;
- every process it starts dies with it (the PID namespace).

A Python installation under a folder that the unprivileged user cannot enter (pyenv under
``/root``, a home folder with mode 0750) is first bind-mounted onto a folder it can enter,
inside a private mount namespace of the process that starts ``bwrap`` (util-linux
``unshare`` and ``mount``); nothing changes for the rest of the machine.

The fallback, where ``bwrap`` is missing or cannot create namespaces (macOS, containers,
locked-down hosts), is ``_launcher.py``'s Landlock and audit hooks. It is weaker (the
kernel keeps uid 0 when the grader is root, and the network is not closed), so the run
summary and the CSV notes say so, and ``grade --require-isolation`` refuses to start.
"""

from __future__ import annotations

import functools
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .sandbox import Sandbox, python_folders

BUBBLEWRAP, LANDLOCK, AUDIT, AUTO = "bubblewrap", "landlock", "audit", "auto"
MODES = (AUTO, BUBBLEWRAP, LANDLOCK, AUDIT)
INSIDE = Path("/home/student")  # where the kernel sees its sandbox folder
SYSTEM_FOLDERS = ("/usr", "/etc")  # bound read-only
SYSTEM_LINKS = (
    "/bin",
    "/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
)  # links (or folders) as on the host
SEARCH_PATH = "/usr/bin:/bin:/usr/sbin:/sbin:/usr/local/bin"
# Run by ``sh`` as root in a private mount namespace: bind each SOURCE onto its TARGET,
# then run the rest of the command line (setpriv ... bwrap ...).
STAGE_SCRIPT = (
    'while [ "$1" != -- ]; do mount --rbind "$1" "$2" || exit 70; shift 2; done; shift; exec "$@"'
)


class IsolationError(RuntimeError):
    """Grading was asked for bubblewrap isolation that this machine cannot give."""


@dataclass(frozen=True)
class Choice:
    """The isolation a grading run uses, and why it is not bubblewrap when it is not."""

    mode: str
    problem: str = ""

    @property
    def weaker(self) -> bool:
        return self.mode != BUBBLEWRAP


def sandbox_user() -> tuple[int, int] | None:
    """(uid, gid) of the unprivileged user kernels run as when the grader is root, else None."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam("nobody")
        return entry.pw_uid, entry.pw_gid
    except KeyError:
        return 65534, 65534


def find_bwrap() -> str | None:
    return shutil.which("bwrap", path=SEARCH_PATH + os.pathsep + os.environ.get("PATH", ""))


@functools.cache
def _bwrap_supports(bwrap: str, option: str) -> bool:
    try:
        text = subprocess.run([bwrap, "--help"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return option in text


def _reachable(path: str, uid: int, gid: int) -> bool:
    """Whether ``uid`` may enter every folder on the way to ``path`` and read ``path``."""

    def allowed(info: os.stat_result, bits: int) -> bool:
        if info.st_uid == uid:
            return bool(info.st_mode & (bits << 6))
        if info.st_gid == gid:
            return bool(info.st_mode & (bits << 3))
        return bool(info.st_mode & bits)

    current = Path(path)
    try:
        if not allowed(current.stat(), 0o5):
            return False
        return all(allowed(parent.stat(), 0o1) for parent in current.parents)
    except OSError:
        return False


def _system_arguments() -> list[str]:
    args: list[str] = []
    for folder in SYSTEM_FOLDERS:
        if os.path.isdir(folder):
            args += ["--ro-bind", folder, folder]
    for folder in SYSTEM_LINKS:
        if os.path.islink(folder):
            args += ["--symlink", os.readlink(folder), folder]
        elif os.path.isdir(folder):
            args += ["--ro-bind", folder, folder]
    return args


def launch_command(
    bwrap: str, sandbox: Sandbox, deny: list[str], command: list[str], info_fd: int
) -> list[str]:
    """The command line that starts ``command`` (the kernel) under bubblewrap in ``sandbox``."""
    user = sandbox_user()
    staged: list[str] = []
    python_args: list[str] = []
    for folder in python_folders(deny):
        if any(folder == f or folder.startswith(f + "/") for f in SYSTEM_FOLDERS):
            continue
        source = folder
        if user is not None and not _reachable(folder, *user):
            source = str(sandbox.staging_folder())
            staged += [folder, source]
        python_args += ["--ro-bind", source, folder]
    box = str(INSIDE)
    # The kernel's /tmp is its sandbox's tmp folder. When Python itself lives under /tmp (a
    # virtual environment in a checkout there), /tmp must exist before Python is bound into
    # it, so the folder is bound first instead of linked at the end.
    python_in_tmp = any(f == "/tmp" or f.startswith("/tmp/") for f in python_args[2::3])
    tmp_first = ["--bind", str(sandbox.path / "tmp"), "/tmp"] if python_in_tmp else []
    tmp_last = [] if python_in_tmp else ["--symlink", f"{box}/tmp", "/tmp"]
    args = [
        bwrap, "--unshare-all", "--unshare-user", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
        *(["--disable-userns"] if _bwrap_supports(bwrap, "--disable-userns") else []),
        *_system_arguments(), *tmp_first, *python_args,
        "--proc", "/proc", "--dev", "/dev", "--bind", str(sandbox.path), box,
        *tmp_last, "--chdir", box, "--info-fd", str(info_fd), "--", *command,
    ]  # fmt: skip
    if user is None:
        return args
    uid, gid = (str(n) for n in user)
    args = ["setpriv", "--reuid", uid, "--regid", gid, "--clear-groups", "--", *args]
    if staged:
        args = ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", STAGE_SCRIPT, "sh", *staged, "--", *args]  # fmt: skip
    return args


def prepare(sandbox: Sandbox) -> None:
    """Hand the sandbox folder to the kernel's user and point the kernel's paths inside."""
    user = sandbox_user()
    if user is not None:
        sandbox.hand_over(*user)
    sandbox.inside = INSIDE


def _probe(deny: tuple[str, ...]) -> str:
    """Start a Python inside bubblewrap as a kernel would be; '' if it works, else why not."""
    bwrap = find_bwrap()
    if bwrap is None:
        return "bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    sandbox = Sandbox(tempfile.gettempdir())
    read, write = os.pipe()
    try:
        prepare(sandbox)
        code = "import encodings, json, zmq, os; print('sandboxed', os.getuid())"
        command = launch_command(
            bwrap, sandbox, list(deny), [sys.executable, "-I", "-c", code], write
        )
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=60, pass_fds=(write,),
                                  env={"PATH": SEARCH_PATH, "LANG": "C.UTF-8"})  # fmt: skip
        except (OSError, subprocess.SubprocessError) as error:
            return f"bubblewrap could not be started ({error})"
        if done.returncode != 0 or "sandboxed" not in done.stdout:
            why = (done.stderr.strip() or done.stdout.strip() or f"exit status {done.returncode}")[
                -400:
            ]
            return f"bubblewrap cannot create its sandbox here: {why}"
        return ""
    finally:
        os.close(read)
        os.close(write)
        sandbox.cleanup()


@functools.cache
def _cached_probe(deny: tuple[str, ...]) -> str:
    return _probe(deny)


def choose(mode: str, deny: list[str]) -> Choice:
    """The isolation for ``mode`` (auto, bubblewrap, landlock or audit) on this machine."""
    if mode not in MODES:
        raise ValueError(f"unknown sandbox mode {mode!r}; known: {', '.join(MODES)}")
    if mode in (LANDLOCK, AUDIT):
        return Choice(mode, f"the {mode} sandbox was chosen instead of bubblewrap")
    if not sys.platform.startswith("linux"):
        return Choice(LANDLOCK, f"bubblewrap needs Linux (this is {sys.platform})")
    problem = _cached_probe(tuple(deny))
    return Choice(LANDLOCK, problem) if problem else Choice(BUBBLEWRAP)


def require(choice: Choice) -> None:
    """Refuse to grade without bubblewrap (``grade --require-isolation``)."""
    if choice.weaker:
        raise IsolationError(
            f"--require-isolation: kernels cannot be isolated with bubblewrap here ({choice.problem}). "
            "Install bubblewrap (Debian/Ubuntu: sudo apt-get install bubblewrap) on a Linux host that "
            "allows user namespaces, or grade without --require-isolation (weaker isolation)."
        )


def is_weaker(level: str) -> bool:
    """Whether a result's sandbox level (``bubblewrap``, ``landlock-abi-N``, ``audit-hooks``) is weaker."""
    return bool(level) and level != BUBBLEWRAP


def process_gone(pid: int, start_time: str) -> bool:
    """Whether process ``pid`` (started at ``start_time``, field 22 of its stat) is gone,
    zombie included: a PID namespace's first process leaves only when all the others have."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return text[text.rfind(")") + 2 :].split()[19] != start_time


def start_time(pid: int) -> str:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return text[text.rfind(")") + 2 :].split()[19]
