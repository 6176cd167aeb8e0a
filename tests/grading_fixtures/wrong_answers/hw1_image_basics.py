"""Wrong answers for homework 1 (see the package docstring)."""

from grading_fixtures.wrong_answers import WrongAnswer

# -- the lessons' functions pasted where the task differs ------------------------------
LESSON_QUANTIZE = '''def dither_ordered(image, bits):
    """Lesson 01's quantization: keep the top bits, no threshold map."""
    if not 1 <= bits <= 8:
        raise ValueError("bits must be from 1 to 8")
    levels = np.asarray(image) >> (8 - bits)
    return np.round(levels.astype(float) * 255 / (2**bits - 1)).astype(np.uint8)
'''

LESSON_HSV = '''def rgb_to_hls(image):
    """Lesson 02's HSV, hue in degrees: value and HSV saturation, not lightness."""
    rgb = image.astype(float) / 255
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    v = rgb.max(axis=-1)
    c = v - rgb.min(axis=-1)
    s = np.divide(c, v, out=np.zeros_like(v), where=v > 0)
    safe_c = np.where(c > 0, c, 1.0)
    h = np.select([c == 0, v == r, v == g], [0.0, ((g - b) / safe_c) % 6, (b - r) / safe_c + 2],
                  default=(r - g) / safe_c + 4)
    return np.stack([60 * h, v, s], axis=-1)
'''

BILINEAR_GREEN = '''def green_mhc(raw):
    """Lesson 02's bilinear green: the mean of the four green neighbours, no correction."""
    raw = np.asarray(raw, dtype=np.float64)
    height, width = raw.shape
    p = np.pad(raw, 1, mode="reflect")
    cross = p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:]
    is_green = (np.arange(height)[:, None] + np.arange(width)[None, :]) % 2 == 0
    return np.where(is_green, raw, cross / 4)
'''

BILINEAR_DEMOSAIC = '''def demosaic_mhc(raw):
    """Lesson 02's bilinear demosaicing (convolution of each channel's samples)."""
    raw = np.asarray(raw, dtype=np.float64)
    height, width = raw.shape
    masks = np.zeros((height, width, 3))
    masks[0::2, 1::2, 0] = 1
    masks[0::2, 0::2, 1] = 1
    masks[1::2, 1::2, 1] = 1
    masks[1::2, 0::2, 2] = 1
    green = np.array([[0, 1, 0], [1, 4, 1], [0, 1, 0]]) / 4
    red_blue = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 4
    out = np.zeros((height, width, 3))
    for c, kernel in enumerate((red_blue, green, red_blue)):
        p = np.pad(raw * masks[..., c], 1, mode="reflect")
        for s in range(3):
            for t in range(3):
                out[..., c] += kernel[s, t] * p[s:s + height, t:t + width]
    return out
'''

LESSON_RESIZE = '''def resize_bicubic(image, out_height, out_width):
    """Lesson 03's resize_bicubic with a = -0.5: clamped border, no widening when shrinking."""
    image = np.asarray(image, dtype=np.float64)

    def positions(n_in, n_out):
        return (np.arange(n_out) + 0.5) * n_in / n_out - 0.5

    def at(rows, cols):
        return image[np.clip(rows, 0, image.shape[0] - 1), np.clip(cols, 0, image.shape[1] - 1)]

    def cubic(t, a=-0.5):
        t = np.abs(t)
        return np.where(t <= 1, (a + 2) * t**3 - (a + 3) * t**2 + 1,
                        np.where(t < 2, a * t**3 - 5 * a * t**2 + 8 * a * t - 4 * a, 0.0))

    y = positions(image.shape[0], out_height)[:, None]
    x = positions(image.shape[1], out_width)[None, :]
    y0, x0 = np.floor(y).astype(int), np.floor(x).astype(int)
    out = np.zeros((out_height, out_width))
    for m in (-1, 0, 1, 2):
        for n in (-1, 0, 1, 2):
            out += cubic(y - (y0 + m)) * cubic(x - (x0 + n)) * at(y0 + m, x0 + n)
    return out
'''

LESSON_EQUALIZE = '''def match_histogram(image, reference):
    """Lesson 03's equalization: the reference is ignored."""
    cdf = np.cumsum(np.bincount(image.ravel(), minlength=256))
    cdf_min = cdf[cdf > 0][0]
    lookup = np.round(255 * (cdf - cdf_min) / max(cdf[-1] - cdf_min, 1))
    return np.clip(lookup, 0, 255).astype(np.uint8)[image]
'''

