"""Moving arguments into the student's kernel and results out of it, as data only.

Tests run in the grader's own process. When a test calls a student function, the
arguments are written to an ``.npz`` file in the sandbox, the kernel runs
``CALL_SNIPPET`` (which calls the student's function and writes the result to another
``.npz``), and the grader reads the result back with ``allow_pickle=False``. A result
is an array, a number, a string, ``None`` or a tuple/list of those; anything else, or
an exception, comes back as an error. Whatever the kernel writes is only a claim about
what the student's function returned: the tests judge it here, out of the kernel's reach.
"""

from __future__ import annotations

import builtins
import io
import json
from pathlib import Path
from typing import Any

import numpy as np

MAX_RESULT_BYTES = 256 * 1024 * 1024
MAX_ITEMS = 10_000
MAX_DEPTH = 8
ARRAY_KINDS = "biufc"


class StudentError(RuntimeError):
    """An exception raised by the student's code that has no built-in counterpart here."""


class UncheckableResult(TypeError):
    """The student's function returned something the tests cannot check."""


def encode(value: Any, arrays: dict[str, np.ndarray], depth: int = 0) -> Any:
    """A JSON-able description of ``value``; arrays go into ``arrays``."""
    if depth > MAX_DEPTH or len(arrays) > MAX_ITEMS:
        raise UncheckableResult("value nested too deeply or too large")
    if isinstance(value, (complex, np.generic)):  # first: np.float64 is also a float
        key = f"a{len(arrays)}"
        arrays[key] = np.asarray(value)
        return ["s", key]
    if isinstance(value, bool):
        return ["b", value]
    if isinstance(value, int):
        return ["i", str(value)]
    if isinstance(value, float):
        return ["f", repr(value)]
    if isinstance(value, str):
        return ["u", value]
    if value is None:
        return ["n"]
    if isinstance(value, np.ndarray):
        key = f"a{len(arrays)}"
        arrays[key] = np.asarray(value)
        return ["a", key]
    if isinstance(value, (tuple, list)):
        return ["t" if isinstance(value, tuple) else "l", [encode(v, arrays, depth + 1) for v in value]]
    raise UncheckableResult(f"a value of type {type(value).__name__}")


def decode(spec: Any, arrays: Any, depth: int = 0, counter: list[int] | None = None) -> Any:
    """Rebuild a value from ``encode``'s description; strict, as the description is untrusted."""
    counter = counter if counter is not None else [0]
    counter[0] += 1
    if depth > MAX_DEPTH or counter[0] > MAX_ITEMS or not isinstance(spec, list) or not spec:
        raise UncheckableResult("a malformed result")
    kind = spec[0]
    if kind == "b" and len(spec) == 2 and isinstance(spec[1], bool):
        return spec[1]
    if kind == "i" and len(spec) == 2 and isinstance(spec[1], str) and len(spec[1]) < 5000:
        return int(spec[1])
    if kind == "f" and len(spec) == 2 and isinstance(spec[1], str) and len(spec[1]) < 64:
        return float(spec[1])
    if kind == "u" and len(spec) == 2 and isinstance(spec[1], str):
        return spec[1]
    if kind == "n" and len(spec) == 1:
        return None
    if kind in ("a", "s") and len(spec) == 2 and isinstance(spec[1], str) and spec[1] in arrays:
        array = np.array(arrays[spec[1]])  # a plain ndarray, whatever was saved
        if array.dtype.kind not in ARRAY_KINDS or array.dtype.hasobject:
            raise UncheckableResult(f"an array of dtype {array.dtype}")
        return array[()] if kind == "s" else array
    if kind in ("t", "l") and len(spec) == 2 and isinstance(spec[1], list):
        items = [decode(s, arrays, depth + 1, counter) for s in spec[1]]
        return tuple(items) if kind == "t" else items
    raise UncheckableResult("a malformed result")


def arguments_file(args: tuple, kwargs: dict) -> bytes:
    """The ``.npz`` bytes that carry a call's arguments into the kernel."""
    arrays: dict[str, np.ndarray] = {}
    spec = {"args": [encode(a, arrays) for a in args], "kwargs": {k: encode(v, arrays) for k, v in kwargs.items()}}
    buffer = io.BytesIO()
    np.savez(buffer, __spec__=np.array(json.dumps(spec)), **arrays)
    return buffer.getvalue()


def exception_from(raised: dict) -> BaseException:
    """The exception to raise in the test for one the student's code raised in the kernel."""
    names = raised.get("mro") if isinstance(raised.get("mro"), list) else []
    message = str(raised.get("message", ""))[:2000]
    shown = str(names[0])[:100] if names else "an exception"
    for name in names[:50]:
        if not isinstance(name, str) or name in ("Exception", "BaseException", "object"):
            continue
        candidate = getattr(builtins, name, None)
        if (
            isinstance(candidate, type)
            and issubclass(candidate, Exception)
            and candidate not in (StopIteration, StopAsyncIteration)
        ):
            try:  # the closest built-in class, e.g. ValueError for numpy's AxisError
                return candidate(message if name == shown else f"{shown}: {message}")
            except Exception:  # constructors with other signatures (UnicodeError, ...)
                break
    return StudentError(f"{shown}: {message}")


