"""Classic, hand-designed vision: Hough lines, keypoint matching with RANSAC, HOG features.

The notebook of lesson 12 writes the key steps out by hand (the line accumulator,
nearest-neighbour matching, RANSAC, HOG); the functions here are the library-backed
versions that its interactive controls and comparisons call, and a real stereo pair
with ground-truth disparities to check matches against.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import cv2
import matplotlib.pyplot as plt
import numpy as np
from skimage import data as skdata
from skimage.feature import canny, hog
from skimage.transform import hough_line, hough_line_peaks

from ..core.photos import load_photo


def gray_photo(name: str) -> np.ndarray:
    """A bundled photograph as a uint8 grayscale image."""
    image = load_photo(name)
    if image.dtype == bool:
        image = image.astype(np.uint8) * 255
    if image.ndim == 3:
        image = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
    return image


def stereo_pair() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The Middlebury "motorcycle" stereo pair bundled with scikit-image (Scharstein et al. 2014).

    Returns the left and right views as uint8 grayscale images (500 x 741) and the
    ground-truth disparity map of the left view: the point at ``(x, y)`` on the left
    appears at ``(x - d, y)`` on the right; ``inf`` where the disparity is unknown.
    """
    left, right, disparity = skdata.stereo_motorcycle()
    gray = [cv2.cvtColor(np.ascontiguousarray(view), cv2.COLOR_RGB2GRAY) for view in (left, right)]
    return gray[0], gray[1], disparity


def disparity_check(
    points1: np.ndarray, points2: np.ndarray, disparity: np.ndarray, tolerance: float = 2.0
) -> tuple[np.ndarray, np.ndarray]:
    """Which left-to-right matches agree with the ground-truth ``disparity`` map.

    Returns ``(correct, known)``: ``known`` where the map has a disparity at the left
    point, ``correct`` where the right point lies within ``tolerance`` pixels of
    ``(x - d, y)`` (never true where the disparity is unknown).
    """
    points1, points2 = np.asarray(points1, dtype=float), np.asarray(points2, dtype=float)
    h, w = disparity.shape
    cols = np.clip(np.round(points1[:, 0]).astype(int), 0, w - 1)
    rows = np.clip(np.round(points1[:, 1]).astype(int), 0, h - 1)
    d = disparity[rows, cols].astype(float)
    known = np.isfinite(d)
    expected = np.c_[points1[:, 0] - np.where(known, d, 0.0), points1[:, 1]]
    correct = known & (np.abs(points2 - expected) < tolerance).all(axis=1)
    return correct, known


@dataclass
class HoughLines:
    """Edges, accumulator and the strongest lines ``x cos(theta) + y sin(theta) = rho``."""

    edges: np.ndarray
    accumulator: np.ndarray
    thetas: np.ndarray
    rhos: np.ndarray
    peak_votes: np.ndarray
    peak_thetas: np.ndarray
    peak_rhos: np.ndarray


def find_lines(image: np.ndarray, sigma: float = 2.0, num_lines: int = 8) -> HoughLines:
    """Canny edges, scikit-image's Hough accumulator (180 angles) and its ``num_lines`` peaks."""
    edges = canny(image.astype(float) / 255.0, sigma=sigma)
    accumulator, thetas, rhos = hough_line(edges)
    votes, peak_thetas, peak_rhos = hough_line_peaks(
        accumulator, thetas, rhos, num_peaks=num_lines
    )
    return HoughLines(edges, accumulator, thetas, rhos, votes, peak_thetas, peak_rhos)


def draw_lines(ax: plt.Axes, thetas: np.ndarray, rhos: np.ndarray, shape: tuple[int, ...]) -> None:
    """Draw lines given by (theta, rho) across an image of ``shape`` on ``ax``."""
    for theta, rho in zip(thetas, rhos, strict=True):
        x0, y0 = rho * np.cos(theta), rho * np.sin(theta)
        ax.axline((x0, y0), (x0 - np.sin(theta), y0 + np.cos(theta)), color="red", lw=1.2)
    ax.set_xlim(0, shape[1])
    ax.set_ylim(shape[0], 0)


