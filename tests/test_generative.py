import math

import matplotlib.pyplot as plt
import pytest
import torch
from torch import nn

from course_utils.generative.denoisers import (
    TinyUNet,
    half_size,
    sinusoidal_embedding,
    to_model_range,
    to_unit_range,
)
from course_utils.generative.diffusion import (
    DiffusionSchedule,
    ddpm_loss,
    ddpm_sample,
    drop_labels,
    flow_matching_loss,
    flow_sample,
    guided,
    image_row,
    network_evaluations,
    show_forward_process,
    show_trajectory,
    train_generator,
)


class ConstantVelocity(nn.Module):
    """A stand-in network: returns ``value`` (+ label) everywhere; ``null_label`` is 10."""

    null_label = 10

    def __init__(self, value: float = 0.5) -> None:
        super().__init__()
        self.value = nn.Parameter(torch.tensor(value))

    def forward(self, x, t, labels=None):
        out = torch.full_like(x, self.value.item())
        if labels is not None:
            out = out + labels.view(-1, 1, 1, 1).float()
        return out


def test_range_conversions_round_trip():
    images = torch.tensor([[[[0, 128, 255]]]], dtype=torch.uint8)
    x = to_model_range(images)
    assert x.min() == -1 and x.max() == 1
    torch.testing.assert_close(to_unit_range(x), images.float() / 255)
    assert to_unit_range(torch.tensor([-3.0, 3.0])).tolist() == [0.0, 1.0]


def test_half_size_averages_blocks():
    images = torch.arange(16, dtype=torch.float32).view(1, 1, 4, 4) / 16
    small = half_size(images)
    assert small.shape == (1, 1, 2, 2)
    assert small[0, 0, 0, 0].item() == pytest.approx((0 + 1 + 4 + 5) / 4 / 16)
    assert half_size(torch.full((2, 1, 28, 28), 255, dtype=torch.uint8)).shape == (2, 1, 14, 14)


def test_sinusoidal_embedding():
    emb = sinusoidal_embedding(torch.tensor([0.0, 0.5]), 8)
    assert emb.shape == (2, 8)
    torch.testing.assert_close(emb[0], torch.tensor([0.0] * 4 + [1.0] * 4))
    with pytest.raises(ValueError, match="even"):
        sinusoidal_embedding(torch.tensor([0.0]), 7)


def test_unet_shapes_labels_and_zero_init():
    torch.manual_seed(0)
    model = TinyUNet(width=8, num_classes=3, emb_dim=16)
    x = torch.randn(4, 1, 14, 14)
    t = torch.rand(4)
    out = model(x, t, torch.tensor([0, 1, 2, 3]))  # 3 is the "no prompt" label
    assert out.shape == x.shape and model.null_label == 3
    assert torch.count_nonzero(out) == 0  # the output layer starts at zero
    assert model(x, t).shape == x.shape
    with pytest.raises(ValueError, match="even"):
        model(torch.randn(1, 1, 7, 7), torch.rand(1))


def test_drop_labels():
    labels = torch.zeros(1000, dtype=torch.long)
    dropped = drop_labels(labels, 10, 0.3, torch.Generator().manual_seed(0))
    assert set(dropped.unique().tolist()) == {0, 10}
    assert 0.25 < (dropped == 10).float().mean() < 0.35
    assert drop_labels(labels, 10, 0.0) is labels


