"""A generated class of homework-1 submissions: honest work of varied quality, and attacks.

Every case knows the score it deserves: the points of the tests its honest code passes.
The attacks come from a list of things students try (edit, delete, duplicate or rename
test cells; inflate points; hang, flood, crash or exhaust the kernel; monkeypatch the
checks; fake outputs; read the instructor's files; write the gradebook; broken files).

Run as a script to write a class to a folder, e.g. for a throughput measurement::

    python tests/grading_fixtures/classroom.py OUT_DIR --release build/grading/release --copies 300
"""

from __future__ import annotations

import copy
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

ASSIGNMENT = "hw1_image_basics"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
POINTS = {
    "test_quantize": 2, "test_quantize_hidden": 1,
    "test_rgb_to_hsv": 2, "test_rgb_to_hsv_hidden": 2,
    "test_bayer_mosaic": 1, "test_bayer_mosaic_hidden": 1,
    "test_demosaic_bilinear": 2, "test_demosaic_bilinear_hidden": 2,
    "test_correlate2d": 2, "test_correlate2d_hidden": 2,
    "test_equalize_histogram": 2, "test_equalize_histogram_hidden": 1,
}  # fmt: skip
FUNCTIONS = ["quantize", "rgb_to_hsv", "bayer_mosaic", "demosaic_bilinear", "correlate2d", "equalize_histogram"]
TOTAL = float(sum(POINTS.values()))


@dataclass
class Case:
    """One student's submission and what it should get."""

    student: str
    files: dict[str, bytes]
    score: float | None  # None: not graded (pre-flight)
    status: str | tuple[str, ...] = "graded"
    lost: dict[str, str] = field(default_factory=dict)  # function -> "all" | "hidden"
    layout: str = "folder"  # folder | zip
    late: bool = False
    about: str = ""

    def expected_tests(self) -> dict[str, float] | None:
        if self.score is None:
            return None
        scores = dict.fromkeys(POINTS, 0.0)
        for test, points in POINTS.items():
            function = test.removeprefix("test_").removesuffix("_hidden")
            lost = self.lost.get(function)
            hidden = test.endswith("_hidden")
            if lost is None or (lost == "hidden" and not hidden):
                scores[test] = float(points)
        return scores


def _lost_points(lost: dict[str, str]) -> float:
    total = 0.0
    for test, points in POINTS.items():
        function = test.removeprefix("test_").removesuffix("_hidden")
        if lost.get(function) == "all" or (lost.get(function) == "hidden" and test.endswith("_hidden")):
            total += points
    return total


def solutions(source_notebook: dict) -> dict[str, str]:
    """The solution of every answer cell, markers removed."""
    found = {}
    for cell in source_notebook["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution"):
            text = "".join(cell["source"])
            found[meta["grade_id"]] = "\n".join(
                line for line in text.split("\n") if "BEGIN SOLUTION" not in line and "END SOLUTION" not in line
            )
    return found


class Builder:
    """Makes notebooks from the student copy, with some answers filled in."""

    def __init__(self, release_notebook: dict, source_notebook: dict) -> None:
        self.release = release_notebook
        self.solutions = solutions(source_notebook)

    def notebook(self, answers: dict[str, str] | None = None, solved: list[str] | None = None) -> dict:
        nb = copy.deepcopy(self.release)
        answers = dict(answers or {})
        for name in FUNCTIONS if solved is None else solved:
            answers.setdefault(name, self.solutions[name])
        for cell in nb["cells"]:
            grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if grade_id in answers:
                cell["source"] = answers[grade_id]
        return nb

    def solution(self, name: str, old: str, new: str) -> str:
        text = self.solutions[name]
        assert old in text, (name, old)
        return text.replace(old, new)


def cell_index(nb: dict, grade_id: str) -> int:
    return next(i for i, c in enumerate(nb["cells"]) if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id)


