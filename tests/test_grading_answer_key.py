"""The answer key: loading it, refusing a broken one, and recognising mistakes."""

import pytest

from course_utils.grading.answer_key import AnswerKeyError, load_answer_key, recognise

KEY = """
[[mistake]]
name = "truncates instead of rounding"
tests = ["test_q", "test_q_hidden"]
points = 3
message = "expected 36, got 3[0-9]"
advice = "Round to the nearest level."

[[mistake]]
name = "wrong dtype"
tests = ["test_q"]
points = 2
message = "expected dtype uint8"
"""


def _test(score, points, detail=""):
    return {"score": score, "points": points, "detail": detail, "message": ""}


def test_recognises_a_mistake_only_when_all_its_tests_fail_and_a_failure_matches(tmp_path):
    (tmp_path / "answer_key.toml").write_text(KEY)
    mistakes = load_answer_key(tmp_path, {"test_q", "test_q_hidden"})
    assert [m.name for m in mistakes] == ["truncates instead of rounding", "wrong dtype"]
    failed = {"test_q": _test(0, 2, "AssertionError: q: expected 36, got 34"), "test_q_hidden": _test(0, 1, "x")}
    assert [m.name for m in recognise(mistakes, failed)] == ["truncates instead of rounding"]
    half = {"test_q": _test(0, 2, "AssertionError: q: expected 36, got 34"), "test_q_hidden": _test(1, 1)}
    assert recognise(mistakes, half) == []  # the hidden test passed: not this mistake
    other = {"test_q": _test(0, 2, "AssertionError: q: expected dtype uint8, got float64"), "test_q_hidden": _test(1, 1)}
    assert [m.name for m in recognise(mistakes, other)] == ["wrong dtype"]
    assert recognise(mistakes, {}) == []


def test_no_key_means_no_mistakes(tmp_path):
    assert load_answer_key(tmp_path) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[mistake]]\nname = 'x'\n", "needs name, tests, points, message"),
        ("[[mistake]]\nname='x'\ntests=['t']\npoints=1\nmessage='('\n", "bad regular expression"),
        ("[[mistake]]\nname='x'\ntests=['nope']\npoints=1\nmessage='a'\n", "unknown tests"),
        ("not toml [", "needs name"),
    ],
)
def test_a_broken_key_is_refused_with_what_to_fix(tmp_path, text, message):
    (tmp_path / "answer_key.toml").write_text(text)
    with pytest.raises(AnswerKeyError, match=message):
        load_answer_key(tmp_path, {"t"})
