"""The pinhole camera and two drawings made with it: a road seen from a car, and a
virtual cube placed onto a photograph (the applications panel of lesson 01).

Image coordinates follow the course's convention: x to the right (column), y down (row).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


def project(points: np.ndarray, focal: float = 1.0) -> np.ndarray:
    """Pinhole projection of 3-D points (..., 3) = (X, Y, Z) to image points (..., 2) = f (X/Z, Y/Z)."""
    points = np.asarray(points, dtype=float)
    return focal * points[..., :2] / points[..., 2:3]


def _line_at_height(x: float, camera_height: float, depths: np.ndarray) -> np.ndarray:
    """Points (x, camera_height, Z) for every depth Z: a line on the ground, parallel to the view."""
    return np.stack([np.full_like(depths, x), np.full_like(depths, camera_height), depths], -1)


def draw_road(ax: plt.Axes, width: int = 320, height: int = 240, focal: float = 200.0,
              camera_height: float = 1.4, half_width: float = 3.5) -> tuple[float, float]:
    """Draw a straight road (sky, grass, asphalt, edge lines, dashed centre line) seen from a
    car whose camera is ``camera_height`` above the ground; returns the vanishing point (x, y)."""
    center = np.array([width / 2, height / 2])
    depths = np.linspace(2.0, 400.0, 400)
    ax.add_patch(plt.Rectangle((0, 0), width, height / 2, color="#9cc3e6"))
    ax.add_patch(plt.Rectangle((0, height / 2), width, height / 2, color="#7fae6a"))
    edges = [project(_line_at_height(x, camera_height, depths), focal) + center
             for x in (-half_width, half_width)]
    road = np.concatenate([edges[0], edges[1][::-1]])
    ax.fill(road[:, 0], road[:, 1], color="#555555")
    for edge in edges:
        ax.plot(*edge.T, color="white", lw=2)
    for start in np.arange(2.0, 80.0, 6.0):  # dashed centre line, 3 m dashes
        dash = np.array([[0.0, camera_height, start], [0.0, camera_height, start + 3.0]])
        ax.plot(*(project(dash, focal) + center).T, color="gold", lw=2)
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    far = project(np.array([[-half_width, camera_height, 1e6], [half_width, camera_height, 1e6]]), focal)
    far = far + center
    return float(far[:, 0].mean()), float(far[:, 1].mean())


def cube_edges(center: tuple[float, float], focal: float = 900.0, side: float = 0.1,
               distance: float = 1.0, tilt_deg: float = 35.0, turn_deg: float = 30.0) -> np.ndarray:
    """The 12 edges of a cube (``side`` metres, ``distance`` metres away, tilted and turned),
    projected around the image point ``center``: an array 12 x 2 x 2 of (start, end) points."""
    corners = np.array([[x, y, z] for x in (0, 1) for y in (0, 1) for z in (0, 1)], float) * side
    tilt, turn = np.radians(tilt_deg), np.radians(turn_deg)
    rotate = np.array([[1, 0, 0], [0, np.cos(tilt), -np.sin(tilt)], [0, np.sin(tilt), np.cos(tilt)]])
    spin = np.array([[np.cos(turn), 0, np.sin(turn)], [0, 1, 0], [-np.sin(turn), 0, np.cos(turn)]])
    points = (corners - side / 2) @ spin.T @ rotate.T + np.array([0.0, 0.0, distance])
    image_points = project(points, focal) + np.asarray(center, dtype=float)
    pairs = [(i, j) for i in range(8) for j in range(i + 1, 8)
             if np.sum(corners[i] != corners[j]) == 1]  # corners that differ in one coordinate
    return np.stack([image_points[[i, j]] for i, j in pairs])


def draw_cube(ax: plt.Axes, center: tuple[float, float], focal: float = 900.0, color: str = "cyan") -> None:
    """Draw a virtual wireframe cube (10 cm, seen from above at 35 degrees) onto ``ax``."""
    for edge in cube_edges(center, focal):
        ax.plot(*edge.T, color=color, lw=2)
