import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from skimage.feature import hog

from course_utils.convnets.features import (
    corner_error,
    disparity_check,
    find_lines,
    gray_photo,
    hog_features,
    match_demo,
    match_views,
    plot_hough_lines,
    project,
    stereo_pair,
    view_homography,
    warp,
)


def test_find_lines_finds_a_drawn_line():
    image = np.zeros((100, 120), dtype=np.uint8)
    image[:, 40:] = 200  # a vertical edge at x = 40
    found = find_lines(image, sigma=1.0, num_lines=1)
    assert abs(np.rad2deg(found.peak_thetas[0])) < 1
    assert abs(abs(found.peak_rhos[0]) - 39.5) <= 1.5


def test_plot_hough_lines_returns_a_figure():
    fig = plot_hough_lines("camera", 2.0, 3)
    assert len(fig.axes) == 3
    plt.close(fig)


def test_homography_helpers():
    shape = (200, 300)
    H = view_homography(shape, angle=0, scale=1, tilt=0)
    np.testing.assert_allclose(H, np.eye(3), atol=1e-12)
    H = view_homography(shape, angle=90, scale=1, tilt=0)
    np.testing.assert_allclose(project(H, [[150, 100]]), [[150, 100]], atol=1e-9)  # the centre stays
    np.testing.assert_allclose(project(H, [[160, 100]]), [[150, 110]], atol=1e-9)
    assert corner_error(H, H, shape) == 0
    assert warp(np.ones(shape, dtype=np.uint8), H).shape == shape


@pytest.mark.parametrize("method", ["SIFT", "ORB"])
def test_matching_recovers_a_known_view(method):
    image = gray_photo("astronaut")
    H = view_homography(image.shape, angle=20, scale=0.8, tilt=3e-4)
    result = match_views(image, warp(image, H), method)
    assert result.inlier_ratio > 0.8 and len(result.points1) > 100
    assert corner_error(result.homography, H, image.shape) < 5
    assert result.reprojection_error() < 2


def test_matching_unrelated_photos_finds_no_consensus():
    result = match_views(gray_photo("astronaut"), gray_photo("coffee"), "SIFT")
    assert result.inliers.sum() < 20
    with pytest.raises(ValueError):
        match_views(gray_photo("coins"), gray_photo("coins"), "SURF")


def test_match_demo_reports_scores():
    scores = match_demo("astronaut", "ORB", angle=10, scale=1.0)
    plt.close("all")
    assert scores["corner_error"] < 5 and scores["inlier_ratio"] > 0.8


def test_hog_features_match_scikit_image():
    rng = np.random.default_rng(0)
    gray = rng.integers(0, 256, (3, 32, 32)).astype(np.uint8)
    features = hog_features(gray)
    assert features.shape == (3, 324)
    np.testing.assert_allclose(features[1], hog(gray[1], 9, (8, 8), (2, 2), "L2-Hys"), rtol=1e-5, atol=1e-6)
    colour = rng.integers(0, 256, (2, 3, 32, 32)).astype(np.uint8)
    assert hog_features(colour).shape == (2, 324)


def test_disparity_check_on_a_made_up_map():
    disparity = np.full((50, 60), 10.0)
    disparity[:, :5] = np.inf  # unknown
    points1 = np.array([[30.2, 20.0], [30.0, 20.0], [30.0, 20.0], [2.0, 20.0]])
    points2 = np.array([[20.0, 20.4], [25.0, 20.0], [20.0, 23.0], [0.0, 20.0]])
    correct, known = disparity_check(points1, points2, disparity)
    assert known.tolist() == [True, True, True, False]
    assert correct.tolist() == [True, False, False, False]


def test_stereo_pair_fundamental_ransac_keeps_correct_matches():
    left, right, disparity = stereo_pair()
    assert left.shape == right.shape == disparity.shape and left.dtype == np.uint8
    result = match_views(left, right, "SIFT", model="fundamental", ransac_threshold=1.0)
    assert result.homography is None and result.fundamental.shape == (3, 3)
    correct, known = disparity_check(result.points1, result.points2, disparity)
    assert correct[result.inliers & known].mean() > 0.9
    assert (result.inliers & correct).sum() > 0.9 * correct.sum()
    with pytest.raises(ValueError):
        match_views(left, right, "SIFT", model="affine")