def insert_code(nb: dict, after: str, source: str) -> dict:
    """Add an ordinary code cell after the cell with ``grade_id`` (or cell id) ``after``."""
    index = next(i for i, c in enumerate(nb["cells"]) if c.get("id") == after or
                 c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == after)  # fmt: skip
    cell = {"cell_type": "code", "execution_count": None, "id": f"student-{len(nb['cells'])}",
            "metadata": {}, "outputs": [], "source": source}  # fmt: skip
    nb["cells"].insert(index + 1, cell)
    return nb


def dump(nb: dict) -> bytes:
    return json.dumps(nb, indent=1).encode()


QUANTIZE_FLOOR = '''def quantize(image, bits):
    """Quantize (integer division: close, but not the specification)."""
    if not 1 <= bits <= 8:
        raise ValueError("bits must be from 1 to 8")
    q = np.asarray(image, dtype=np.uint8) >> (8 - bits)
    return (q * (255 // (2**bits - 1))).astype(np.uint8)
'''
MOSAIC_RGGB = '''def bayer_mosaic(image):
    """R G / G B: the other common layout, not the lecture's."""
    image = np.asarray(image)
    raw = image[..., 1].copy()
    raw[0::2, 0::2] = image[0::2, 0::2, 0]
    raw[1::2, 1::2] = image[1::2, 1::2, 2]
    return raw
'''
EQUALIZE_CDF_MIN = '''def equalize_histogram(image):
    """The variant that maps the darkest value to 0 (not the specification)."""
    image = np.asarray(image, dtype=np.uint8)
    cdf = np.cumsum(np.bincount(image.ravel(), minlength=256))
    low = cdf[cdf > 0][0]
    mapping = np.round((cdf - low) / max(image.size - low, 1) * 255).clip(0, 255)
    return mapping.astype(np.uint8)[image]
'''
CORRELATE_LOOPS = '''def correlate2d(image, kernel):
    """Four nested loops: slow, but right."""
    image = np.asarray(image, dtype=float)
    kernel = np.asarray(kernel, dtype=float)
    a, b = kernel.shape[0] // 2, kernel.shape[1] // 2
    height, width = image.shape
    out = np.zeros((height, width))
    for y in range(height):
        for x in range(width):
            total = 0.0
            for s in range(-a, a + 1):
                for t in range(-b, b + 1):
                    if 0 <= y + s < height and 0 <= x + t < width:
                        total += kernel[s + a, t + b] * image[y + s, x + t]
            out[y, x] = total
    return out
'''


