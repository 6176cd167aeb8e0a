import importlib.util
import warnings
from pathlib import Path

import pytest
import torch

from course_utils.core.environment import Check, check_environment, format_checks, verdict
from course_utils.core.lesson import start_lesson

ROOT = Path(__file__).resolve().parents[1]


def test_start_lesson_seeds_and_reports(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_PROFILE", "fast")
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    first = start_lesson(seed=3)
    a = torch.rand(3)
    start_lesson(seed=3)
    assert torch.equal(a, torch.rand(3))
    assert first.profile.name == "fast" and first.device.type == "cpu"
    out = capsys.readouterr().out
    assert "profile=fast" in out and "The 'fast' profile runs: set by COURSE_PROFILE." in out


def test_start_lesson_says_how_long_the_lesson_took_when_verified(monkeypatch, tmp_path):
    from course_utils.core import lesson as lesson_module

    monkeypatch.setenv("COURSE_PROFILE", "laptop")
    monkeypatch.setattr(lesson_module, "lesson_seconds", lambda profile: {"09_cnns.ipynb": 300.0} if profile == "laptop" else {})
    lesson = start_lesson()
    assert "took 5.0 min in it" in lesson.explain_profile("notebooks/09_cnns.ipynb")
    assert "took" not in lesson.explain_profile("notebooks/10_other.ipynb")
    monkeypatch.setattr(lesson_module, "lesson_seconds", lambda profile: {})
    assert "No run of this profile is recorded yet" in lesson.explain_profile("notebooks/09_cnns.ipynb")


def test_strict_mode_turns_course_deprecations_into_errors(monkeypatch):
    monkeypatch.setenv("COURSE_STRICT_WARNINGS", "1")
    with warnings.catch_warnings():
        start_lesson()
        with pytest.raises(DeprecationWarning):
            warnings.warn_explicit("old call", DeprecationWarning, "x.py", 1, module="course_utils.x")
        with pytest.raises(FutureWarning):
            warnings.warn_explicit("old call", FutureWarning, "<cell>", 1, module="__main__")
        with pytest.warns(DeprecationWarning):  # other libraries' deprecations stay warnings
            warnings.warn_explicit("not ours", DeprecationWarning, "y.py", 1, module="otherlib")


def test_environment_check_lists_everything(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "fast")
    checks = check_environment()
    names = {c.name for c in checks}
    assert {"python", "torch", "torchvision", "device", "profile", "data: mnist", "data: cifar10"} <= names
    assert all(c.ok for c in checks if c.required)
    assert "[ok ] python" in format_checks(checks)


def test_environment_check_flags_a_bad_profile(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "turbo")
    checks = check_environment()
    assert verdict(checks).startswith("Not ready") and "COURSE_PROFILE" in verdict(checks)


def test_verdict_wording():
    ok = Check("python", True, "3.11")
    missing = Check("data: mnist", False, "not found", "download it", required=False)
    assert verdict([ok]).startswith("Ready: everything")
    assert "download it" in verdict([ok, missing])


def _course_script():
    spec = importlib.util.spec_from_file_location("course_script", ROOT / "course.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_course_script_shows_usage_for_unknown_commands(capsys):
    assert _course_script().main(["fly"]) == 2
    assert "python3 course.py lab" in capsys.readouterr().out