def plot_hough_lines(photo: str = "camera", sigma: float = 2.0, num_lines: int = 8) -> plt.Figure:
    """Photo with its strongest Hough lines, the edge image, and the accumulator."""
    image = gray_photo(photo)
    found = find_lines(image, sigma, num_lines)
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    axes[0].imshow(image, cmap="gray")
    draw_lines(axes[0], found.peak_thetas, found.peak_rhos, image.shape)
    axes[0].set_title(f"{photo}: {len(found.peak_rhos)} strongest lines")
    axes[1].imshow(found.edges, cmap="gray")
    axes[1].set_title(f"Canny edges (sigma = {sigma:g}), {int(found.edges.sum()):,} pixels")
    for ax in axes[:2]:
        ax.axis("off")
    extent = [np.rad2deg(found.thetas[0]), np.rad2deg(found.thetas[-1]), found.rhos[-1], found.rhos[0]]
    axes[2].imshow(np.log1p(found.accumulator), cmap="magma", extent=extent, aspect="auto")
    axes[2].scatter(np.rad2deg(found.peak_thetas), found.peak_rhos, s=40, facecolors="none",
                    edgecolors="cyan")  # fmt: skip
    axes[2].set(xlabel="theta (degrees)", ylabel="rho (pixels)", title="accumulator (log of votes)")
    fig.tight_layout()
    return fig


def view_homography(
    shape: tuple[int, int], angle: float = 15.0, scale: float = 0.9, tilt: float = 2e-4
) -> np.ndarray:
    """A homography that rotates by ``angle`` degrees and scales about the image centre,
    then adds a perspective tilt (``tilt`` in 1/pixels): a second camera view of a plane."""
    h, w = shape[:2]
    centre = np.array([[1, 0, w / 2], [0, 1, h / 2], [0, 0, 1]], dtype=float)
    uncentre = np.linalg.inv(centre)
    a = np.deg2rad(angle)
    rotate_scale = np.array(
        [[scale * np.cos(a), -scale * np.sin(a), 0], [scale * np.sin(a), scale * np.cos(a), 0], [0, 0, 1]]
    )
    perspective = np.array([[1, 0, 0], [0, 1, 0], [tilt, 0.5 * tilt, 1]])
    H = centre @ perspective @ rotate_scale @ uncentre
    return H / H[2, 2]


def warp(image: np.ndarray, H: np.ndarray) -> np.ndarray:
    """The image seen through homography ``H`` (same size, black outside)."""
    return cv2.warpPerspective(image, H, (image.shape[1], image.shape[0]))