def honest_cases(b: Builder) -> list[Case]:
    nb = b.notebook
    cases = [
        Case("perfect", {NOTEBOOK: dump(nb())}, TOTAL, about="every function right"),
        Case("perfect_zip", {NOTEBOOK: dump(nb())}, TOTAL, layout="zip", about="handed in as a zip"),
        Case("untouched", {NOTEBOOK: dump(nb(solved=[]))}, 0.0, about="the student copy as released",
             lost=dict.fromkeys(FUNCTIONS, "all")),  # fmt: skip
        Case("parts_1_2", {NOTEBOOK: dump(nb(solved=["quantize", "rgb_to_hsv"]))}, None,
             lost={f: "all" for f in FUNCTIONS[2:]}, about="only parts 1 and 2"),  # fmt: skip
        Case("quantize_floor", {NOTEBOOK: dump(nb({"quantize": QUANTIZE_FLOOR}))}, None,
             lost={"quantize": "hidden"}, about="passes the visible tests, fails the hidden ones"),  # fmt: skip
        Case("hsv_fraction", {NOTEBOOK: dump(nb({"rgb_to_hsv": b.solution(
            "rgb_to_hsv", "hue = np.where(d > 0, 60.0 * hue, 0.0)", "hue = np.where(d > 0, hue / 6.0, 0.0)")}))},
             None, lost={"rgb_to_hsv": "all"}, about="hue as a fraction, not degrees"),  # fmt: skip
        Case("mosaic_rggb", {NOTEBOOK: dump(nb({"bayer_mosaic": MOSAIC_RGGB}))}, None,
             lost={"bayer_mosaic": "all"}, about="the wrong Bayer layout"),  # fmt: skip
        Case("demosaic_even_only", {NOTEBOOK: dump(nb({"demosaic_bilinear": b.solution(
            "demosaic_bilinear", "    raw = np.asarray(raw, dtype=np.float64)\n",
            "    raw = np.asarray(raw, dtype=np.float64)\n    if raw.shape[0] % 2 or raw.shape[1] % 2:\n"
            "        raise ValueError('odd sizes are not supported')\n")}))},
             None, lost={"demosaic_bilinear": "hidden"}, about="fails on odd sizes (hidden)"),  # fmt: skip
        Case("convolution_not_correlation", {NOTEBOOK: dump(nb({"correlate2d": b.solution(
            "correlate2d", "kernel = np.asarray(kernel, dtype=np.float64)",
            "kernel = np.asarray(kernel, dtype=np.float64)[::-1, ::-1]")}))},
             None, lost={"correlate2d": "all"}, about="flips the kernel"),  # fmt: skip
        Case("correlate_3x3_only", {NOTEBOOK: dump(nb({"correlate2d": b.solution(
            "correlate2d", "a, b = kernel.shape[0] // 2, kernel.shape[1] // 2", "a, b = 1, 1")}))},
             None, lost={"correlate2d": "hidden"}, about="handles 3 x 3 kernels only"),  # fmt: skip
        Case("equalize_cdf_min", {NOTEBOOK: dump(nb({"equalize_histogram": EQUALIZE_CDF_MIN}))}, None,
             lost={"equalize_histogram": "all"}, about="another equalization formula"),  # fmt: skip
        Case("slow_loops", {NOTEBOOK: dump(nb({"correlate2d": CORRELATE_LOOPS}))}, TOTAL,
             about="correlation with Python loops"),  # fmt: skip
        Case("syntax_error", {NOTEBOOK: dump(nb({"rgb_to_hsv": "def rgb_to_hsv(image):\n    return np.stack([image[..., 0]"}))},
             None, lost={"rgb_to_hsv": "all"}, about="a syntax error in one answer"),  # fmt: skip
        Case("late", {NOTEBOOK: dump(nb()), "timestamp.txt": b"2030-01-02 10:00:00 UTC"}, TOTAL, late=True,
             about="everything right, handed in after the due date"),  # fmt: skip
    ]
    return cases


