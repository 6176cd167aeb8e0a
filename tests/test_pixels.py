import numpy as np
import pytest
from skimage.metrics import mean_squared_error, peak_signal_noise_ratio

from course_utils.images.pixels import mse, psnr, round_to_uint8, unit_to_uint8


def test_unit_to_uint8_scales_rounds_and_clips():
    out = unit_to_uint8(np.array([-0.5, 0.0, 0.5, 1.0, 2.0]))
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, [0, 0, 128, 255, 255])  # 127.5 rounds half to even


def test_round_to_uint8_does_not_scale():
    np.testing.assert_array_equal(round_to_uint8(np.array([0.4, 0.6, 1.0, 254.5, 300.0])), [0, 1, 1, 254, 255])


def test_mse_and_psnr_match_scikit_image():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-9, 10, a.shape), 0, 255).astype(np.uint8)
    assert mse(a, b) == pytest.approx(mean_squared_error(a, b))
    assert psnr(b, a) == pytest.approx(peak_signal_noise_ratio(a, b, data_range=255))
    assert psnr(a, a) == float("inf")
    assert psnr(np.zeros(4), np.full(4, 0.1), data_range=1.0) == pytest.approx(20.0)


def test_mse_refuses_different_shapes():
    with pytest.raises(ValueError, match="shapes differ"):
        mse(np.zeros((2, 2)), np.zeros((2, 3)))
