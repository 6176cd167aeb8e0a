"""Real photographs bundled with scikit-image, available offline by name."""

from __future__ import annotations

import numpy as np
from skimage import data as skdata

# Photographs that ship inside the scikit-image wheel (no download needed).
PHOTOS = {
    "astronaut": "Eileen Collins, NASA astronaut (RGB, 512 x 512)",
    "camera": "a photographer with a camera (grayscale, 512 x 512)",
    "chelsea": "Chelsea the cat (RGB, 300 x 451)",
    "coffee": "a cup of coffee (RGB, 400 x 600)",
    "coins": "Greek coins (grayscale, 303 x 384)",
    "horse": "a horse silhouette (binary, 328 x 400)",
    "moon": "the lunar surface (grayscale, 512 x 512)",
    "page": "a scanned page of text (grayscale, 191 x 384)",
    "rocket": "a rocket on its launch pad (RGB, 427 x 640)",
    "text": "text on a photographed sign (grayscale, 172 x 448)",
    "hubble_deep_field": "Hubble deep field (RGB, 872 x 1000)",
    "immunohistochemistry": "stained tissue under a microscope (RGB, 512 x 512)",
    "brick": "a brick wall texture (grayscale, 512 x 512)",
    "grass": "a grass texture (grayscale, 512 x 512)",
    "gravel": "a gravel texture (grayscale, 512 x 512)",
}


def load_photo(name: str) -> np.ndarray:
    """Return the scikit-image photograph ``name`` as a uint8 (or bool) array."""
    if name not in PHOTOS:
        raise ValueError(f"Unknown photo {name!r}; choose one of: {', '.join(sorted(PHOTOS))}.")
    return getattr(skdata, name)()
