import matplotlib

matplotlib.use("Agg")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_utils.convnets.kernels import KERNELS, filter_image, show_filter  # noqa: E402


def test_filter_image_matches_opencv_for_every_kernel():
    image = np.random.default_rng(0).random((20, 17))
    for name, kernel in KERNELS.items():
        expected = cv2.filter2D(image, cv2.CV_64F, kernel, borderType=cv2.BORDER_CONSTANT)
        np.testing.assert_allclose(filter_image(image, kernel), expected, atol=1e-12, err_msg=name)


def test_filter_image_filters_colour_channels_separately():
    image = np.random.default_rng(1).random((9, 8, 3))
    out = filter_image(image, KERNELS["sharpen"])
    assert out.shape == image.shape
    for c in range(3):
        np.testing.assert_allclose(out[..., c], filter_image(image[..., c], KERNELS["sharpen"]))


def test_identity_and_blur_behave():
    image = np.random.default_rng(2).random((10, 10))
    np.testing.assert_allclose(filter_image(image, KERNELS["identity"]), image)
    for name in ("box blur", "gaussian blur"):
        assert KERNELS[name].sum() == pytest.approx(1.0)
    with pytest.raises(ValueError):
        filter_image(image, np.ones((2, 2)))


def test_show_filter_draws_three_panels():
    image = (np.random.default_rng(3).random((16, 16)) * 255).astype(np.uint8)
    fig = show_filter(image, "sobel y")
    assert len(fig.axes) == 3 and "sobel y" in fig.axes[1].get_title()
    colour = np.random.default_rng(4).random((8, 8, 3))
    assert len(show_filter(colour, "laplacian").axes) == 3
    with pytest.raises(ValueError):
        show_filter(image, "emboss")
