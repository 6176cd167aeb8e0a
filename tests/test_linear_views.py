import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from course_utils.classifiers.linear_views import (  # noqa: E402
    class_templates,
    explore_decision_regions,
    linear_scores,
    plot_decision_regions,
    rotate_class,
    show_templates,
)


@pytest.fixture
def blobs():
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 3.0], [3.0, -2.0], [-3.0, -2.0]])
    labels = np.repeat(np.arange(3), 50)
    points = centres[labels] + rng.normal(0, 0.5, size=(150, 2))
    weight, bias = centres.copy(), -0.5 * (centres**2).sum(axis=1)  # nearest-centre classifier
    return points, labels, weight, bias


def test_linear_scores_is_w_x_plus_b():
    w = np.array([[0.2, -0.5, 0.1, 2.0], [1.5, 1.3, 2.1, 0.0], [0.0, 0.25, 0.2, -0.3]])
    b = np.array([1.1, 3.2, -1.2])
    np.testing.assert_allclose(linear_scores(w, b, [[56, 231, 24, 2]]), [[-96.8, 437.9, 60.75]])
    np.testing.assert_allclose(linear_scores(torch.from_numpy(w), torch.from_numpy(b), [[1, 0, 0, 0]]),
                               [[1.3, 4.7, -1.2]])  # fmt: skip


def test_class_templates_shape_and_range():
    weight = torch.randn(10, 3 * 4 * 5)
    templates = class_templates(weight, (3, 4, 5))
    assert templates.shape == (10, 4, 5, 3)
    assert templates.min() == 0.0 and templates.max() == 1.0
    np.testing.assert_allclose(templates.reshape(10, -1).min(axis=1), 0)
    np.testing.assert_allclose(templates.reshape(10, -1).max(axis=1), 1)
    assert np.isfinite(class_templates(np.zeros((2, 3 * 4 * 5)), (3, 4, 5))).all()


def test_show_templates_titles():
    fig = show_templates(np.random.default_rng(0).normal(size=(3, 3 * 2 * 2)), ["a", "b", "c"], (3, 2, 2))
    assert [ax.get_title() for ax in fig.axes] == ["a", "b", "c"]
    plt.close(fig)


def test_rotate_class_turns_only_one_row():
    w, b = np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0.5, -0.5])
    w2, b2 = rotate_class(w, b, 0, 90, 1.0)
    np.testing.assert_allclose(w2[0], [0.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(w2[1], w[1])
    np.testing.assert_allclose(b2, [1.5, -0.5])
    np.testing.assert_allclose(w, [[1.0, 0.0], [0.0, 1.0]])  # the input is left alone
    with pytest.raises(ValueError):
        rotate_class(np.zeros((2, 3)), b, 0, 10, 0)


def test_plot_decision_regions_reports_accuracy(blobs):
    points, labels, weight, bias = blobs
    fig, ax = plt.subplots()
    accuracy = plot_decision_regions(weight, bias, points, labels, ["a", "b", "c"], ax=ax)
    assert accuracy == pytest.approx((linear_scores(weight, bias, points).argmax(1) == labels).mean())
    assert accuracy > 0.95
    assert "accuracy" in ax.get_title()
    plt.close(fig)
    with pytest.raises(ValueError):
        plot_decision_regions(np.zeros((3, 3)), bias, np.zeros((5, 3)), labels[:5], ["a", "b", "c"])


def test_explore_decision_regions_untouched_and_turned(blobs):
    points, labels, weight, bias = blobs
    untouched = explore_decision_regions(0, 0, 0.0, weight, bias, points, labels, ["a", "b", "c"])
    turned = explore_decision_regions(0, 180, 0.0, weight, bias, points, labels, ["a", "b", "c"])
    assert untouched > 0.95
    assert turned < untouched - 0.2
    plt.close("all")