def hostile_cases(b: Builder, secrets: dict[str, str]) -> list[Case]:
    """Attacks. ``secrets`` names real instructor paths: source, gradebook, other_student, release_helper."""
    nb = b.notebook
    cases = []

    edited = nb(solved=[f for f in FUNCTIONS if f != "quantize"])
    edited["cells"][cell_index(edited, "test_quantize")]["source"] = 'print("quantize: visible tests passed")'
    edited["cells"][cell_index(edited, "test_quantize_hidden")]["source"] = "pass"
    cases.append(Case("edited_test", {NOTEBOOK: dump(edited)}, None, lost={"quantize": "all"}))

    deleted = nb(solved=[f for f in FUNCTIONS if f != "rgb_to_hsv"])
    for grade_id in ("test_rgb_to_hsv", "test_rgb_to_hsv_hidden"):
        del deleted["cells"][cell_index(deleted, grade_id)]
    cases.append(Case("deleted_tests", {NOTEBOOK: dump(deleted)}, None, lost={"rgb_to_hsv": "all"}))

    to_markdown = nb(solved=[f for f in FUNCTIONS if f != "correlate2d"])
    for grade_id in ("test_correlate2d", "test_correlate2d_hidden"):
        cell = to_markdown["cells"][cell_index(to_markdown, grade_id)]
        cell["cell_type"] = "markdown"
        cell.pop("outputs", None)
        cell.pop("execution_count", None)
    cases.append(Case("tests_to_markdown", {NOTEBOOK: dump(to_markdown)}, None, lost={"correlate2d": "all"}))

    duplicated = nb(solved=[f for f in FUNCTIONS if f != "equalize_histogram"])
    for grade_id in ("test_quantize", "test_quantize_hidden"):
        index = cell_index(duplicated, grade_id)
        for n in range(2):
            twin = copy.deepcopy(duplicated["cells"][index])
            twin["id"] = f"{grade_id}-copy{n}"
            duplicated["cells"].insert(index + 1, twin)
    cases.append(Case("duplicated_tests", {NOTEBOOK: dump(duplicated)}, None, lost={"equalize_histogram": "all"}))

    renamed = nb(solved=[f for f in FUNCTIONS if f != "bayer_mosaic"])
    cell = renamed["cells"][cell_index(renamed, "test_bayer_mosaic")]
    cell["metadata"]["nbgrader"].update(grade_id="test_bayer_mosaic_v2", points=100)
    cell["source"] = "pass"
    cases.append(Case("renamed_test", {NOTEBOOK: dump(renamed)}, None, lost={"bayer_mosaic": "all"}))

    inflated = nb(solved=[f for f in FUNCTIONS if f != "correlate2d"])
    for grade_id in ("test_quantize", "test_quantize_hidden", "test_correlate2d"):
        inflated["cells"][cell_index(inflated, grade_id)]["metadata"]["nbgrader"]["points"] = 50
    cases.append(Case("inflated_points", {NOTEBOOK: dump(inflated)}, None, lost={"correlate2d": "all"}))

    loop = nb({"equalize_histogram": "def equalize_histogram(image):\n    while True:\n        pass\n"})
    cases.append(Case("infinite_loop", {NOTEBOOK: dump(loop)}, None, "timed_out", lost={"equalize_histogram": "all"}))

    stubborn = nb({"correlate2d": (
        "def correlate2d(image, kernel):\n    import signal\n    import time\n\n"
        "    signal.signal(signal.SIGINT, signal.SIG_IGN)\n    while True:\n        try:\n"
        "            time.sleep(0.05)\n        except BaseException:\n            pass\n")})
    cases.append(Case("ignores_interrupt", {NOTEBOOK: dump(stubborn)}, None, "timed_out", lost={"correlate2d": "all"}))

    flood = nb({"quantize": b.solution("quantize", "    levels = 2**bits\n", "    print('x' * 3_000_000)\n    levels = 2**bits\n")})
    insert_code(flood, "outro", "while True:\n    print('spam ' * 2000)")
    cases.append(Case("huge_output", {NOTEBOOK: dump(flood)}, TOTAL, "timed_out"))

    exits = nb({"rgb_to_hsv": "def rgb_to_hsv(image):\n    import sys\n\n    sys.exit('bye')\n"})
    insert_code(exits, "setup", "raise SystemExit(0)")
    cases.append(Case("sys_exit", {NOTEBOOK: dump(exits)}, None, lost={"rgb_to_hsv": "all"}))

    dies = nb()
    insert_code(dies, "cell-11", "import os\n\nos._exit(3)")
    cases.append(Case("os_exit", {NOTEBOOK: dump(dies)}, TOTAL, "crashed", about="kernel exits mid-notebook"))

    killed = nb({"demosaic_bilinear": "def demosaic_bilinear(raw):\n    import os\n    import signal\n\n"
                                      "    os.kill(os.getpid(), signal.SIGKILL)\n"})  # fmt: skip
    cases.append(Case("sigkill", {NOTEBOOK: dump(killed)}, None, "crashed", lost={"demosaic_bilinear": "all"}))

    bomb = nb({"equalize_histogram": "def equalize_histogram(image):\n    blocks = []\n    while True:\n"
                                     "        blocks.append(np.ones(50_000_000))\n"})  # fmt: skip
    # On a busy machine the allocation loop can hit the time limit before the memory limit.
    cases.append(Case("memory_bomb", {NOTEBOOK: dump(bomb)}, None, ("graded", "crashed", "timed_out"), lost={"equalize_histogram": "all"}))

    noisy = nb({"rgb_to_hsv": b.solution("rgb_to_hsv", "    rgb = np.asarray(image, dtype=np.float64) / 255.0\n", (
        "    import sys\n    import warnings\n\n    warnings.warn('gray pixels have no hue', RuntimeWarning)\n"
        "    print('computing HSV', file=sys.stderr)\n    with np.errstate(all='warn'):\n"
        "        np.float64(1.0) / np.zeros(1)\n    rgb = np.asarray(image, dtype=np.float64) / 255.0\n"))})
    insert_code(noisy, "setup", "import warnings\n\nwarnings.warn('an old API', DeprecationWarning)")
    cases.append(Case("stderr_warnings", {NOTEBOOK: dump(noisy)}, TOTAL))

    silent = nb(solved=[f for f in FUNCTIONS if f != "quantize"])
    insert_code(silent, "setup", (
        "import sys\n\nshell = get_ipython()\nshell.showtraceback = lambda *a, **k: None\n"
        "shell._showtraceback = lambda *a, **k: None\nshell.showsyntaxerror = lambda *a, **k: None\n"
        "sys.excepthook = lambda *a: None"))  # fmt: skip
    cases.append(Case("traceback_suppression", {NOTEBOOK: dump(silent)}, None, lost={"quantize": "all"}))

    patched = nb(solved=[f for f in FUNCTIONS if f != "correlate2d"])
    insert_code(patched, "setup", (
        "import builtins\n\nimport hw1_helpers\nimport numpy\nimport numpy.testing\n\n"
        "numpy.allclose = lambda *a, **k: True\nnumpy.array_equal = lambda *a, **k: True\n"
        "numpy.testing.assert_allclose = lambda *a, **k: None\n"
        "numpy.testing.assert_array_equal = lambda *a, **k: None\n"
        "hw1_helpers.check_array = hw1_helpers.check_raises = lambda *a, **k: None\n"
        "check_array = check_raises = lambda *a, **k: None\n\n\n"
        "class AssertionError(Exception):  # noqa: A001\n    pass\n\n\nbuiltins.AssertionError = AssertionError"))
    patched["cells"].insert(1, {"cell_type": "markdown", "id": "script", "metadata": {},
                                "source": "<script>document.title = 'pwned'</script><img src=x onerror=alert(1)>"})  # fmt: skip
    cases.append(Case("monkeypatch", {NOTEBOOK: dump(patched)}, None, lost={"correlate2d": "all"}))

    hooked = nb(solved=[f for f in FUNCTIONS if f != "rgb_to_hsv"])
    insert_code(hooked, "setup", (
        "shell = get_ipython()\n\n\ndef cheer(info):\n    print('All tests passed!')\n\n\n"
        "def skip_tests(lines):\n    text = ''.join(lines)\n    if 'check_array' in text or 'HIDDEN' in text:\n"
        "        return ['print(\"rgb_to_hsv: visible tests passed\")\\n']\n    return lines\n\n\n"
        "shell.events.register('pre_run_cell', cheer)\nshell.input_transformers_post.append(skip_tests)"))
    cases.append(Case("prerun_hook", {NOTEBOOK: dump(hooked)}, None, lost={"rgb_to_hsv": "all"}))

    thief = nb({"equalize_histogram": (
        "def equalize_histogram(image):\n    import json\n\n"
        f"    notebook = json.load(open({secrets['source']!r}))\n"
        "    cell = next(c for c in notebook['cells'] if c.get('id') == 'equalize_histogram')\n"
        "    namespace = {'np': np}\n    exec(''.join(cell['source']), namespace)\n"
        "    return namespace['equalize_histogram'](image)\n")})  # fmt: skip
    probes = [secrets["source"], secrets["gradebook"], secrets["other_student"], secrets["release_helper"],
              "/proc/1/environ", f"/proc/{secrets.get('grader_pid', 1)}/cwd/pyproject.toml"]  # fmt: skip
    insert_code(thief, "setup", (  # under bubblewrap /proc/1 is the sandbox's own first process
        "import os\n\n"
        f"for path in {probes!r}:\n    try:\n        with open(path, 'rb') as handle:\n"
        "            data = handle.read(4096)\n"
        "        own = path.startswith('/proc/') and b'COURSE_GRADING_SANDBOX' in data\n"
        "        print('blocked (the sandbox itself)' if own else 'LEAK', path, len(data))\n"
        "    except OSError as error:\n        print('blocked', type(error).__name__)\n"
        f"for folder in {[str(Path(secrets['source']).parent), '/tmp']!r}:\n    try:\n"
        "        names = os.listdir(folder)\n"  # under bubblewrap /tmp is the sandbox's own
        "        own = folder == '/tmp' and not any(n.startswith(('cvgrade', 'pytest', 'grading-tests')) for n in names)\n"
        "        print('blocked listing (the sandbox itself)' if own else 'LEAK listing', folder, names[:3])\n"
        "    except OSError as error:\n"
        "        print('blocked listing', type(error).__name__)"))
    cases.append(Case("reads_instructor_files", {NOTEBOOK: dump(thief)}, None, lost={"equalize_histogram": "all"}))

    vandal = nb()
    insert_code(vandal, "setup", (
        "import sqlite3\n\n"
        f"for path in {[secrets['gradebook'], secrets['other_student'], secrets['release_helper']]!r}:\n"
        "    try:\n        with open(path, 'ab') as handle:\n            handle.write(b'#')\n"
        "        print('WROTE', path)\n    except OSError as error:\n        print('blocked', type(error).__name__)\n"
        "try:\n"
        f"    connection = sqlite3.connect({secrets['gradebook']!r})\n"
        "    connection.execute('UPDATE grade SET auto_score = 100')\n    connection.commit()\n"
        "    print('WROTE gradebook')\nexcept Exception as error:\n    print('blocked sqlite', type(error).__name__)"))
    cases.append(Case("writes_gradebook", {NOTEBOOK: dump(vandal)}, TOTAL))

    links = nb()  # links planted where the grader writes call arguments and reads results
    insert_code(links, "setup", (
        "import os\n\nfor n in range(1, 300):\n"
        f"    for name, target in ((f'.grading/in-{{n}}.npz', {secrets['gradebook']!r}),\n"
        f"                         (f'.grading/out-{{n}}.npz', {secrets['source']!r})):\n"
        "        try:\n            os.symlink(target, name)\n        except OSError:\n            pass\n"
        "print('planted', len(os.listdir('.grading')))"))  # fmt: skip
    cases.append(Case("planted_links", {NOTEBOOK: dump(links)}, TOTAL))

    shadow = nb()  # modules planted for the next kernel start, which a crash brings on
    payload = (f"try:\n    data = open({secrets['source']!r}).read(100)\n"
               "    open('LEAKED.txt', 'w').write(data)\nexcept OSError:\n    pass\n")  # fmt: skip
    insert_code(shadow, "setup", (
        "for name in ('json', 'ctypes', 'resource', 'struct', 'os', 'sitecustomize', 'usercustomize'):\n"
        f"    with open(name + '.py', 'w') as handle:\n        handle.write({payload!r})"))  # fmt: skip
    insert_code(shadow, "cell-11", "import os\n\nos._exit(3)")
    insert_code(shadow, "outro", "import os\n\nprint('LEAK' if os.path.exists('LEAKED.txt') else 'clean')")
    cases.append(Case("shadowed_modules", {NOTEBOOK: dump(shadow)}, TOTAL, "crashed"))

    helper = nb(solved=[f for f in FUNCTIONS if f != "quantize"])
    fake_helpers = (
        "import numpy as np\n\n\ndef check_array(*args, **kwargs):\n    pass\n\n\n"
        "def check_raises(*args, **kwargs):\n    pass\n\n\ndef sample_photo():\n"
        "    return np.zeros((128, 128, 3), np.uint8)\n\n\ndef psnr(*args):\n    return 99.0\n\n\n"
        "def show_images(*args, **kwargs):\n    pass\n"
    )
    cases.append(Case("helper_overwrite", {NOTEBOOK: dump(helper), "hw1_helpers.py": fake_helpers.encode()},
                      None, lost={"quantize": "all"}))  # fmt: skip

    cases.append(Case("invalid_json", {NOTEBOOK: b'{"cells": [{"cell_type": "code", '}, None, "preflight_failed"))
    cases.append(Case("not_a_notebook", {NOTEBOOK: b"[1, 2, 3]"}, None, "preflight_failed"))
    version3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": [
        {"cell_type": "code", "input": "x = 1", "language": "python", "outputs": [], "metadata": {}}]}]}  # fmt: skip
    cases.append(Case("nbformat_v3", {NOTEBOOK: json.dumps(version3).encode()}, None, "preflight_failed"))
    cases.append(Case("wrong_name", {"hw1.ipynb": dump(nb())}, None, "preflight_failed"))
    cases.append(Case("corrupt_zip", {"(raw)": b"PK\x03\x04 this is not really a zip"}, None, "preflight_failed",
                      layout="raw-zip"))  # fmt: skip
    return cases


