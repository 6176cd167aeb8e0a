"""The kernel's sandbox on its own: signed messages, the bubblewrap command line, the
fallback, and the shape of the grading package (no import cycles, small modules, no torch)."""

from __future__ import annotations

import ast
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import zmq
from jupyter_client.session import Session

from course_utils.grading import isolation
from course_utils.grading.config import Limits
from course_utils.grading.kernel import KernelSession
from course_utils.grading.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "course_utils" / "grading"
DENY = [str(ROOT)]


def _request(code: str) -> dict:
    return {"code": code, "silent": False, "store_history": False, "user_expressions": {},
            "allow_stdin": False, "stop_on_error": False}  # fmt: skip


def test_a_kernel_obeys_only_messages_signed_with_its_own_key():
    sandbox = Sandbox()
    kernel = KernelSession(sandbox, Limits(), DENY, isolation.choose("auto", DENY).mode)
    try:
        kernel.start()
        info = json.loads((kernel.private / "kernel.json").read_text())
        assert len(info["key"]) == 64 and info["signature_scheme"] == "hmac-sha256" and info["transport"] == "ipc"
        assert stat.S_IMODE(os.stat(sandbox.control / "kernel.json").st_mode) == 0o600
        context = zmq.Context()
        for key in (b"", b"a key of its own"):  # unsigned, and signed with another kernel's key
            sock = context.socket(zmq.DEALER)
            sock.linger = 0
            sock.connect(f"ipc://{sandbox.control}/k-{info['shell_port']}")
            Session(key=key).send(sock, "execute_request", _request("open('FORGED', 'w').write('x')"))
            sock.close()
        context.term()
        time.sleep(1.0)
        run = kernel.execute("import os\nprint(sorted(os.listdir('.')))", 20)
        assert run.status == "ok", run
        assert "FORGED" not in run.outputs[0]["text"] and not (sandbox.path / "FORGED").exists()
        assert kernel.execute("open('SIGNED', 'w').write('x')", 20).status == "ok"
        assert (sandbox.path / "SIGNED").exists()  # the grader's own requests are obeyed
    finally:
        kernel.kill()
        sandbox.cleanup()


def test_the_bubblewrap_command_line_isolates_and_hides_the_course():
    sandbox = Sandbox()
    try:
        command = isolation.launch_command("/usr/bin/bwrap", sandbox, DENY, ["python3", "-c", "pass"], 9)
    finally:
        sandbox.cleanup()
    bwrap = command[command.index("/usr/bin/bwrap") :]
    for option in ("--unshare-all", "--unshare-user", "--die-with-parent", "--new-session"):
        assert option in bwrap
    binds = [bwrap[i + 1 : i + 3] for i, arg in enumerate(bwrap) if arg == "--bind"]
    assert [str(sandbox.path), "/home/student"] in binds
    sources = [bwrap[i + 1] for i, arg in enumerate(bwrap) if arg in ("--bind", "--ro-bind")]
    for source in sources:  # neither the course nor a folder above it is visible
        assert not str(ROOT).startswith(source.rstrip("/") + "/") and source != str(ROOT), source
    if os.geteuid() == 0:  # the user is dropped before bwrap runs
        assert "setpriv" in command and command.index("setpriv") < command.index("/usr/bin/bwrap")
        assert command[command.index("--reuid") + 1] != "0"


def test_python_under_tmp_gets_a_tmp_folder_before_it_is_bound(monkeypatch):
    """A checkout (and its virtual environment) under /tmp: /tmp must exist first."""
    monkeypatch.setattr(isolation, "python_folders", lambda deny: ["/tmp/checkout/.venv", "/usr/lib/python3"])
    sandbox = Sandbox()
    try:
        command = isolation.launch_command("/usr/bin/bwrap", sandbox, DENY, ["python3", "-c", "pass"], 9)
    finally:
        sandbox.cleanup()
    bwrap = command[command.index("/usr/bin/bwrap") :]
    tmp_bind = bwrap.index(str(sandbox.path / "tmp"))
    assert bwrap[tmp_bind - 1 : tmp_bind + 2] == ["--bind", str(sandbox.path / "tmp"), "/tmp"]
    venv_bind = next(i for i, arg in enumerate(bwrap) if arg == "--ro-bind" and bwrap[i + 2] == "/tmp/checkout/.venv")
    assert tmp_bind < venv_bind and "/tmp" not in [bwrap[i + 2] for i, a in enumerate(bwrap) if a == "--symlink"]


def test_the_fallback_is_named_and_can_be_refused():
    choice = isolation.choose("landlock", DENY)
    assert choice.weaker and "instead of bubblewrap" in choice.problem
    with pytest.raises(isolation.IsolationError, match="apt-get install bubblewrap"):
        isolation.require(choice)
    assert isolation.is_weaker("landlock-abi-6") and isolation.is_weaker("audit-hooks")
    assert not isolation.is_weaker("bubblewrap") and not isolation.is_weaker("")
    with pytest.raises(ValueError, match="unknown sandbox mode"):
        isolation.choose("chroot", DENY)


def _imports(path: Path) -> set[str]:
    """The package modules ``path`` imports, anywhere in it (function bodies included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name for alias in node.names)
    return found & {p.stem for p in PACKAGE.glob("*.py")}


def test_importing_the_grading_package_loads_no_torch():
    modules = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem not in ("__main__", "_launcher"))
    code = "import sys\n" + "".join(f"import course_utils.grading.{m}\n" for m in modules)
    code += "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'torchvision')))\n"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"
