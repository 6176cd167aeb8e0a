import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from course_utils.classifiers.distances import (  # noqa: E402
    as_rows,
    knn_predict,
    knn_vote,
    l1_distances,
    l2_distances,
    nearest_neighbours,
    pairwise_distances,
    plot_neighbour_grid,
    show_knn_query,
)

# the lecture's L1 example: a 4 x 4 test image against a 4 x 4 training image
TEST_IMAGE = np.array([[56, 32, 10, 18], [90, 23, 128, 133], [24, 26, 178, 200], [2, 0, 255, 220]])
TRAIN_IMAGE = np.array([[10, 20, 24, 17], [8, 10, 89, 100], [12, 16, 178, 170], [4, 32, 233, 112]])


@pytest.fixture
def images():
    rng = np.random.default_rng(0)
    queries = rng.integers(0, 256, size=(7, 3, 4, 4), dtype=np.uint8)
    train = rng.integers(0, 256, size=(23, 3, 4, 4), dtype=np.uint8)
    return queries, train


def brute(queries, train, metric):
    q, t = as_rows(queries).astype(np.float64), as_rows(train).astype(np.float64)
    diff = q[:, None, :] - t[None, :, :]
    return np.abs(diff).sum(-1) if metric == "l1" else np.sqrt((diff**2).sum(-1))


def test_slide_example():
    q, t = TEST_IMAGE[None].astype(np.uint8), TRAIN_IMAGE[None].astype(np.uint8)
    assert l1_distances(q, t)[0, 0] == 456
    np.testing.assert_allclose(l2_distances(q, t)[0, 0], np.sqrt(26_280))
    d, idx = nearest_neighbours(q, t, 1, "l1")
    assert d[0, 0] == 456 and idx[0, 0] == 0


def test_as_rows_accepts_tensors_and_arrays():
    x = torch.arange(24).reshape(2, 3, 2, 2)
    np.testing.assert_array_equal(as_rows(x), x.numpy().reshape(2, 12))
    assert as_rows(np.zeros((5, 7))).shape == (5, 7)


@pytest.mark.parametrize("metric", ["l1", "l2"])
def test_distance_matrices_match_brute_force(images, metric):
    queries, train = images
    expected = brute(queries, train, metric)
    np.testing.assert_allclose(pairwise_distances(queries, train, metric), expected, rtol=1e-12)
    np.testing.assert_allclose(
        pairwise_distances(torch.from_numpy(queries), torch.from_numpy(train), metric), expected, rtol=1e-12
    )


def test_l1_blocks_do_not_change_the_result(images):
    queries, train = images
    np.testing.assert_array_equal(l1_distances(queries, train, max_elements=1), l1_distances(queries, train))


def test_l2_float32_is_close_and_keeps_its_precision(images):
    queries, train = images
    result = l2_distances(queries.astype(np.float32), train.astype(np.float32))
    assert result.dtype == np.float32
    np.testing.assert_allclose(result, brute(queries, train, "l2"), rtol=1e-5)


def test_l2_of_identical_images_is_zero(images):
    _, train = images
    np.testing.assert_allclose(np.diag(l2_distances(train, train)), 0, atol=1e-4)  # sqrt of rounding


@pytest.mark.parametrize("metric", ["l1", "l2"])
def test_nearest_neighbours_are_sorted_and_exact(images, metric):
    queries, train = images
    expected = brute(queries, train, metric)
    d, idx = nearest_neighbours(queries, train, 5, metric, batch_size=3)
    assert d.shape == idx.shape == (7, 5)
    np.testing.assert_allclose(d, np.sort(expected, axis=1)[:, :5], rtol=1e-12)
    np.testing.assert_allclose(np.take_along_axis(expected, idx, axis=1), d, rtol=1e-12)


def test_nearest_neighbours_orders_ties_by_index():
    train = np.array([[10], [0], [20], [0], [10]], dtype=np.uint8)
    d, idx = nearest_neighbours(np.array([[5]], dtype=np.uint8), train, 5, "l1")
    np.testing.assert_array_equal(d[0], [5, 5, 5, 5, 15])
    np.testing.assert_array_equal(idx[0], [0, 1, 3, 4, 2])


def test_nearest_neighbours_checks_its_inputs(images):
    queries, train = images
    with pytest.raises(TypeError):
        nearest_neighbours(queries.astype(np.float32), train, 1)
    with pytest.raises(ValueError):
        nearest_neighbours(queries, train, 0)
    with pytest.raises(ValueError):
        nearest_neighbours(queries, train, 1, "cosine")
    with pytest.raises(ValueError):
        nearest_neighbours(queries[:, :, :2], train, 1)


def test_knn_vote_majority_and_ties_to_the_smaller_label():
    labels = np.array([[2, 2, 1, 1, 0], [3, 1, 1, 3, 3], [4, 0, 0, 0, 0]])
    np.testing.assert_array_equal(knn_vote(labels, 1, 5), [2, 3, 4])
    np.testing.assert_array_equal(knn_vote(labels, 4, 5), [1, 1, 0])  # 2-2 ties go to the smaller
    np.testing.assert_array_equal(knn_vote(labels, 5, 5), [1, 3, 0])


@pytest.mark.parametrize("metric", ["l1", "l2"])
def test_knn_predict_matches_scikit_learn(metric):
    from sklearn.neighbors import KNeighborsClassifier

    rng = np.random.default_rng(1)
    centres = rng.integers(40, 216, size=(3, 12))
    labels = rng.integers(0, 3, size=200)
    train = np.clip(centres[labels] + rng.normal(0, 30, size=(200, 12)), 0, 255).astype(np.uint8)
    test_labels = rng.integers(0, 3, size=50)
    test = np.clip(centres[test_labels] + rng.normal(0, 30, size=(50, 12)), 0, 255).astype(np.uint8)
    ours = knn_predict(test, train, labels, 5, metric)
    sk = KNeighborsClassifier(5, algorithm="brute", metric="manhattan" if metric == "l1" else "euclidean")
    np.testing.assert_array_equal(ours, sk.fit(train, labels).predict(test))
    assert (ours == test_labels).mean() > 0.9


def test_plot_neighbour_grid_frames_same_and_other_classes():
    rng = np.random.default_rng(0)
    queries = rng.integers(0, 256, size=(2, 3, 8, 8), dtype=np.uint8)
    neighbours = rng.integers(0, 256, size=(2, 4, 3, 8, 8), dtype=np.uint8)
    fig = plot_neighbour_grid(queries, [0, 1], neighbours, [[0, 1, 0, 0], [1, 1, 1, 0]], ["a", "b"])
    assert len(fig.axes) == 2 * 5
    edge = [p.get_edgecolor() for p in fig.axes[1].patches]
    assert len(edge) == 1 and edge[0][1] > edge[0][0]  # green: same class
    edge = [p.get_edgecolor() for p in fig.axes[2].patches]
    assert edge[0][0] > edge[0][1]  # red: other class
    plt.close(fig)


@pytest.mark.parametrize("k", [1, 3, 12])
def test_show_knn_query_returns_the_vote(images, k):
    queries, train = images
    train_labels = np.arange(len(train)) % 3
    predicted = show_knn_query(2, k, "l2", queries, [0] * len(queries), train, train_labels, ["a", "b", "c"])
    expected = knn_predict(queries[2:3], train, train_labels, k, "l2", num_classes=3)[0]
    assert predicted == expected
    plt.close("all")
