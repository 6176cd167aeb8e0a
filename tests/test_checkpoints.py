import pytest
import torch
from torch import nn

from course_utils.core import checkpoints
from course_utils.core.checkpoints import (
    checkpoint_path,
    config_key,
    load_checkpoint,
    load_or_train,
    save_checkpoint,
    verify_checkpoint,
)


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    return tmp_path


def test_save_and_load_round_trip_with_sidecar():
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    path = save_checkpoint(model, "tiny", {"accuracy": 0.5})
    sidecar = path.with_name(path.name + ".sha256").read_text().split()
    assert sidecar[1] == path.name and len(sidecar[0]) == 64
    assert verify_checkpoint("tiny")
    other = nn.Linear(3, 2)
    assert load_checkpoint(other, "tiny") == {"accuracy": 0.5}
    torch.testing.assert_close(other.weight, model.weight)


def test_a_missing_checkpoint_loads_as_none():
    assert load_checkpoint(nn.Linear(3, 2), "absent") is None


def test_a_damaged_checkpoint_is_deleted_with_a_warning():
    save_checkpoint(nn.Linear(3, 2), "damaged")
    path = checkpoint_path("damaged")
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.warns(UserWarning, match="SHA-256"):
        assert load_checkpoint(nn.Linear(3, 2), "damaged") is None
    assert not path.exists()


def test_a_checkpoint_of_another_architecture_is_not_used():
    save_checkpoint(nn.Linear(3, 2), "shape")
    with pytest.warns(UserWarning, match="does not load"):
        assert load_checkpoint(nn.Linear(4, 2), "shape") is None


def test_names_are_checked():
    with pytest.raises(ValueError):
        checkpoint_path("../escape")


def test_load_or_train_trains_once_then_loads():
    calls = []

    def train(model):
        calls.append(1)
        with torch.no_grad():
            model.weight.fill_(1.0)
        return {"score": 0.75}

    first = load_or_train(nn.Linear(2, 2), "model", {"steps": 3}, train)
    assert not first.loaded and first.meta["score"] == 0.75 and "train_seconds" in first.meta
    second = load_or_train(nn.Linear(2, 2), "model", {"steps": 3}, train)
    assert second.loaded and second.meta["score"] == 0.75 and len(calls) == 1
    assert torch.all(second.model.weight == 1.0)
    assert "loaded from the cache" in second.describe()
    third = load_or_train(nn.Linear(2, 2), "model", {"steps": 4}, train)
    assert not third.loaded and len(calls) == 2 and third.name != second.name


def test_config_key_is_stable_and_order_independent():
    assert config_key({"a": 1, "b": [1, 2]}) == config_key({"b": [1, 2], "a": 1})
    assert config_key({"a": 1}) != config_key({"a": 2})


def test_checkpoints_live_under_the_cache_dir(cache):
    assert checkpoints.checkpoint_dir() == cache / "checkpoints"