def test_schedule_matches_the_ddpm_definitions():
    s = DiffusionSchedule.linear(1000, 1e-4, 0.02)
    assert s.T == 1000 and len(s.betas) == 1001 and s.betas[0] == 0
    assert s.alpha_bars[0] == 1 and torch.all(s.alpha_bars[1:] < s.alpha_bars[:-1])
    assert s.betas[1].item() == pytest.approx(1e-4) and s.betas[-1].item() == pytest.approx(0.02)
    x0 = torch.randn(3, 1, 2, 2, dtype=torch.float64)
    eps = torch.randn_like(x0)
    torch.testing.assert_close(s.noise(x0, 0, eps), x0)
    # t noiseless single steps multiply x0 by sqrt(alpha_bar_t)
    x = x0
    for t in range(1, 51):
        x = s.step(x, t, torch.zeros_like(x))
    torch.testing.assert_close(x, s.alpha_bars[50].sqrt() * x0)
    # per-image times broadcast
    out = s.noise(x0, torch.tensor([0, 10, 1000]), eps)
    torch.testing.assert_close(out[0], x0[0])
    ab = s.alpha_bars[1000]
    torch.testing.assert_close(out[2], ab.sqrt() * x0[2] + (1 - ab).sqrt() * eps[2])


def test_timesteps():
    s = DiffusionSchedule.linear(1000)
    assert s.timesteps(4) == [0, 250, 500, 750, 1000]
    assert s.timesteps() == list(range(1001))
    with pytest.raises(ValueError):
        s.timesteps(0)
    with pytest.raises(ValueError):
        s.timesteps(1001)


def test_guidance_formula():
    model = ConstantVelocity(0.5)
    x, t = torch.zeros(2, 1, 2, 2), torch.zeros(2)
    labels = torch.tensor([1, 2])
    torch.testing.assert_close(guided(model, x, t, labels, 0.0), model(x, t, labels))
    # (1 + w) * (0.5 + y) - w * (0.5 + 10)
    expected = (1 + 2.0) * (0.5 + labels.float()) - 2.0 * 10.5
    torch.testing.assert_close(guided(model, x, t, labels, 2.0)[:, 0, 0, 0], expected)
    torch.testing.assert_close(guided(model, x, t, None, 3.0), torch.full_like(x, 0.5))


def test_ddpm_loss_is_reproducible():
    torch.manual_seed(0)
    model = TinyUNet(width=8, emb_dim=16)
    s = DiffusionSchedule.linear(100)
    x = torch.rand(8, 1, 4, 4) * 2 - 1
    y = torch.randint(0, 10, (8,))
    a = ddpm_loss(model, x, y, s, 0.1, torch.Generator().manual_seed(1))
    b = ddpm_loss(model, x, y, s, 0.1, torch.Generator().manual_seed(1))
    assert a.ndim == 0 and torch.isfinite(a) and a == b
    # the zero-initialized network predicts no noise, so the loss is E[eps^2] = 1
    assert a.item() == pytest.approx(1.0, abs=0.3)


def _algorithm_2(model, schedule, x, generator):
    ab = schedule.alpha_bars
    for t in range(schedule.T, 0, -1):
        beta = schedule.betas[t].item()
        eps = model(x, torch.full((len(x),), t / schedule.T), None)
        x = (x - beta / math.sqrt(1 - ab[t].item()) * eps) / math.sqrt(1 - beta)
        if t > 1:
            sigma = math.sqrt((1 - ab[t - 1].item()) / (1 - ab[t].item()) * beta)
            x = x + sigma * torch.randn(x.shape, generator=generator)
    return x


def test_ddpm_sample_full_chain_is_algorithm_2():
    torch.manual_seed(0)
    model = TinyUNet(width=8, emb_dim=16)
    nn.init.normal_(model.head[-1].weight, std=0.1)
    s = DiffusionSchedule.linear(20, 1e-3, 0.2)
    gen = torch.Generator().manual_seed(3)
    x_T = torch.randn((2, 1, 4, 4), generator=gen)
    expected = _algorithm_2(model, s, x_T, gen)
    with torch.no_grad():
        got = ddpm_sample(
            model, s, (2, 1, 4, 4), clip=False, generator=torch.Generator().manual_seed(3)
        )
    torch.testing.assert_close(got, expected.detach(), rtol=1e-5, atol=1e-5)