def project(H: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply homography ``H`` to N x 2 points (homogeneous coordinates, then divide)."""
    points = np.asarray(points, dtype=float)
    homogeneous = np.c_[points, np.ones(len(points))] @ H.T
    return homogeneous[:, :2] / homogeneous[:, 2:]


def corner_error(H_estimated: np.ndarray, H_true: np.ndarray, shape: tuple[int, ...]) -> float:
    """Mean distance in pixels between the image corners mapped by the two homographies."""
    h, w = shape[:2]
    corners = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], dtype=float)
    return float(np.linalg.norm(project(H_estimated, corners) - project(H_true, corners), axis=1).mean())


@dataclass
class MatchResult:
    """Keypoints of two images, their ratio-test matches and the RANSAC fit.

    ``homography`` is set when the geometric model was a homography (a flat scene),
    ``fundamental`` when it was the fundamental matrix (any static scene).
    """

    method: str
    keypoints1: list
    keypoints2: list
    points1: np.ndarray
    points2: np.ndarray
    homography: np.ndarray | None
    inliers: np.ndarray
    seconds: float
    fundamental: np.ndarray | None = None

    @property
    def inlier_ratio(self) -> float:
        return float(self.inliers.mean()) if len(self.inliers) else 0.0

    def reprojection_error(self) -> float:
        """Mean distance between projected and matched points, over the RANSAC inliers."""
        if self.homography is None or not self.inliers.any():
            return float("inf")
        errors = np.linalg.norm(
            project(self.homography, self.points1[self.inliers]) - self.points2[self.inliers], axis=1
        )
        return float(errors.mean())


def detector(method: str, features: int = 1000) -> tuple[cv2.Feature2D, int]:
    """OpenCV's SIFT or ORB detector-descriptor and the norm its descriptors are compared with."""
    if method == "SIFT":
        return cv2.SIFT_create(nfeatures=features), cv2.NORM_L2
    if method == "ORB":
        return cv2.ORB_create(nfeatures=features), cv2.NORM_HAMMING
    raise ValueError(f"method must be 'SIFT' or 'ORB', got {method!r}")


def match_views(
    image1: np.ndarray,
    image2: np.ndarray,
    method: str = "SIFT",
    ratio: float = 0.75,
    ransac_threshold: float = 3.0,
    features: int = 1000,
    model: str = "homography",
) -> MatchResult:
    """Detect and describe keypoints, keep ratio-test matches, fit ``model`` with RANSAC.

    ``model`` is ``"homography"`` (points within ``ransac_threshold`` pixels of their
    mapped partner are inliers) or ``"fundamental"`` (points within ``ransac_threshold``
    pixels of their epipolar line are inliers).
    """
    if model not in ("homography", "fundamental"):
        raise ValueError(f"model must be 'homography' or 'fundamental', got {model!r}")
    cv2.setRNGSeed(0)
    start = time.perf_counter()
    finder, norm = detector(method, features)
    k1, d1 = finder.detectAndCompute(image1, None)
    k2, d2 = finder.detectAndCompute(image2, None)
    good = []
    if d1 is not None and d2 is not None and len(k2) >= 2:
        for pair in cv2.BFMatcher(norm).knnMatch(d1, d2, k=2):
            if len(pair) == 2 and pair[0].distance < ratio * pair[1].distance:
                good.append(pair[0])
    p1 = np.array([k1[m.queryIdx].pt for m in good], dtype=float).reshape(-1, 2)
    p2 = np.array([k2[m.trainIdx].pt for m in good], dtype=float).reshape(-1, 2)
    H, F, inliers = None, None, np.zeros(len(good), dtype=bool)
    if model == "homography" and len(good) >= 4:
        H, mask = cv2.findHomography(p1, p2, cv2.RANSAC, ransac_threshold)
        if H is not None:
            inliers = mask.ravel().astype(bool)
    if model == "fundamental" and len(good) >= 8:
        F, mask = cv2.findFundamentalMat(p1, p2, cv2.FM_RANSAC, ransac_threshold, 0.999)
        if F is not None and F.shape == (3, 3):
            inliers = mask.ravel().astype(bool)
        else:
            F = None
    seconds = time.perf_counter() - start
    return MatchResult(method, list(k1), list(k2), p1, p2, H, inliers, seconds, F)


def plot_matches(
    image1: np.ndarray, image2: np.ndarray, result: MatchResult, max_lines: int = 60, ax=None
) -> plt.Axes:
    """Both images side by side with inlier matches in green and outliers in red."""
    h = max(image1.shape[0], image2.shape[0])
    canvas = np.zeros((h, image1.shape[1] + image2.shape[1]), dtype=np.uint8)
    canvas[: image1.shape[0], : image1.shape[1]] = image1
    canvas[: image2.shape[0], image1.shape[1] :] = image2
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 5))
    ax.imshow(canvas, cmap="gray")
    rng = np.random.default_rng(0)
    shown = rng.permutation(len(result.points1))[:max_lines]
    for i in shown:
        (x1, y1), (x2, y2) = result.points1[i], result.points2[i]
        ax.plot([x1, x2 + image1.shape[1]], [y1, y2], "-", lw=0.7,
                color="lime" if result.inliers[i] else "red")  # fmt: skip
    ax.set_title(
        f"{result.method}: {len(result.points1)} matches, {result.inliers.sum()} RANSAC inliers "
        f"({result.inlier_ratio:.0%})"
    )
    ax.axis("off")
    return ax


def match_demo(
    photo: str = "astronaut", method: str = "SIFT", angle: float = 15.0, scale: float = 0.9
) -> dict[str, float]:
    """Warp a photo by a known homography, match it to the original, plot, and score it."""
    image = gray_photo(photo)
    H_true = view_homography(image.shape, angle, scale)
    second = warp(image, H_true)
    result = match_views(image, second, method)
    error = corner_error(result.homography, H_true, image.shape) if result.homography is not None else float("inf")
    ax = plot_matches(image, second, result)
    ax.set_title(ax.get_title() + f"\ncorner error vs ground truth: {error:.2f} px")
    plt.show()
    return {
        "matches": float(len(result.points1)),
        "inlier_ratio": result.inlier_ratio,
        "corner_error": error,
    }


def hog_features(
    images: np.ndarray, orientations: int = 9, cell: int = 8, block: int = 2
) -> np.ndarray:
    """HOG descriptors (L2-Hys blocks) of N uint8 images, N x C x H x W or N x H x W."""
    images = np.asarray(images)
    colour = images.ndim == 4
    if colour:
        images = images.transpose(0, 2, 3, 1)
    return np.stack(
        [
            hog(
                image, orientations=orientations, pixels_per_cell=(cell, cell),
                cells_per_block=(block, block), block_norm="L2-Hys",
                channel_axis=-1 if colour else None,
            )
            for image in images
        ]
    ).astype(np.float32)  # fmt: skip
