"""The checks every homework's test cells use, with messages that say what went wrong.

This one file is copied beside each released assignment as ``checks.py``; students'
helpers import it from there, and the grader's tamper check covers it like the other
shipped files. It needs only NumPy.

- :func:`check_array`: an array of the right shape, kind of number and values;
- :func:`check_scalar`: one number within a tolerance;
- :func:`check_choice`: one letter of a multiple-choice question (case and spaces ignored);
- :func:`check_raises`: a call that must raise a given error.

NaN in the expected value matches NaN in the answer; anywhere else a NaN is wrong.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["check_array", "check_choice", "check_raises", "check_scalar"]


def _describe(value: object) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"{type(value).__name__} {value!r}"[:200]


def _kind_problem(got: np.ndarray, expected: np.ndarray) -> str | None:
    """Why ``got``'s dtype cannot stand for ``expected``'s, or None."""
    if got.dtype.kind not in "biuf":
        return f"expected numbers, got dtype {got.dtype}"
    if expected.dtype == np.uint8 and got.dtype != np.uint8:
        return f"expected dtype uint8, got {got.dtype} (round first, then convert with .astype(np.uint8))"
    if expected.dtype.kind == "b" and got.dtype.kind != "b":
        return f"expected booleans, got dtype {got.dtype}"
    if expected.dtype.kind in "iu" and got.dtype.kind not in "iu":
        return f"expected integers, got dtype {got.dtype}"
    return None


def check_array(name: str, got: object, expected: object, atol: float = 0.0, rtol: float = 0.0) -> None:
    """Raise AssertionError, saying what differs, unless ``got`` matches ``expected``.

    ``got`` must be a NumPy array of ``expected``'s shape; uint8, integer and boolean
    expectations need that kind of result (a float expectation takes integers too);
    values may differ by at most ``atol + rtol * |expected|``.
    """
    expected = np.asarray(expected)
    if not isinstance(got, np.ndarray):
        raise AssertionError(f"{name}: expected a numpy array, got {_describe(got)}")
    if got.shape != expected.shape:
        raise AssertionError(f"{name}: expected shape {expected.shape}, got {got.shape}")
    problem = _kind_problem(got, expected)
    if problem:
        raise AssertionError(f"{name}: {problem}")
    g, e = got.astype(np.float64), expected.astype(np.float64)
    both_nan = np.isnan(g) & np.isnan(e)
    wrong = ~((np.abs(g - e) <= atol + rtol * np.abs(e)) | both_nan)  # other NaNs are wrong
    if wrong.any():
        where = tuple(int(i) for i in np.argwhere(wrong)[0])
        allowed = [f"{label} {value:g}" for label, value in (("atol", atol), ("rtol", rtol)) if value]
        message = (
            f"{name}: {int(wrong.sum())} of {wrong.size} values are wrong"
            + (f" (allowed difference: {', '.join(allowed)})" if allowed else "")
            + f"; first at index {list(where)}: expected {expected[where]!r}, got {got[where]!r}"
        )
        if expected.size <= 48:
            message += f"\nexpected:\n{expected}\ngot:\n{got}"
        raise AssertionError(message)


def check_scalar(name: str, got: object, expected: float, atol: float = 1e-9, rtol: float = 0.0) -> None:
    """Raise AssertionError unless ``got`` is one real number within ``atol + rtol * |expected|``."""
    if isinstance(got, np.ndarray) and got.size == 1:
        got = got.item()
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, float, np.integer, np.floating)):
        raise AssertionError(f"{name}: expected one number, got {_describe(got)}")
    value = float(got)
    if np.isnan(expected) and np.isnan(value):
        return
    if not abs(value - expected) <= atol + rtol * abs(expected):  # NaN fails here
        raise AssertionError(f"{name}: expected {expected!r}, got {value!r}")


def check_choice(name: str, got: object, options: str = "abcd") -> None:
    """Raise AssertionError unless ``got`` is one of the letters in ``options`` (e.g. " B " is b)."""
    if not (isinstance(got, str) and len(got.strip()) == 1 and got.strip().lower() in options.lower()):
        raise AssertionError(f"{name}: expected one of {', '.join(repr(o) for o in options)}, got {got!r}")


def check_raises(error: type[BaseException], function: Callable[..., object], *args: object) -> None:
    """Raise AssertionError unless ``function(*args)`` raises ``error``."""
    shown = ", ".join(_describe(a) if isinstance(a, np.ndarray) else repr(a) for a in args)
    call = f"{getattr(function, '__name__', 'function')}({shown})"
    try:
        function(*args)
    except error:
        return
    except Exception as other:
        raise AssertionError(f"{call}: expected {error.__name__}, got {type(other).__name__}: {other}") from other
    raise AssertionError(f"{call}: expected {error.__name__}, but it returned normally")
