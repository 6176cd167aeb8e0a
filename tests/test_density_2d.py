import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from course_utils.generative.density_2d import (
    mode_coverage,
    plot_decision_regions,
    plot_density,
    ring_centers,
    ring_of_gaussians,
    show_gan_snapshot,
    show_latent_point,
)


def test_ring_centers_and_samples():
    centers = ring_centers(8, radius=2.0)
    assert centers.shape == (8, 2)
    torch.testing.assert_close(centers.norm(dim=1), torch.full((8,), 2.0))
    torch.testing.assert_close(centers[0], torch.tensor([2.0, 0.0]))
    points = ring_of_gaussians(4000, std=0.05, generator=torch.Generator().manual_seed(0))
    nearest = torch.cdist(points, centers).min(dim=1).values
    assert points.shape == (4000, 2) and nearest.max() < 0.05 * 5
    with pytest.raises(ValueError):
        ring_centers(0)


def test_mode_coverage_counts_modes():
    centers = ring_centers(8)
    on_three = centers[[0, 2, 5]].repeat(100, 1)
    coverage = mode_coverage(on_three, centers, std=0.05)
    assert coverage.covered == 3 and coverage.reached == 3 and coverage.high_quality == 1.0
    assert coverage.counts == (100, 0, 100, 0, 0, 100, 0, 0)
    data = ring_of_gaussians(8000, std=0.05, generator=torch.Generator().manual_seed(1))
    assert mode_coverage(data, centers, std=0.05).covered == 8
    far = mode_coverage(torch.full((50, 2), 10.0), centers, std=0.05)
    assert far.covered == 0 and far.reached == 1 and far.high_quality == 0.0
    smeared = mode_coverage(1.5 * centers.repeat(10, 1), centers, std=0.05)  # off the modes
    assert smeared.covered == 0 and smeared.reached == 8
    # a mode with too few samples does not count: 1 of 301 is below a quarter of 301 / 8
    few = torch.cat([on_three, centers[[7]]])
    assert mode_coverage(few, centers, std=0.05).covered == 3


def test_plots():
    X = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0]])
    y = np.array([0, 1, 1])
    fig, ax = plt.subplots()
    proba = lambda p: np.column_stack([p[:, 0] < 1, p[:, 0] >= 1]).astype(float)  # noqa: E731
    assert plot_decision_regions(ax, proba, X, y, title="t", resolution=20) is ax
    density = plot_density(ax, lambda p: -0.5 * (p**2).sum(1), (-1, 1, -1, 1), resolution=10)
    assert density.shape == (10, 10) and density.max() == pytest.approx(np.exp(-1 / 81), rel=0.05)
    plt.close(fig)
    real = ring_of_gaussians(100, generator=torch.Generator().manual_seed(0)).numpy()
    fig = show_gan_snapshot([(10, real), (20, real[:5])], 0, real, ring_centers().numpy(), 0.02)
    assert (
        "after 10 steps" in fig.axes[0].get_title() and "modes reached" in fig.axes[0].get_title()
    )
    plt.close(fig)
    fig = show_latent_point(
        lambda z: torch.zeros(len(z), 4),
        0.5,
        -1.0,
        np.zeros((5, 2)),
        np.arange(5),
        image_shape=(2, 2),
    )
    assert "0.50, -1.00" in fig.axes[1].get_title()
    plt.close(fig)
