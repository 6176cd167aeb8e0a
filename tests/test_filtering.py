import cv2
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import StepPatch  # noqa: E402
from scipy import ndimage  # noqa: E402
from skimage import exposure, filters  # noqa: E402

from course_utils.images import filtering as F  # noqa: E402
from course_utils.images.pixels import round_to_uint8  # noqa: E402

CV2_RESIZE = {"nearest": cv2.INTER_NEAREST_EXACT, "bilinear": cv2.INTER_LINEAR, "bicubic": cv2.INTER_CUBIC}
CV2_BORDER = {
    "reflect101": cv2.BORDER_REFLECT_101,
    "reflect": cv2.BORDER_REFLECT,
    "replicate": cv2.BORDER_REPLICATE,
    "zero": cv2.BORDER_CONSTANT,
}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def image() -> np.ndarray:
    rng = np.random.default_rng(0)
    smooth = ndimage.gaussian_filter(rng.uniform(0, 255, (40, 56)), 2)
    return np.clip((smooth - smooth.min()) * 255 / np.ptp(smooth), 0, 255).astype(np.uint8)


def test_cubic_weight_is_an_interpolating_kernel():
    assert F.cubic_weight(0.0) == 1.0
    np.testing.assert_allclose(F.cubic_weight(np.array([1.0, 2.0, -1.0, 2.5])), 0.0)
    t = np.linspace(0, 1, 11)
    taps = sum(F.cubic_weight(t - k) for k in (-1, 0, 1, 2))
    np.testing.assert_allclose(taps, 1.0)


@pytest.mark.parametrize("method", F.RESIZE_METHODS)
@pytest.mark.parametrize("size", [(80, 112), (20, 28), (57, 91), (31, 40)])
def test_resize_matches_opencv_on_float_images(image, method, size):
    ours = F.resize(image, size, method=method)
    theirs = cv2.resize(image.astype(np.float32), size[::-1], interpolation=CV2_RESIZE[method])
    if method == "nearest":
        # OpenCV's 16-bit fixed-point arithmetic may break ties (a source position exactly
        # halfway between two pixels) the other way; everywhere else the pick is the same.
        def tie(n_in, n_out):
            return ((np.arange(n_out) + 0.5) * n_in / n_out) % 1 == 0
        rows, cols = np.meshgrid(tie(40, size[0]), tie(56, size[1]), indexing="ij")
        assert np.all((ours == theirs) | rows | cols)
    else:
        np.testing.assert_allclose(ours, theirs, atol=1e-3)


def test_resize_by_scale_handles_color_and_keeps_constants():
    color = np.dstack([np.full((10, 12), v, np.uint8) for v in (10, 120, 250)])
    for method in F.RESIZE_METHODS:
        out = F.resize(color, scale=2.5, method=method)
        assert out.shape == (25, 30, 3)
        np.testing.assert_allclose(out[0, 0], [10, 120, 250])
    with pytest.raises(ValueError):
        F.resize(color)
    with pytest.raises(ValueError):
        F.resize(color, (5, 5), method="lanczos")


def test_nearest_half_size_picks_every_second_pixel():
    image = np.arange(64, dtype=float).reshape(8, 8)
    np.testing.assert_array_equal(F.resize(image, (4, 4), method="nearest"), image[1::2, 1::2])


@pytest.mark.parametrize("border", F.BORDERS)
def test_correlate_matches_opencv_and_scipy(image, border):
    kernel = np.array([[1.0, 2.0, -1.0], [0.0, 3.0, -4.0], [5.0, 0.0, 1.0], [2.0, -2.0, 0.5], [0, 1, 0]])
    ours = F.correlate(image, kernel, border)
    theirs = cv2.filter2D(image.astype(np.float32), cv2.CV_32F, kernel.astype(np.float32), borderType=CV2_BORDER[border])
    np.testing.assert_allclose(ours, theirs, atol=1e-3)
    mode = {"reflect101": "mirror", "reflect": "reflect", "replicate": "nearest", "zero": "constant"}[border]
    np.testing.assert_allclose(F.convolve(image, kernel, border), ndimage.convolve(image.astype(float), kernel, mode=mode))


def test_correlate_is_the_lecture_formula_on_a_small_example():
    image = np.arange(25, dtype=float).reshape(5, 5)
    kernel = np.arange(9, dtype=float).reshape(3, 3)
    out = F.correlate(image, kernel, "zero")
    # centre pixel: sum over s, t of w[s, t] * i[2 + s, 2 + t]
    assert out[2, 2] == sum(kernel[s + 1, t + 1] * image[2 + s, 2 + t] for s in (-1, 0, 1) for t in (-1, 0, 1))
    with pytest.raises(ValueError):
        F.correlate(image, np.ones((2, 2)))
    with pytest.raises(ValueError):
        F.correlate(image, kernel, "wrap")


