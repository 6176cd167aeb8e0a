import matplotlib

matplotlib.use("Agg")

import cv2  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402
from skimage.color import hsv2rgb, rgb2hsv  # noqa: E402

from course_utils.images.color import (  # noqa: E402
    BAYER_LAYOUTS,
    SLIDE_BAYER_LAYOUT,
    adjust_hsv,
    bayer_masks,
    bayer_notation,
    cmyk_to_rgb,
    demosaic_bilinear,
    demosaic_opencv,
    hsv_to_rgb,
    mosaic,
    mosaic_in_filter_colors,
    opencv_bayer_code,
    rgb_to_cmyk,
    rgb_to_hsv,
    show_demosaic_crop,
    show_hsv_adjustment,
    to_float,
)
from course_utils.images.pixels import psnr, unit_to_uint8  # noqa: E402

RNG = np.random.default_rng(0)
PIXELS = RNG.integers(0, 256, (32, 48, 3), dtype=np.uint8)
# include the special cases: black, white, grays and pure primaries/secondaries
PIXELS[0, :8] = [[0, 0, 0], [255, 255, 255], [128, 128, 128], [255, 0, 0],
                 [0, 255, 0], [0, 0, 255], [255, 255, 0], [0, 255, 255]]


def smooth_photo(height=64, width=80):
    y, x = np.mgrid[0:height, 0:width] / 16.0
    return unit_to_uint8(np.stack([0.5 + 0.4 * np.sin(x), 0.5 + 0.4 * np.cos(y), 0.5 + 0.3 * np.sin(x + y)], -1))


def test_float_conversions():
    assert to_float(np.array([0, 255], np.uint8)).tolist() == [0.0, 1.0]
    np.testing.assert_array_equal(unit_to_uint8(to_float(PIXELS)), PIXELS)
    with pytest.raises(TypeError):
        to_float(np.array([1, 2]))


def test_cmyk_of_known_colors_and_round_trip():
    named = rgb_to_cmyk(PIXELS[0, :8])
    np.testing.assert_allclose(named[0], [0, 0, 0, 1])  # black: K only
    np.testing.assert_allclose(named[1], [0, 0, 0, 0])  # white: no ink
    np.testing.assert_allclose(named[3], [0, 1, 1, 0])  # red = magenta + yellow
    np.testing.assert_allclose(named[7], [1, 0, 0, 0])  # cyan
    cmyk = rgb_to_cmyk(PIXELS)
    assert cmyk.shape == (32, 48, 4) and cmyk.min() >= 0 and cmyk.max() <= 1
    np.testing.assert_allclose(cmyk_to_rgb(cmyk), to_float(PIXELS), atol=1e-12)


def test_cmyk_without_black_matches_pillow():
    # Pillow converts without black generation: C = 1 - R, M = 1 - G, Y = 1 - B, K = 0.
    pillow = np.asarray(Image.fromarray(PIXELS).convert("CMYK"))
    np.testing.assert_array_equal(unit_to_uint8(rgb_to_cmyk(PIXELS, black=False)), pillow)
    np.testing.assert_allclose(cmyk_to_rgb(rgb_to_cmyk(PIXELS, black=False)), to_float(PIXELS))


def test_hsv_matches_scikit_image_and_opencv():
    ours = rgb_to_hsv(PIXELS)
    np.testing.assert_allclose(ours, rgb2hsv(PIXELS), atol=1e-12)
    cv = cv2.cvtColor(to_float(PIXELS).astype(np.float32), cv2.COLOR_RGB2HSV)
    hue_gap = np.abs(ours[..., 0] * 360 - cv[..., 0])
    assert np.minimum(hue_gap, 360 - hue_gap).max() < 1e-2  # OpenCV works in float32
    np.testing.assert_allclose(ours[..., 1:], cv[..., 1:], atol=1e-4)


def test_hsv_round_trip_and_inverse_matches_scikit_image():
    hsv = rgb_to_hsv(PIXELS)
    np.testing.assert_allclose(hsv_to_rgb(hsv), to_float(PIXELS), atol=1e-12)
    np.testing.assert_allclose(hsv_to_rgb(hsv), hsv2rgb(hsv), atol=1e-12)
    assert rgb_to_hsv(np.array([255, 0, 0], np.uint8)).tolist() == [0.0, 1.0, 1.0]
    np.testing.assert_allclose(rgb_to_hsv(np.array([0, 0, 255], np.uint8)), [2 / 3, 1, 1])