# -- rows and columns swapped ------------------------------------------------------------
DITHER_TRANSPOSED = '''def dither_ordered(image, bits):
    """Indexes the threshold map as [x % 4, y % 4]."""
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or not 1 <= bits <= 8:
        raise ValueError(f"bits must be an integer from 1 to 8, got {bits!r}")
    image = np.asarray(image)
    height, width = image.shape[:2]
    step = 255 / (2**bits - 1)
    threshold = (BAYER_4X4[np.arange(width)[None, :] % 4, np.arange(height)[:, None] % 4] + 0.5) / 16
    if image.ndim == 3:
        threshold = threshold[..., None]
    level = np.clip(np.floor(image / step + threshold), 0, 2**bits - 1)
    return np.round(level * step).astype(np.uint8)
'''


def _demosaic(pad_mode: str = "reflect", row: str = "MHC_ALONG_ROW", column: str = "MHC_ALONG_COLUMN",
              finish: str = "out") -> str:  # fmt: skip
    return f'''def demosaic_mhc(raw):
    raw = np.asarray(raw, dtype=np.float64)
    height, width = raw.shape
    p = np.pad(raw, 2, mode="{pad_mode}")

    def filtered(kernel):
        return sum(kernel[dy, dx] * p[dy:dy + height, dx:dx + width] for dy in range(5) for dx in range(5)) / 8

    along_row, along_column, opposite = filtered({row}), filtered({column}), filtered(MHC_OPPOSITE)
    y, x = np.arange(height)[:, None] % 2, np.arange(width)[None, :] % 2
    red = np.select([(y == 0) & (x == 1), (y == 0) & (x == 0), (y == 1) & (x == 1)], [raw, along_row, along_column],
                    opposite)
    blue = np.select([(y == 1) & (x == 0), (y == 1) & (x == 1), (y == 0) & (x == 0)], [raw, along_row, along_column],
                     opposite)
    out = np.stack([red, green_mhc(raw), blue], axis=-1)
    return {finish}
'''


# -- the border: zero padding, repeated edges, weights not renormalised ------------------
GREEN_ZERO_PADDING = '''def green_mhc(raw):
    """Pads with zeros, which breaks the Bayer pattern and darkens the border."""
    raw = np.asarray(raw, dtype=np.float64)
    height, width = raw.shape
    p = np.pad(raw, 2)

    def at(dy, dx):
        return p[2 + dy:2 + dy + height, 2 + dx:2 + dx + width]

    estimate = (4 * raw + 2 * (at(-1, 0) + at(1, 0) + at(0, -1) + at(0, 1))
                - (at(-2, 0) + at(2, 0) + at(0, -2) + at(0, 2))) / 8
    is_green = (np.arange(height)[:, None] + np.arange(width)[None, :]) % 2 == 0
    return np.where(is_green, raw, estimate)
'''


def _resize(normalise: bool = True, widen: str = "max(scale, 1.0)", a: float = -0.5) -> str:
    divide = "w / w.sum()" if normalise else "w"
    return f'''def resize_bicubic(image, out_height, out_width):
    image = np.asarray(image, dtype=np.float64)

    def cubic(t, a={a}):
        t = np.abs(t)
        return np.where(t <= 1, (a + 2) * t**3 - (a + 3) * t**2 + 1,
                        np.where(t < 2, a * t**3 - 5 * a * t**2 + 8 * a * t - 4 * a, 0.0))

    def weights(n_in, n_out):
        scale = n_in / n_out
        widen = {widen}
        matrix = np.zeros((n_out, n_in))
        for j in range(n_out):
            center = (j + 0.5) * scale
            first = max(int(np.floor(center - 2 * widen + 0.5)), 0)
            stop = min(int(np.floor(center + 2 * widen + 0.5)), n_in)
            w = cubic((np.arange(first, stop) + 0.5 - center) / widen)
            matrix[j, first:stop] = {divide}
        return matrix

    return weights(image.shape[0], out_height) @ image @ weights(image.shape[1], out_width).T
'''