def test_kernels_are_normalized_and_match_opencv():
    np.testing.assert_allclose(F.box_kernel(5).sum(), 1.0)
    for size, sigma in ((3, 0.5), (7, 1.2), (15, 3.0)):
        g = F.gaussian_kernel_1d(size, sigma)
        np.testing.assert_allclose(g, cv2.getGaussianKernel(size, sigma).ravel(), atol=1e-12)
        np.testing.assert_allclose(F.gaussian_kernel(size, sigma), np.outer(g, g))
    assert F.gaussian_size(1.0) == 7 and F.gaussian_size(1.0, truncate=4) == 9
    for bad in (lambda: F.box_kernel(4), lambda: F.gaussian_kernel(5, 0), lambda: F.gaussian_kernel_1d(0, 1)):
        with pytest.raises(ValueError):
            bad()


def test_smooth_matches_opencv(image):
    f32 = image.astype(np.float32)
    np.testing.assert_allclose(F.smooth(image, "box", 5), cv2.blur(f32, (5, 5)), atol=1e-3)
    np.testing.assert_allclose(F.smooth(image, "gaussian", 7, 1.5), cv2.GaussianBlur(f32, (7, 7), 1.5), atol=1e-3)
    with pytest.raises(ValueError):
        F.smooth(image, "median")
    with pytest.raises(ValueError):
        F.smooth(image, "box", 4)


@pytest.mark.parametrize("border", F.BORDERS)
def test_separable_smoothing_equals_the_2d_kernel(image, border):
    np.testing.assert_allclose(F.smooth(image, "box", 7, border=border), F.correlate(image, F.box_kernel(7), border), atol=1e-9)
    np.testing.assert_allclose(
        F.smooth(image, "gaussian", 9, 1.7, border), F.correlate(image, F.gaussian_kernel(9, 1.7), border), atol=1e-9
    )


def test_unsharp_mask_matches_scikit_image(image):
    sigma, amount = 1.5, 2.0
    ours = F.unsharp_mask(image, sigma, amount, size=2 * int(4 * sigma + 0.5) + 1, border="reflect")
    theirs = filters.unsharp_mask(image.astype(float), radius=sigma, amount=amount, preserve_range=True)
    np.testing.assert_allclose(ours, theirs, atol=1e-9)


def test_laplacian_matches_opencv_and_sharpening_adds_it(image):
    f32 = image.astype(np.float32)
    np.testing.assert_allclose(F.laplacian(image), cv2.Laplacian(f32, cv2.CV_32F, ksize=1), atol=1e-3)
    np.testing.assert_allclose(F.laplacian_sharpen(image, 0.5), image - 0.5 * F.laplacian(image))
    ramp = np.add.outer(np.arange(9.0), 2 * np.arange(9.0))
    np.testing.assert_allclose(F.laplacian(ramp)[1:-1, 1:-1], 0.0)  # linear ramps are not edges
    np.testing.assert_allclose(F.sharpen(image, "laplacian", 1.0), F.laplacian_sharpen(image, 1.0))
    np.testing.assert_allclose(F.sharpen(image, "unsharp", 1.0, 2.0), F.unsharp_mask(image, 2.0, 1.0))
    with pytest.raises(ValueError):
        F.sharpen(image, "magic")


def test_sharpening_with_zero_amount_changes_nothing(image):
    np.testing.assert_allclose(F.unsharp_mask(image, 1.0, 0.0), image)
    np.testing.assert_allclose(F.laplacian_sharpen(image, 0.0), image)


def test_histogram_counts_every_level(image):
    counts = F.histogram(image)
    assert counts.shape == (256,) and counts.sum() == image.size
    np.testing.assert_array_equal(counts, cv2.calcHist([image], [0], None, [256], [0, 256]).ravel())
    with pytest.raises(TypeError):
        F.histogram(image.astype(float))


