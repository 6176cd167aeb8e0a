"""Start a Jupyter kernel inside its sandbox: resource limits, then (in the fallback) Landlock
and audit hooks.

The grader does not import this module: it passes its source to ``python -I -c`` so the
kernel starts without importing the course's package, and without the sandbox (which
holds the student's files) on ``sys.path`` until the sandbox is in force. The settings come as JSON in the
``COURSE_GRADING_SANDBOX`` environment variable:

- ``sandbox``: the only folder the kernel may write (it holds the student's files);
- ``read_only``: folders it may read (the Python installation, system libraries);
- ``deny``: instructor folders, for the audit-hook fallback where Landlock is missing;
- ``memory_bytes``, ``cpu_seconds``, ``file_bytes``, ``processes``: resource limits;
- ``mode``: ``bubblewrap`` (the kernel already runs inside bubblewrap as an unprivileged
  user: only the resource limits are added here), ``landlock`` (the fallback: Landlock
  where the kernel has it, else audit hooks) or ``audit`` (audit hooks only).

What the fallback sets up, in order: resource limits; if running as root, all capabilities are
dropped (so limits cannot be raised); ``no_new_privs``; a Landlock domain (read-only
access to ``read_only``, full access to ``sandbox``, no TCP, no signals or abstract
sockets beyond the domain); an audit hook that refuses to start processes and, without
Landlock, refuses file access outside the sandbox and the read-only folders. It writes
``.grading/launcher.json`` (what was applied) before any student code runs.
"""

import ctypes
import json
import os
import resource
import struct
import sys


def _limits(cfg):
    """Apply the limits the OS supports (macOS ignores some); returns the names applied."""
    wanted = [("RLIMIT_AS", int(cfg["memory_bytes"])), ("RLIMIT_CPU", int(cfg["cpu_seconds"])),
              ("RLIMIT_FSIZE", int(cfg["file_bytes"])), ("RLIMIT_CORE", 0), ("RLIMIT_NOFILE", 256)]  # fmt: skip
    if cfg.get("processes"):  # per user namespace from Linux 5.14: this kernel's processes and threads
        wanted.append(("RLIMIT_NPROC", int(cfg["processes"])))
    applied = []
    for name, value in wanted:
        try:
            resource.setrlimit(getattr(resource, name), (value, value))
            applied.append(name)
        except (AttributeError, ValueError, OSError):
            pass
    return applied


def _libc():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    libc.prctl.restype = ctypes.c_int
    return libc


