import numpy as np
import pytest
import torch

from course_utils.core.datasets import ImageSet
from course_utils.core.profile import get_profile
from course_utils.generative import sample_quality
from course_utils.generative.sample_quality import (
    DigitJudge,
    class_agreement,
    feature_frechet_distance,
    frechet_distance,
    gaussian_fit,
    judge_accuracy,
    judge_features,
    judge_predictions,
    load_or_train_judge,
    within_class_spread,
)


def test_frechet_distance_hand_computed_case():
    # diag covariances commute: 3^2 + 4^2 + (1 - 2)^2 + (2 - 1)^2 = 27
    d = frechet_distance(
        np.zeros(2), np.diag([1.0, 4.0]), np.array([3.0, 4.0]), np.diag([4.0, 1.0])
    )
    assert d == pytest.approx(27.0)


def test_frechet_distance_one_dimension_and_symmetry():
    # 1-D: (m1 - m2)^2 + (s1 - s2)^2
    assert frechet_distance(
        np.array([1.0]), np.array([[9.0]]), np.array([-1.0]), np.array([[4.0]])
    ) == pytest.approx(4.0 + 1.0)
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(4, 4)), rng.normal(size=(4, 4))
    s1, s2 = a @ a.T + np.eye(4), b @ b.T + np.eye(4)
    m1, m2 = rng.normal(size=4), rng.normal(size=4)
    assert frechet_distance(m1, s1, m2, s2) == pytest.approx(frechet_distance(m2, s2, m1, s1))
    assert frechet_distance(m1, s1, m1, s1) == pytest.approx(0.0, abs=1e-8)
    with pytest.raises(ValueError):
        frechet_distance(m1, s1, m2[:3], s2[:3, :3])


def test_frechet_distance_survives_singular_covariances():
    # 3 points in 5 dimensions: both covariances are singular
    rng = np.random.default_rng(1)
    d = frechet_distance(
        *gaussian_fit(rng.normal(size=(3, 5))), *gaussian_fit(rng.normal(size=(3, 5)))
    )
    assert np.isfinite(d) and d >= -1e-6


def test_gaussian_fit():
    features = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0], [2.0, 2.0]])
    mean, cov = gaussian_fit(features)
    np.testing.assert_allclose(mean, [1.0, 1.0])
    np.testing.assert_allclose(cov, np.eye(2) * 4 / 3)
    with pytest.raises(ValueError):
        gaussian_fit(np.zeros((1, 3)))


def test_within_class_spread():
    features = np.array([[0.0, 0.0], [2.0, 0.0], [5.0, 5.0], [5.0, 5.0]])
    labels = np.array([0, 0, 1, 1])
    # class 0: both points at distance 1 from their mean; class 1: 0
    assert within_class_spread(features, labels) == pytest.approx(0.5)
    assert within_class_spread(2 * features, labels) == pytest.approx(1.0)


def _always(label: int) -> DigitJudge:
    judge = DigitJudge()
    with torch.no_grad():
        judge.classifier.weight.zero_()
        judge.classifier.bias.zero_()
        judge.classifier.bias[label] = 1.0
    return judge.eval()


def test_judge_shapes_and_class_agreement():
    judge = _always(3)
    images = torch.rand(6, 1, 14, 14)
    assert judge(images).shape == (6, 10)
    assert judge_features(judge, images).shape == (6, 64)
    assert judge_predictions(judge, images).tolist() == [3] * 6
    assert class_agreement(judge, images, torch.tensor([3, 3, 3, 1, 2, 3])) == pytest.approx(4 / 6)
    assert judge_accuracy(judge, images, torch.full((6,), 3)) == 1.0
    assert feature_frechet_distance(judge, images, images) == pytest.approx(0.0, abs=1e-6)


def _toy_digits(n: int = 256):
    # class k: a bright k-th row, so a small CNN learns it at once
    gen = torch.Generator().manual_seed(0)
    labels = torch.arange(n) % 10
    images = 0.1 * torch.rand(n, 1, 14, 14, generator=gen)
    images[torch.arange(n), 0, labels + 2, :] = 1.0
    return images, labels


def test_load_or_train_judge_caches_and_checks_the_file(tmp_path):
    images, labels = _toy_digits()
    judge, source = load_or_train_judge(
        images, labels, epochs=3, name="toy", folder=tmp_path, progress=False
    )
    assert source == "trained"
    assert judge_accuracy(judge, images, labels) > 0.9
    again, source = load_or_train_judge(
        images, labels, epochs=3, name="toy", folder=tmp_path, progress=False
    )
    assert source == "cache"
    for a, b in zip(judge.state_dict().values(), again.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b)
    # a damaged file is noticed and replaced
    weights = next(tmp_path.glob("judge-*.pt"))
    weights.write_bytes(weights.read_bytes()[:-10] + b"0123456789")
    _, source = load_or_train_judge(
        images, labels, epochs=3, name="toy", folder=tmp_path, progress=False
    )
    assert source == "retrained: checksum mismatch"
    _, source = load_or_train_judge(
        images, labels, epochs=3, name="toy", folder=tmp_path, progress=False
    )
    assert source == "cache"


def test_training_a_judge_leaves_the_global_rng_alone():
    images, labels = _toy_digits(64)
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    sample_quality.train_judge(images, labels, epochs=1, progress=False)
    torch.testing.assert_close(torch.rand(3), expected)


def test_mnist14_judge_uses_one_recipe(monkeypatch):
    calls = {}
    fake = ImageSet(
        "mnist",
        "train",
        torch.zeros(60_000, 1, 28, 28, dtype=torch.uint8),
        torch.zeros(60_000, dtype=torch.long),
        tuple("0123456789"),
        "memory",
    )
    monkeypatch.setattr(sample_quality, "load_images", lambda name, train: fake)

    def fake_load_or_train(images, labels, *, epochs, name, progress):
        calls.update(n=len(images), size=tuple(images.shape[-2:]), epochs=epochs, name=name)
        return "judge", "cache"

    monkeypatch.setattr(sample_quality, "load_or_train_judge", fake_load_or_train)
    assert sample_quality.mnist14_judge(get_profile("fast")) == ("judge", "cache")
    assert calls == {"n": 20_000, "size": (14, 14), "epochs": 2, "name": "mnist14"}
    sample_quality.mnist14_judge(get_profile("full"))
    assert calls["n"] == 60_000 and calls["epochs"] == 8
