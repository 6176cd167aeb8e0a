import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from skimage.measure import block_reduce  # noqa: E402

from course_utils.images.sampling import (  # noqa: E402
    alias_frequency,
    digitize,
    enlarge,
    expose_sensor_array,
    integrate_cells,
    quantization_levels,
    quantize,
    sample,
    show_digitized,
    show_exposure,
    storage_bytes,
    zone_plate,
)

RAMP = np.tile(np.arange(256, dtype=np.uint8), (4, 1))


def test_sample_keeps_every_step_th_pixel():
    image = np.arange(36).reshape(6, 6)
    np.testing.assert_array_equal(sample(image, 2), [[0, 2, 4], [12, 14, 16], [24, 26, 28]])
    assert sample(np.zeros((7, 5, 3)), 3).shape == (3, 2, 3)
    with pytest.raises(ValueError):
        sample(image, 0)


def test_integrate_cells_is_block_mean_and_drops_partial_cells():
    rng = np.random.default_rng(0)
    image = rng.random((9, 10, 3))
    out = integrate_cells(image, 3)
    assert out.shape == (3, 3, 3)
    np.testing.assert_allclose(out, block_reduce(image[:9, :9], (3, 3, 1), np.mean))
    with pytest.raises(ValueError):
        integrate_cells(np.zeros((2, 2)), 3)


def test_enlarge_repeats_pixels_and_crops():
    small = np.array([[1, 2], [3, 4]])
    np.testing.assert_array_equal(enlarge(small, 2), [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]])
    assert enlarge(small, 3, (5, 4)).shape == (5, 4)


def test_quantization_levels_span_black_to_white():
    for bits in range(1, 9):
        levels = quantization_levels(bits)
        assert len(levels) == 2**bits and levels[0] == 0 and levels[-1] == 255
        assert np.all(np.diff(levels.astype(int)) > 0)
    np.testing.assert_array_equal(quantization_levels(2), [0, 85, 170, 255])


def test_quantize_uses_the_top_bits():
    np.testing.assert_array_equal(quantize(RAMP, 8), RAMP)
    one_bit = quantize(RAMP, 1)
    assert set(np.unique(one_bit)) == {0, 255}
    assert one_bit[0, 127] == 0 and one_bit[0, 128] == 255
    two = quantize(RAMP, 2)
    np.testing.assert_array_equal(np.unique(two), [0, 85, 170, 255])
    assert two[0, 63] == 0 and two[0, 64] == 85
    # a ramp quantized to b bits has 2**b - 1 jumps: the false contours
    for bits in (1, 3, 5):
        assert np.count_nonzero(np.diff(quantize(RAMP, bits)[0].astype(int))) == 2**bits - 1
    with pytest.raises(TypeError):
        quantize(RAMP.astype(float), 4)
    with pytest.raises(ValueError):
        quantize(RAMP, 0)


def test_digitize_keeps_the_shape():
    image = np.random.default_rng(1).integers(0, 256, (37, 41), dtype=np.uint8)
    out = digitize(image, 4, 3)
    assert out.shape == image.shape and out.dtype == np.uint8
    assert len(np.unique(out)) <= 8
    np.testing.assert_array_equal(digitize(image, 1, 8), image)
    np.testing.assert_array_equal(out[::4, ::4], quantize(image[::4, ::4], 3))


def test_storage_bytes_matches_the_slide():
    assert storage_bytes(1024, 1024) == 2**20 == np.zeros((1024, 1024), np.uint8).nbytes
    assert storage_bytes(1024, 1024, channels=3) == 3 * 2**20
    assert storage_bytes(3, 3, bits_per_value=1) == 2  # 9 bits need 2 bytes
    with pytest.raises(ValueError):
        storage_bytes(0, 10)


def test_zone_plate_range_and_local_frequency():
    plate = zone_plate(256, 0.5)
    assert plate.shape == (256, 256) and 0 <= plate.min() and plate.max() <= 1
    # along the middle row the local frequency at the edge is about max_frequency
    row = plate[128]
    crossings = np.count_nonzero(np.diff(np.sign(row[-32:] - 0.5)))
    assert 26 <= crossings <= 32  # about 2 crossings per cycle, near 0.5 cycles/pixel


def test_alias_frequency_folds_above_nyquist():
    assert alias_frequency(0.1, 1) == pytest.approx(0.1)
    assert alias_frequency(0.4, 2) == pytest.approx(0.2)
    assert alias_frequency(0.25, 4) == pytest.approx(0.0)
    # check against the spectrum of a sampled sinusoid
    signal = np.cos(2 * np.pi * 0.37 * np.arange(4096))
    sampled = sample(signal[None, :], 3)[0]
    spectrum = np.abs(np.fft.rfft(sampled))
    peak = np.argmax(spectrum) / len(sampled)
    assert peak == pytest.approx(alias_frequency(0.37, 3), abs=2 / len(sampled))


def test_exposure_is_poisson_around_the_integral():
    scene = np.full((64, 64), 0.5)
    readout = expose_sensor_array(scene, 2, photons_at_white=25.0, rng=0)
    assert readout.shape == (32, 32)
    counts = readout * 25.0 * 4  # mean 50 photons per sensor
    assert counts.mean() == pytest.approx(50, rel=0.05)
    assert counts.var() == pytest.approx(50, rel=0.2)  # Poisson: variance = mean
    np.testing.assert_array_equal(readout, expose_sensor_array(scene, 2, 25.0, rng=0))
    bright = expose_sensor_array(scene, 2, 1e9, rng=1)
    np.testing.assert_allclose(bright, integrate_cells(scene, 2), atol=1e-3)
    with pytest.raises(ValueError):
        expose_sensor_array(scene, 2, 0.0)


def test_widget_figures():
    image = np.random.default_rng(2).integers(0, 256, (40, 50), dtype=np.uint8)
    fig = show_digitized(image, step=4, bits=2)
    titles = [ax.get_title() for ax in fig.get_axes()]
    assert titles[1] == "sampled: step 4 -> 10 x 13" and titles[2] == "quantized: 2 bits = 4 levels"
    plt.close(fig)
    fig = show_exposure(image / 255.0, cell=5, photons_at_white=4.0)
    assert "8 x 10 sensors" in fig.get_axes()[0].get_title()
    assert "100 photons" in fig.get_axes()[1].get_title()
    plt.close(fig)
