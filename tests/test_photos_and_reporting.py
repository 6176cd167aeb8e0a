import json

import numpy as np
import pytest

from course_utils.core.photos import PHOTOS, load_photo
from course_utils.core.reporting import assert_at_least, assert_at_most, report


@pytest.mark.parametrize("name", sorted(PHOTOS))
def test_every_listed_photo_loads_offline(name):
    image = load_photo(name)
    assert isinstance(image, np.ndarray) and image.ndim in (2, 3) and image.size > 10_000


def test_unknown_photo_lists_the_choices():
    with pytest.raises(ValueError, match="astronaut"):
        load_photo("mona_lisa")


def test_report_writes_json_lines(tmp_path, monkeypatch):
    target = tmp_path / "metrics.jsonl"
    monkeypatch.setenv("COURSE_REPORT_FILE", str(target))
    report("accuracy", 0.5)
    assert_at_least("accuracy", 0.9, 0.8)
    with pytest.raises(AssertionError):
        assert_at_most("seconds", 2.0, 1.0)
    entries = [json.loads(line) for line in target.read_text().splitlines()]
    assert [e["name"] for e in entries] == ["accuracy", "accuracy", "seconds"]
    assert "bound" not in entries[0]  # only measured
    assert (entries[1]["bound"], entries[1]["direction"], entries[1]["passed"]) == (0.8, ">=", True)
    assert (entries[2]["bound"], entries[2]["direction"], entries[2]["passed"]) == (1.0, "<=", False)


def test_claims_fail_with_a_readable_message():
    with pytest.raises(AssertionError, match="below the 0.8"):
        assert_at_least("accuracy", 0.5, 0.8)
    with pytest.raises(AssertionError, match="above the 1"):
        assert_at_most("seconds", 2.0, 1.0)