def test_ddpm_sample_trajectory_and_clip():
    torch.manual_seed(0)
    model = TinyUNet(width=8, emb_dim=16)
    s = DiffusionSchedule.linear(50)
    out, trajectory = ddpm_sample(
        model,
        s,
        (3, 1, 4, 4),
        torch.tensor([1, 2, 3]),
        guidance=1.0,
        steps=5,
        generator=torch.Generator().manual_seed(0),
        keep_trajectory=True,
    )
    assert out.shape == (3, 1, 4, 4)
    assert [t for t, _ in trajectory] == [50, 40, 30, 20, 10, 0]
    # the zero network predicts eps = 0, so x0_hat = x / sqrt(alpha_bar), clamped to [-1, 1]:
    # the last step returns the clamped estimate exactly
    assert out.abs().max() <= 1 + 1e-6


def test_flow_sample_with_a_constant_velocity_is_exact():
    model = ConstantVelocity(0.5)
    gen = torch.Generator().manual_seed(0)
    x1 = torch.randn((4, 1, 2, 2), generator=gen)
    for method in ("euler", "heun"):
        out, trajectory = flow_sample(
            model,
            (4, 1, 2, 2),
            steps=4,
            method=method,
            generator=torch.Generator().manual_seed(0),
            keep_trajectory=True,
        )
        # dx/dt = 0.5 from t = 1 to t = 0: x0 = x1 - 0.5
        torch.testing.assert_close(out, x1 - 0.5)
        assert [round(t, 6) for t, _ in trajectory] == [1.0, 0.75, 0.5, 0.25, 0.0]
    with pytest.raises(ValueError):
        flow_sample(model, (1, 1, 2, 2), method="rk4")
    with pytest.raises(ValueError):
        flow_sample(model, (1, 1, 2, 2), steps=0)


def test_flow_matching_loss_target_is_noise_minus_data():
    class Oracle(nn.Module):
        null_label = 10

        def forward(self, x, t, labels=None):  # knows x0 = 0, so eps = x_t / t
            return x / t.view(-1, 1, 1, 1)

    x0 = torch.zeros(16, 1, 2, 2)
    loss = flow_matching_loss(Oracle(), x0, None, generator=torch.Generator().manual_seed(0))
    assert loss.item() == pytest.approx(0.0, abs=1e-10)


def test_network_evaluations():
    assert network_evaluations(10, "ddpm") == 10
    assert network_evaluations(10, "euler", guidance=2.0) == 20
    assert network_evaluations(10, "heun") == 19
    with pytest.raises(ValueError):
        network_evaluations(3, "rk4")


@pytest.fixture
def one_thread():
    # tiny networks train faster without a thread pool's synchronisation
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_train_generator_reduces_the_loss(one_thread):
    torch.manual_seed(0)
    model = TinyUNet(width=8, emb_dim=16)
    gen = torch.Generator().manual_seed(0)
    images = -torch.ones(64, 1, 4, 4)  # an easy data set: every image is black
    labels = torch.zeros(64, dtype=torch.long)
    losses = train_generator(
        model, lambda m, xb, yb, g: flow_matching_loss(m, xb, yb, 0.1, g), images, labels,
        steps=60, batch_size=16, lr=5e-3, generator=gen, progress=False,
    )  # fmt: skip
    assert len(losses) == 60 and not model.training
    assert sum(losses[-10:]) < 0.6 * sum(losses[:10])
    with pytest.raises(ValueError):
        train_generator(model, None, images, labels, steps=0)


def test_plots_behind_the_sliders():
    row = image_row(torch.zeros(3, 1, 4, 5))
    assert row.shape == (4, 3 * 6 - 1)
    s = DiffusionSchedule.linear(100)
    x0 = torch.zeros(2, 1, 4, 4)
    fig = show_forward_process(s, x0, 50, torch.randn_like(x0))
    assert "t = 50" in fig.axes[0].get_title()
    plt.close(fig)
    fig = show_trajectory([(100, x0), (0, x0)], 1, "demo")
    assert "step 1 of 1" in fig.axes[0].get_title()
    plt.close(fig)
