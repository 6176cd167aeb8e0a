"""The shared homework checks: what they accept, and the wrong answers they must reject."""

import numpy as np
import pytest

from course_utils.grading.checks import check_array, check_choice, check_raises, check_scalar


def test_check_array_accepts_right_answers():
    check_array("a", np.array([1.0, 2.0]), [1.0, 2.0])
    check_array("a", np.array([1, 2]), np.array([1.0, 2.0]))  # integers for floats
    check_array("a", np.array([1.0, 2.0 + 1e-7]), [1.0, 2.0], atol=1e-6)
    check_array("a", np.array([100.0, 201.0]), [100.0, 200.0], rtol=0.01)
    check_array("a", np.array([np.nan, 1.0]), [np.nan, 1.0])  # NaN where NaN is expected
    check_array("a", np.array([3], np.uint8), np.array([3], np.uint8))


@pytest.mark.parametrize(
    ("got", "expected", "message"),
    [
        ([1.0, 2.0], np.array([1.0, 2.0]), "expected a numpy array, got list"),
        (np.array([[1.0, 2.0]]), np.array([1.0, 2.0]), r"expected shape \(2,\), got \(1, 2\)"),
        (np.array([[1.0], [2.0]]).T.T, np.array([[1.0, 2.0]]), "expected shape"),  # transposed
        (np.array([1.0, 3.0]), np.array([1.0, 2.0]), r"1 of 2 values are wrong; first at index \[1\]"),
        (np.array([1.0, np.nan]), np.array([1.0, 2.0]), "1 of 2 values are wrong"),  # a stray NaN
        (np.array([3.0]), np.array([3], np.uint8), "expected dtype uint8"),
        (np.array([3.0]), np.array([3], np.int64), "expected integers"),
        (np.array([1]), np.array([True]), "expected booleans"),
        (np.array(["a"]), np.array([1.0]), "expected numbers"),
        (np.array([1.0, 2.0 + 2e-6]), np.array([1.0, 2.0]), "allowed difference: atol 1e-06"),
    ],
)
def test_check_array_rejects_wrong_answers(got, expected, message):
    with pytest.raises(AssertionError, match=message):
        check_array("answer", got, expected, atol=1e-6 if "atol" in message else 0.0)


def test_check_scalar():
    check_scalar("s", 0.1 + 0.2, 0.3)  # within the default 1e-9
    check_scalar("s", np.array([2.0]), 2.0)
    check_scalar("s", np.float32(1.5), 1.5)
    check_scalar("s", float("nan"), float("nan"))
    check_scalar("s", 103.0, 100.0, rtol=0.05)
    for wrong, message in [(True, "expected one number, got bool"), ("1", "expected one number"),
                           (np.array([1.0, 2.0]), "expected one number"), (2.0 + 1e-6, "expected 2.0"),
                           (float("nan"), "expected 2.0"), (-2.0, "expected 2.0")]:  # fmt: skip
        with pytest.raises(AssertionError, match=message):
            check_scalar("s", wrong, 2.0)


def test_check_choice_ignores_case_and_spaces_only():
    for fine in ("b", "B", " b ", "b\n"):
        check_choice("q", fine)
    for wrong in ("e", "ab", "", None, 1, "b)"):
        with pytest.raises(AssertionError, match="expected one of 'a', 'b', 'c', 'd'"):
            check_choice("q", wrong)
    check_choice("q", "e", options="abcde")


def test_check_raises():
    def bad(x):
        raise ValueError(x)

    check_raises(ValueError, bad, 1)
    with pytest.raises(AssertionError, match="expected ValueError, but it returned normally"):
        check_raises(ValueError, lambda x: x, 1)
    with pytest.raises(AssertionError, match=r"bad\(an array of shape \(2,\).*expected TypeError, got ValueError"):
        check_raises(TypeError, bad, np.zeros(2))
