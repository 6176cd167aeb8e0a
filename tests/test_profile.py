import pytest
import torch

from course_utils.core.profile import PROFILES, choose_profile, get_profile


def test_default_profile_follows_the_hardware(monkeypatch):
    monkeypatch.delenv("COURSE_PROFILE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    profile, reason = choose_profile()
    assert profile.name == "laptop" and "no CUDA GPU" in reason
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    profile, reason = choose_profile()
    assert profile.name == "full" and "CUDA GPU was found" in reason
    monkeypatch.setenv("COURSE_PROFILE", "fast")
    assert choose_profile() == (PROFILES["fast"], "set by COURSE_PROFILE")


def test_environment_selects_profile(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", " FAST ")
    assert get_profile().is_fast


def test_unknown_profile_names_the_choices(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "turbo")
    with pytest.raises(ValueError, match="COURSE_PROFILE.*fast, full, laptop"):
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
    assert PROFILES["laptop"].pick(fast=1, full=2, laptop=3) == 3
    assert PROFILES["laptop"].pick(fast=1, full=2) == 1  # without its own band: the smaller claim


def test_laptop_profile_lies_between_fast_and_full():
    fast, laptop, full = (PROFILES[n] for n in ("fast", "laptop", "full"))
    for size in (1_000, 10_000, 60_000):
        assert fast.samples(size) <= laptop.samples(size) <= full.samples(size)
    for epochs in (2, 10, 30):
        assert fast.epochs(epochs) <= laptop.epochs(epochs) <= full.epochs(epochs)
    for steps in (100, 2_000, 20_000):
        assert fast.steps(steps) <= laptop.steps(steps) <= full.steps(steps)
    assert laptop.samples(60_000) < full.samples(60_000) and laptop.epochs(30) < full.epochs(30)


def test_sizes_must_be_positive():
    with pytest.raises(ValueError):
        PROFILES["fast"].samples(0)


def test_a_lesson_can_set_the_laptop_size_of_one_call():
    laptop, fast, full = PROFILES["laptop"], PROFILES["fast"], PROFILES["full"]
    assert laptop.samples(60_000, laptop=60_000) == 60_000 and laptop.samples(60_000) == 20_000
    assert laptop.epochs(20, laptop=12) == 12 and laptop.steps(1_000, laptop=5_000) == 1_000  # never above full
    assert fast.samples(60_000, laptop=60_000) == 5_000 and full.epochs(20, laptop=12) == 20
    with pytest.raises(ValueError):
        laptop.samples(100, laptop=0)
