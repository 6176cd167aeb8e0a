"""Wrong answers for homework 1 (see the package docstring)."""

from grading_fixtures.wrong_answers import WrongAnswer

QUANTIZE_FLOOR = '''import numpy as np


def quantize(image, bits):
    """Integer division instead of rounding to the nearest level."""
    if not 1 <= bits <= 8:
        raise ValueError("bits must be from 1 to 8")
    q = np.asarray(image, dtype=np.uint8) >> (8 - bits)
    return (q * (255 // (2**bits - 1))).astype(np.uint8)
'''

WRONG_ANSWERS = [
    WrongAnswer("quantize_floor", "truncates instead of rounding to the nearest level", {"quantize": QUANTIZE_FLOOR},
                frozenset({"test_quantize_hidden"})),
]