def read_result(data: bytes | Path | None) -> Any:
    """The student's result written by ``CALL_SNIPPET``; raises what their code raised.

    ``data`` is the file's content (None if there is no such regular file)."""
    if isinstance(data, Path):
        data = data.read_bytes() if data.is_file() else None
    if data is None:
        raise StudentError("the call returned no result (was the grader's call interfered with?)")
    if len(data) >= MAX_RESULT_BYTES:
        raise UncheckableResult("a result larger than the grader accepts")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files if k != "__spec__"}
            spec = json.loads(str(data["__spec__"][()]))
    except (OSError, ValueError, KeyError, EOFError) as error:
        raise StudentError(f"an unreadable result ({type(error).__name__})") from None
    if not isinstance(spec, dict):
        raise UncheckableResult("a malformed result")
    if "raised" in spec and isinstance(spec["raised"], dict):
        error = exception_from(spec["raised"])
        error.student_traceback = str(spec["raised"].get("traceback", ""))[-4000:]
        raise error
    if "unsupported" in spec:
        raise UncheckableResult(
            f"the function returned {str(spec['unsupported'])[:200]}, which the tests cannot check "
            "(return NumPy arrays, numbers or tuples of them)"
        )
    if "ok" not in spec:
        raise UncheckableResult("a malformed result")
    return decode(spec["ok"], arrays)


# Runs inside the student's kernel (as the body of an ``exec``): it must stand alone, so
# it repeats encode/decode above on purpose (the kernel cannot import course_utils, and
# the two sides are kept equal by the round-trip tests in tests/test_grading_units.py).
CALL_SNIPPET = r'''
def _grading_call(user, name, path_in, path_out):
    import json
    import traceback

    import numpy

    def decode(spec, arrays):
        kind = spec[0]
        if kind == "b" or kind == "u":
            return spec[1]
        if kind == "i":
            return int(spec[1])
        if kind == "f":
            return float(spec[1])
        if kind == "n":
            return None
        if kind == "a":
            return numpy.array(arrays[spec[1]])
        if kind == "s":
            return numpy.array(arrays[spec[1]])[()]
        items = [decode(s, arrays) for s in spec[1]]
        return tuple(items) if kind == "t" else items

    def encode(value, arrays, depth=0):
        if depth > 8 or len(arrays) > 10000:
            raise TypeError("value nested too deeply or too large")
        if isinstance(value, (complex, numpy.generic, numpy.ndarray)):  # first: np.float64 is a float
            key = "a%d" % len(arrays)
            array = numpy.asarray(value)
            if array.dtype.hasobject:
                raise TypeError("an array of Python objects")
            arrays[key] = array
            return ["s" if not isinstance(value, numpy.ndarray) else "a", key]
        if isinstance(value, bool):
            return ["b", value]
        if isinstance(value, int):
            return ["i", str(value)]
        if isinstance(value, float):
            return ["f", repr(value)]
        if isinstance(value, str):
            return ["u", value]
        if value is None:
            return ["n"]
        if isinstance(value, (tuple, list)):
            kind = "t" if isinstance(value, tuple) else "l"
            return [kind, [encode(v, arrays, depth + 1) for v in value]]
        raise TypeError("a value of type " + type(value).__name__)

    def save(spec, arrays):
        numpy.savez(path_out, __spec__=numpy.array(json.dumps(spec)), **arrays)

    with numpy.load(path_in, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files if k != "__spec__"}
        spec = json.loads(str(data["__spec__"][()]))
    args = [decode(s, arrays) for s in spec["args"]]
    kwargs = {k: decode(s, arrays) for k, s in spec["kwargs"].items()}
    try:
        if name not in user:
            raise NameError("name %r is not defined: run the cell that defines it" % name)
        result = user[name](*args, **kwargs)
    except BaseException as error:
        tb = traceback.format_exception(type(error), error, error.__traceback__.tb_next)
        raised = {
            "mro": [c.__name__ for c in type(error).__mro__],
            "message": str(error)[:2000],
            "traceback": "".join(tb[-12:])[-6000:],
        }
        save({"raised": raised}, {})
        return
    out = {}
    try:
        spec = encode(result, out)
    except TypeError as problem:
        save({"unsupported": str(problem)}, {})
        return
    save({"ok": spec}, out)
'''


def call_code(name: str, path_in: Path, path_out: Path) -> str:
    """The code sent to the kernel for one call of the student's function ``name``."""
    return (
        f"exec({CALL_SNIPPET!r} + '\\n_grading_call(_user, _name, _in, _out)', "
        f"{{'_user': globals(), '_name': {name!r}, '_in': {str(path_in)!r}, '_out': {str(path_out)!r}}})"
    )