def _drop_capabilities(libc):
    """As root: empty the bounding, ambient, effective, permitted and inheritable sets."""
    for cap in range(64):
        libc.prctl(24, cap, 0, 0, 0)  # PR_CAPBSET_DROP
    libc.prctl(47, 4, 0, 0, 0)  # PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL
    header = struct.pack("Ii", 0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    data = bytes(24)  # two empty {effective, permitted, inheritable} records
    if libc.syscall(126, ctypes.c_char_p(header), ctypes.c_char_p(data)) != 0:  # capset
        raise OSError(ctypes.get_errno(), "capset failed")


def _landlock(libc, cfg):
    """Apply a Landlock domain; returns the ABI version used, or 0 where there is none."""
    if not sys.platform.startswith("linux"):
        return 0
    abi = libc.syscall(444, None, ctypes.c_size_t(0), 1)  # landlock_create_ruleset(VERSION)
    if abi < 1:
        return 0
    fs = (1 << 13) - 1  # EXECUTE .. MAKE_SYM
    if abi >= 2:
        fs |= 1 << 13  # REFER
    if abi >= 3:
        fs |= 1 << 14  # TRUNCATE
    if abi >= 5:
        fs |= 1 << 15  # IOCTL_DEV
    if abi >= 6:
        attr = struct.pack("QQQ", fs, 3, 3)  # no TCP bind/connect; scope signals, abstract sockets
    elif abi >= 4:
        attr = struct.pack("QQ", fs, 3)
    else:
        attr = struct.pack("Q", fs)
    ruleset = libc.syscall(444, ctypes.c_char_p(attr), ctypes.c_size_t(len(attr)), 0)
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    file_rights = (1 << 0) | (1 << 1) | (1 << 2) | (1 << 14) | (1 << 15)
    read = (1 << 2) | (1 << 3)

    def allow(path, rights):
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            return
        try:
            if not os.path.isdir(path):
                rights &= file_rights
            rule = struct.pack("=Qi", rights & fs, fd)
            if libc.syscall(445, ruleset, 1, ctypes.c_char_p(rule), 0) != 0:
                raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {path}")
        finally:
            os.close(fd)

    for path in cfg["read_only"]:
        allow(path, read)
    allow(cfg["sandbox"], fs & ~1)  # everything but executing programs
    allow("/dev/null", (1 << 1) | (1 << 2))
    if libc.syscall(446, ruleset, 0) != 0:  # landlock_restrict_self
        raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    os.close(ruleset)
    return abi


def _audit_hook(cfg, landlock_abi):
    """Refuse new processes always; without Landlock, also file access outside allowed folders."""
    import posix

    sandbox = os.path.realpath(cfg["sandbox"])
    readable = tuple(os.path.realpath(p) for p in cfg["read_only"]) + (sandbox,)
    denied = tuple(os.path.realpath(p) for p in cfg["deny"])
    paths_checked = landlock_abi == 0
    lstat, readlink, getcwd, fspath = posix.lstat, posix.readlink, posix.getcwd, posix.fspath
    S_IFMT, S_IFLNK = 0o170000, 0o120000
    refuse_always = frozenset(
        "os.system os.exec os.posix_spawn os.spawn os.fork os.forkpty subprocess.Popen "
        "pty.spawn os.kill os.killpg".split()
    )
    refuse_fallback = frozenset(
        "ctypes.dlopen ctypes.dlsym ctypes.dlsym/handle ctypes.cdata ctypes.addressof "
        "gc.get_objects gc.get_referrers gc.get_referents sys._current_frames "
        "socket.connect socket.bind socket.sendto socket.sendmsg".split()
    )
    # event -> (argument positions that are read, argument positions that are written)
    path_events = {
        "open": ((0,), ()), "os.listdir": ((0,), ()), "os.scandir": ((0,), ()), "os.chdir": ((0,), ()),
        "os.mkdir": ((), (0,)), "os.remove": ((), (0,)), "os.rmdir": ((), (0,)), "os.chmod": ((), (0,)),
        "os.chown": ((), (0,)), "os.truncate": ((), (0,)), "os.utime": ((), (0,)),
        "os.rename": ((), (0, 1)), "os.link": ((), (0, 1)), "os.symlink": ((), (1,)),
        "shutil.copyfile": ((0,), (1,)), "shutil.copytree": ((0,), (1,)), "shutil.move": ((), (0, 1)),
        "shutil.rmtree": ((), (0,)), "sqlite3.connect": ((), (0,)),
    }  # fmt: skip

    def resolve(path):
        if type(path) is bytes:
            path = path.decode("utf-8", "surrogateescape")
        if type(path) is not str:
            path = fspath(path)
            if type(path) is bytes:
                path = path.decode("utf-8", "surrogateescape")
            if type(path) is not str:
                raise PermissionError("the grader's sandbox only accepts str and bytes paths")
        if not path.startswith("/"):
            path = getcwd() + "/" + path
        parts, hops = [], 0
        pending = path.split("/")
        while pending:
            part = pending.pop(0)
            if part in ("", "."):
                continue
            if part == "..":
                if parts:
                    parts.pop()
                continue
            candidate = "/" + "/".join(parts + [part])
            try:
                is_link = (lstat(candidate).st_mode & S_IFMT) == S_IFLNK
            except OSError:
                is_link = False
            if is_link and hops < 40:
                hops += 1
                target = readlink(candidate)
                if target.startswith("/"):
                    parts = []
                pending = target.split("/") + pending
                continue
            parts.append(part)
        return "/" + "/".join(parts)

    def inside(path, roots):
        return any(path == root or path.startswith(root.rstrip("/") + "/") for root in roots)

    def check(path, write):
        real = resolve(path)
        if real == "/dev/null":
            return
        if write and not inside(real, (sandbox,)):
            raise PermissionError(f"the grader's sandbox does not allow writing {real}")
        if inside(real, denied) and not inside(real, readable):
            raise PermissionError(f"the grader's sandbox does not allow access to {real}")

    def hook(event, args):
        if event in refuse_always or event.startswith("os.exec") or event.startswith("os.spawn"):
            if event in ("os.kill", "os.killpg") and args and args[0] == posix.getpid():
                return
            raise PermissionError(f"the grader's sandbox does not allow {event}")
        if not paths_checked:
            return
        if event in refuse_fallback:
            if event.startswith("socket.") and args and isinstance(args[-1], tuple) and args[-1]:
                if str(args[-1][0]) in ("127.0.0.1", "::1", "localhost"):
                    return
            raise PermissionError(f"the grader's sandbox does not allow {event}")
        if event in path_events and args:
            if event == "sqlite3.connect" and args[0] in (":memory:", b":memory:", ""):
                return
            reads, writes = path_events[event]
            if event == "open" and len(args) > 1:
                mode, flags = args[1], args[2] if len(args) > 2 else 0
                if (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                    isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC)
                ):
                    reads, writes = (), (0,)
            for position, write in [(i, False) for i in reads] + [(i, True) for i in writes]:
                if position < len(args) and args[position] is not None and type(args[position]) is not int:
                    check(args[position], write)

    sys.addaudithook(hook)


def main():
    cfg = json.loads(os.environ.pop("COURSE_GRADING_SANDBOX"))
    mode = cfg.get("mode", "landlock")
    applied = {"mode": mode, "limits": _limits(cfg), "landlock_abi": 0, "capabilities_dropped": False,
               "audit_paths": False, "uid": os.getuid() if hasattr(os, "getuid") else None}  # fmt: skip
    if mode != "bubblewrap":
        if sys.platform.startswith("linux"):
            libc = _libc()
            if os.geteuid() == 0:
                _drop_capabilities(libc)
                applied["capabilities_dropped"] = True
            libc.prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS
            if mode == "landlock":
                applied["landlock_abi"] = _landlock(libc, cfg)
        applied["audit_paths"] = applied["landlock_abi"] == 0
    status = os.path.join(cfg["sandbox"], ".grading", "launcher.json")
    with open(status, "w") as handle:
        json.dump(applied, handle)
    if mode != "bubblewrap":
        _audit_hook(cfg, applied["landlock_abi"])
    # Python runs this with -I, so the sandbox (the student's files) was not on sys.path
    # while the sandbox was being set up. Now it goes where Jupyter puts the working
    # folder: after the standard library, before site-packages.
    site_dirs = [i for i, p in enumerate(sys.path) if os.path.basename(p) in ("site-packages", "dist-packages")]
    sys.path.insert(site_dirs[0] if site_dirs else len(sys.path), cfg["sandbox"])
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


if __name__ == "__main__":
    main()