def test_adjust_hsv():
    np.testing.assert_array_equal(adjust_hsv(PIXELS), PIXELS)
    red = np.array([[[255, 0, 0]]], np.uint8)
    np.testing.assert_array_equal(adjust_hsv(red, hue_shift=120), [[[0, 255, 0]]])
    np.testing.assert_array_equal(adjust_hsv(red, saturation=0), [[[255, 255, 255]]])
    shifted = adjust_hsv(PIXELS, hue_shift=77)
    # a hue rotation keeps the value (the largest channel), up to rounding
    assert np.abs(shifted.max(-1).astype(int) - PIXELS.max(-1)).max() <= 1
    fig = show_hsv_adjustment(PIXELS, 30, 0.5, 1.2)
    assert fig.get_axes()[1].get_title() == "hue +30 deg, S x 0.50, V x 1.20"
    plt.close(fig)


def test_slide_bayer_layout_and_notation():
    assert SLIDE_BAYER_LAYOUT == "GRBG"
    assert bayer_notation() == [["rGb", "Rgb", "rGb", "Rgb"], ["rgB", "rGb", "rgB", "rGb"]] * 2
    masks = bayer_masks((4, 6))
    assert np.all(masks.sum(-1) == 1)  # one filter per site
    assert masks[..., 1].mean() == 0.5 and masks[..., 0].mean() == 0.25
    with pytest.raises(ValueError):
        bayer_masks((2, 2), "RGBG")


@pytest.mark.parametrize("layout", BAYER_LAYOUTS)
def test_mosaic_keeps_one_value_per_site(layout):
    raw = mosaic(PIXELS, layout)
    masks = bayer_masks(PIXELS.shape, layout)
    assert raw.shape == PIXELS.shape[:2] and raw.dtype == np.uint8
    np.testing.assert_array_equal(raw, PIXELS[masks].reshape(raw.shape))
    colored = mosaic_in_filter_colors(raw, layout)
    np.testing.assert_array_equal(colored.sum(-1), raw)


@pytest.mark.parametrize("layout", BAYER_LAYOUTS)
def test_bilinear_demosaic_keeps_measured_values_and_constants(layout):
    raw = mosaic(PIXELS, layout)
    out = demosaic_bilinear(raw, layout)
    masks = bayer_masks(raw.shape, layout)
    np.testing.assert_array_equal(out[masks], PIXELS[masks])
    flat = np.full((10, 12, 3), [10, 200, 90], np.uint8)
    np.testing.assert_array_equal(demosaic_bilinear(mosaic(flat, layout), layout), flat)


def test_bilinear_demosaic_averages_neighbours():
    raw = np.arange(36, dtype=np.float64).reshape(6, 6)
    out = demosaic_bilinear(raw, "GRBG")
    # (2, 2) is a G site in a G-R row: red from left/right, blue from above/below
    assert out[2, 2, 0] == (raw[2, 1] + raw[2, 3]) / 2
    assert out[2, 2, 2] == (raw[1, 2] + raw[3, 2]) / 2
    # (3, 2) is a B site: green from its 4 neighbours, red from its 4 diagonals
    assert out[3, 2, 1] == (raw[2, 2] + raw[4, 2] + raw[3, 1] + raw[3, 3]) / 4
    assert out[3, 2, 0] == (raw[2, 1] + raw[2, 3] + raw[4, 1] + raw[4, 3]) / 4


@pytest.mark.parametrize("layout", BAYER_LAYOUTS)
@pytest.mark.parametrize("method", ["bilinear", "vng", "edge_aware"])
def test_opencv_code_keeps_measured_values(layout, method):
    raw = mosaic(PIXELS, layout)
    out = demosaic_opencv(raw, layout, method)
    masks = bayer_masks(raw.shape, layout)
    inner = np.zeros(raw.shape, bool)
    inner[2:-2, 2:-2] = True
    for c in range(3):
        sites = masks[..., c] & inner
        np.testing.assert_array_equal(out[..., c][sites], raw[sites])
    assert opencv_bayer_code(layout, method) in {
        getattr(cv2, name) for name in dir(cv2) if name.startswith("COLOR_Bayer")
    }


def test_our_bilinear_equals_opencv_inside_the_border():
    photo = smooth_photo()
    raw = mosaic(photo)
    ours, theirs = demosaic_bilinear(raw), demosaic_opencv(raw)
    assert np.abs(ours.astype(int) - theirs)[1:-1, 1:-1].max() <= 1
    assert psnr(ours, photo) > 35


def test_demosaic_crop_figure():
    photo = smooth_photo()
    fig = show_demosaic_crop(photo, {"bilinear": demosaic_bilinear(mosaic(photo))}, 60, 70, size=16)
    titles = [ax.get_title() for ax in fig.get_axes()]
    assert titles[0] == "original [48:64, 64:80]" and titles[1].startswith("bilinear: ")
    plt.close(fig)
