import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from course_utils.images.pinhole import cube_edges, draw_cube, draw_road, project  # noqa: E402


def test_project_divides_by_depth_and_keeps_rays_together():
    ray = np.array([0.3, -0.2, 1.0]) * np.array([[1.0], [2.5], [40.0]])
    np.testing.assert_allclose(project(ray, focal=2.0), [[0.6, -0.4]] * 3)
    assert project(np.zeros((4, 5, 3)) + [1.0, 2.0, 4.0]).shape == (4, 5, 2)


def test_road_vanishing_point_is_the_image_centre():
    fig, ax = plt.subplots()
    try:
        vanishing = draw_road(ax, width=320, height=240)
        np.testing.assert_allclose(vanishing, (160.0, 120.0), atol=0.01)
        assert ax.get_ylim() == (240, 0)  # y grows downwards, as in an image
        assert len(ax.lines) == 2 + 13     # two edge lines and 13 dashes
    finally:
        plt.close(fig)


def test_cube_has_twelve_edges_of_which_parallel_ones_stay_apart():
    edges = cube_edges(center=(540.0, 190.0))
    assert edges.shape == (12, 2, 2)
    np.testing.assert_allclose(edges.reshape(-1, 2).mean(axis=0), (540.0, 190.0), atol=20)
    lengths = np.linalg.norm(edges[:, 1] - edges[:, 0], axis=1)
    assert np.all(lengths > 10) and np.all(lengths < 200)  # 10 cm at 1 m with f = 900 px: about 90 px
    fig, ax = plt.subplots()
    try:
        draw_cube(ax, center=(540.0, 190.0))
        assert len(ax.lines) == 12
    finally:
        plt.close(fig)