def test_stretch_contrast_matches_rescale_intensity(image):
    low_contrast = (image // 4 + 100).astype(np.uint8)
    lo, hi = np.percentile(low_contrast, [5, 95])
    ours = F.stretch_contrast(low_contrast, 5, 95)
    theirs = exposure.rescale_intensity(low_contrast.astype(float), in_range=(lo, hi), out_range=(0, 255))
    np.testing.assert_allclose(ours, theirs)
    full = F.stretch_contrast(low_contrast, 0, 100)
    assert full.min() == 0 and full.max() == 255
    np.testing.assert_allclose(F.stretch_contrast(np.full((3, 3), 7, np.uint8)), 7)
    with pytest.raises(ValueError):
        F.stretch_contrast(image, 60, 40)


def test_equalize_matches_opencv_and_flattens_the_histogram(image):
    low_contrast = (image // 4 + 100).astype(np.uint8)
    out = F.equalize(low_contrast)
    np.testing.assert_array_equal(out, cv2.equalizeHist(low_contrast))
    assert out.min() == 0 and out.max() == 255
    cdf = np.cumsum(F.histogram(out)) / out.size
    assert np.abs(cdf - np.arange(1, 257) / 256).max() < 0.1
    lut = F.equalization_lut(low_contrast)
    assert np.all(np.diff(lut.astype(int)) >= 0)  # monotone: order of intensities is kept
    constant = np.full((4, 4), 9, np.uint8)
    np.testing.assert_array_equal(F.equalize(constant), constant)


def test_equalize_relates_to_scikit_image(image):
    # scikit-image maps level v to cdf(v) in [0, 1]; OpenCV's formula removes cdf_min first.
    cdf = np.cumsum(F.histogram(image)) / image.size
    cdf_min = cdf[cdf > 0][0]
    predicted = 255 * (exposure.equalize_hist(image) - cdf_min) / (1 - cdf_min)
    assert np.abs(predicted - F.equalize(image)).max() <= 0.5 + 1e-9


def test_enhance_contrast_dispatches(image):
    np.testing.assert_array_equal(F.enhance_contrast(image, "equalize"), F.equalize(image))
    np.testing.assert_array_equal(F.enhance_contrast(image, "stretch", 1, 99), round_to_uint8(F.stretch_contrast(image, 1, 99)))
    with pytest.raises(ValueError):
        F.enhance_contrast(image, "gamma")


def test_scaling_panel_shows_the_resized_image(image):
    fig = F.scaling_panel(image, 1.5, "bicubic")
    axes = fig.get_axes()
    assert len(axes) == 2 and "60x84" in axes[1].get_title()
    np.testing.assert_array_equal(axes[1].images[0].get_array(), round_to_uint8(F.resize(image, scale=1.5, method="bicubic")))


@pytest.mark.parametrize("method", ["box", "gaussian"])
def test_smoothing_panel_shows_image_and_kernel(image, method):
    fig = F.smoothing_panel(image, method, 7, 2.0)
    axes = fig.get_axes()
    assert axes[1].get_title().startswith("box" if method == "box" else "Gaussian")
    assert axes[2].images[0].get_array().shape == (7, 7)
    np.testing.assert_array_equal(axes[1].images[0].get_array(), round_to_uint8(F.smooth(image, method, 7, 2.0)))


@pytest.mark.parametrize("method", ["unsharp", "laplacian"])
def test_sharpening_panel_shows_the_added_detail(image, method):
    fig = F.sharpening_panel(image, method, 1.5, 1.0)
    axes = fig.get_axes()
    assert [ax.get_title() for ax in axes] == ["input", f"{method}, amount=1.5", "added detail (red +, blue -)"]
    detail = F.sharpen(image, method, 1.5, 1.0) - image
    np.testing.assert_allclose(axes[2].images[0].get_array(), detail)


@pytest.mark.parametrize("method", ["stretch", "equalize"])
def test_contrast_panel_draws_histograms_before_and_after(image, method):
    fig = F.contrast_panel(image, method, 5, 95)
    axes = fig.get_axes()
    assert len(axes) == 6  # two images, two histograms, two cumulative curves
    histograms = [patch for ax in axes for patch in ax.patches if isinstance(patch, StepPatch)]
    assert len(histograms) == 2
    after = histograms[1].get_data().values
    np.testing.assert_array_equal(after, F.histogram(F.enhance_contrast(image, method, 5, 95)))


def test_side_by_side_keeps_the_intensity_scale():
    dark = np.full((4, 4), 10, np.uint8)
    dark[0, 0] = 20
    fig = F.side_by_side({"dark": dark, "color": np.zeros((4, 4, 3), np.uint8)})
    axes = fig.get_axes()
    assert [ax.get_title() for ax in axes] == ["dark", "color"]
    assert axes[0].images[0].get_clim() == (0, 255)  # not stretched to 10..20
