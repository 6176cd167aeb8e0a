import pytest

from course_utils.core.profile import PROFILES, get_profile


def test_default_profile_is_full(monkeypatch):
    monkeypatch.delenv("COURSE_PROFILE", raising=False)
    assert get_profile().name == "full"


def test_environment_selects_profile(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", " FAST ")
    assert get_profile().is_fast


def test_unknown_profile_names_the_choices(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "turbo")
    with pytest.raises(ValueError, match="COURSE_PROFILE.*fast, full"):
        get_profile()


def test_full_profile_keeps_full_sizes():
    full = PROFILES["full"]
    assert full.samples(50_000) == 50_000
    assert full.epochs(30) == 30
    assert full.steps(2000) == 2000


def test_fast_profile_scales_and_caps():
    fast = PROFILES["fast"]
    assert fast.samples(50_000) == 5_000  # 10 % would be 5,000; the cap agrees
    assert fast.samples(200_000) == 5_000  # capped
    assert fast.samples(1_000) == 100
    assert fast.samples(1_000, minimum=500) == 500
    assert fast.samples(10, minimum=500) == 10  # never more than the full size
    assert fast.epochs(30) == 3
    assert fast.epochs(2) == 1
    assert fast.steps(1000) == 100


def test_pick_by_profile():
    assert PROFILES["fast"].pick(fast=1, full=2) == 1
    assert PROFILES["full"].pick(fast=1, full=2) == 2


def test_sizes_must_be_positive():
    with pytest.raises(ValueError):
        PROFILES["fast"].samples(0)
