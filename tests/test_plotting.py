import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from course_utils.core.history import History  # noqa: E402
from course_utils.core.plotting import compare, show_images, to_display  # noqa: E402


def test_to_display_moves_channels_last_and_rescales():
    image = torch.linspace(-1, 3, 3 * 4 * 5).reshape(3, 4, 5)
    shown = to_display(image)
    assert shown.shape == (4, 5, 3)
    assert shown.min() == 0.0 and shown.max() == 1.0
    assert to_display(np.zeros((1, 6, 6), dtype=np.uint8)).shape == (6, 6)


def test_show_images_makes_a_grid_with_titles():
    fig = show_images([np.zeros((4, 4))] * 5, titles=list("abcde"), ncols=3)
    axes = fig.get_axes()
    assert len(axes) == 6
    assert [ax.get_title() for ax in axes[:5]] == list("abcde")


def test_show_images_needs_images():
    with pytest.raises(ValueError):
        show_images([])


def test_compare_and_history_plot():
    fig = compare({"left": np.zeros((3, 3)), "right": np.ones((3, 3, 3))})
    assert [ax.get_title() for ax in fig.get_axes()] == ["left", "right"]
    history = History([1.0, 0.5], [0.5, 0.8], [1.1, 0.7], [0.4, 0.7], [0.1, 0.1])
    fig = history.plot(title="demo")
    assert len(fig.get_axes()) == 2


def test_uint8_grayscale_panels_share_the_full_intensity_scale():
    dark = np.full((4, 4), 10, dtype=np.uint8)
    fig = compare({"dark": dark, "float": np.linspace(0, 1, 16).reshape(4, 4)})
    dark_image, float_image = (ax.get_images()[0] for ax in fig.get_axes())
    assert dark_image.get_clim() == (0, 255)
    assert float_image.get_clim() == (0.0, 1.0)