def build_class(release_notebook: dict, source_notebook: dict, secrets: dict[str, str] | None = None) -> list[Case]:
    """Every honest and hostile case, with their deserved scores filled in."""
    b = Builder(release_notebook, source_notebook)
    cases = honest_cases(b) + (hostile_cases(b, secrets) if secrets is not None else [])
    for case in cases:
        if case.score is None and case.status != "preflight_failed":
            case.score = TOTAL - _lost_points(case.lost)
    return cases


def write_class(cases: list[Case], folder: Path) -> None:
    """Lay the cases out as an instructor receives them: folders and zips, one per student."""
    folder.mkdir(parents=True, exist_ok=True)
    for case in cases:
        if case.layout == "raw-zip":
            (folder / f"{case.student}.zip").write_bytes(case.files["(raw)"])
        elif case.layout == "zip":
            with zipfile.ZipFile(folder / f"{case.student}.zip", "w") as archive:
                for name, content in case.files.items():
                    archive.writestr(f"{ASSIGNMENT}/{name}", content)
        else:
            target = folder / case.student
            target.mkdir()
            for name, content in case.files.items():
                (target / name).write_bytes(content)


def _main() -> None:  # pragma: no cover - a tool for throughput measurements
    import argparse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--release", type=Path, default=Path("build/grading/release"))
    parser.add_argument("--source", type=Path, default=Path("notebooks/homework"))
    parser.add_argument("--copies", type=int, default=300, help="how many honest submissions")
    args = parser.parse_args()
    release = json.loads((args.release / ASSIGNMENT / NOTEBOOK).read_text())
    source = json.loads((args.source / ASSIGNMENT / NOTEBOOK).read_text())
    honest = [c for c in build_class(release, source) if c.layout == "folder" and not c.late]
    cases = []
    for n in range(args.copies):
        case = copy.copy(honest[n % len(honest)])
        case.student = f"s{n:04d}_{re.sub('[^a-z0-9]', '', case.student)}"
        cases.append(case)
    write_class(cases, args.out)
    print(f"wrote {len(cases)} submissions to {args.out}")


if __name__ == "__main__":  # pragma: no cover
    _main()