# -- saturation, cdf ---------------------------------------------------------------------
HLS_HSV_SATURATION = '''def rgb_to_hls(image):
    """Lightness right, but HSV's saturation d / M."""
    rgb = np.asarray(image, dtype=np.float64) / 255.0
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    big, small = rgb.max(axis=-1), rgb.min(axis=-1)
    d = big - small
    safe_d = np.where(d > 0, d, 1.0)
    hue = np.where(big == r, ((g - b) / safe_d) % 6, np.where(big == g, (b - r) / safe_d + 2, (r - g) / safe_d + 4))
    hue = np.where(d > 0, 60.0 * hue, 0.0)
    saturation = np.where(big > 0, d / np.where(big > 0, big, 1.0), 0.0)
    return np.stack([hue, (big + small) / 2, saturation], axis=-1)
'''


def _match(compare: str) -> str:
    return f'''def match_histogram(image, reference):
    counts = np.cumsum(np.bincount(image.ravel(), minlength=256))
    counts_ref = np.cumsum(np.bincount(reference.ravel(), minlength=256))
    total, total_ref = image.size, reference.size
    mapping = np.array([np.argmax({compare}) if counts_ref[-1] else 0 for c in counts])
    return mapping.astype(np.uint8)[image]
'''


MATCH_COUNTS = _match("counts_ref >= c")  # counts, not fractions: right only for equal sizes
MATCH_STRICT = _match("counts_ref * total > c * total_ref")  # the first level that exceeds, not reaches

WRONG_ANSWERS = [
    WrongAnswer(
        "lesson_functions", "a lesson's function pasted where the task differs",
        {"dither_ordered": LESSON_QUANTIZE, "rgb_to_hls": LESSON_HSV, "green_mhc": BILINEAR_GREEN,
         "demosaic_mhc": BILINEAR_DEMOSAIC, "resize_bicubic": LESSON_RESIZE, "match_histogram": LESSON_EQUALIZE},
        frozenset({"test_dither_ordered", "test_dither_ordered_hidden", "test_rgb_to_hls", "test_rgb_to_hls_hidden",
                   "test_green_mhc", "test_green_mhc_hidden", "test_demosaic_mhc", "test_demosaic_mhc_hidden",
                   "test_resize_bicubic", "test_resize_bicubic_hidden", "test_match_histogram",
                   "test_match_histogram_hidden"}),
    ),
    WrongAnswer(
        "transposed", "rows and columns swapped",
        {"dither_ordered": DITHER_TRANSPOSED,
         "demosaic_mhc": _demosaic(row="MHC_ALONG_COLUMN", column="MHC_ALONG_ROW")},
        frozenset({"test_dither_ordered", "test_dither_ordered_hidden", "test_demosaic_mhc",
                   "test_demosaic_mhc_hidden"}),
    ),
    WrongAnswer(
        "wrong_border", "the border handled the wrong way",
        {"green_mhc": GREEN_ZERO_PADDING, "demosaic_mhc": _demosaic(pad_mode="symmetric"),
         "resize_bicubic": _resize(normalise=False)},
        frozenset({"test_green_mhc", "test_green_mhc_hidden", "test_demosaic_mhc", "test_demosaic_mhc_hidden",
                   "test_resize_bicubic", "test_resize_bicubic_hidden"}),
    ),
    WrongAnswer("hsv_saturation", "HSV's saturation in place of HLS's", {"rgb_to_hls": HLS_HSV_SATURATION},
                frozenset({"test_rgb_to_hls", "test_rgb_to_hls_hidden"})),
    WrongAnswer("not_widened", "the kernel is not widened when shrinking", {"resize_bicubic": _resize(widen="1.0")},
                frozenset({"test_resize_bicubic", "test_resize_bicubic_hidden"})),
    WrongAnswer("clipped", "the demosaiced values are clipped to 0..255",
                {"demosaic_mhc": _demosaic(finish="np.clip(out, 0, 255)")}, frozenset({"test_demosaic_mhc_hidden"})),
    WrongAnswer("counts_not_fractions", "compares counts, not fractions", {"match_histogram": MATCH_COUNTS},
                frozenset({"test_match_histogram_hidden"})),
    WrongAnswer("strict_cdf", "the first level whose cdf exceeds, not reaches", {"match_histogram": MATCH_STRICT},
                frozenset({"test_match_histogram", "test_match_histogram_hidden"})),
]
