import math

import matplotlib

matplotlib.use("Agg")

import pytest
import torch
from torch import nn

from course_utils.convnets.resnets import (
    BasicBlock,
    CifarNet,
    ResNet9,
    activation_stats,
    evaluate_flip_tta,
    plot_signal_profiles,
    signal_profiles,
    smooth,
    train_steps,
)


def count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("depth", [8, 20, 32])
def test_plain_and_residual_networks_have_the_same_parameters(depth):
    plain, residual = CifarNet(depth, 8, residual=False), CifarNet(depth, 8, residual=True)
    assert count(plain) == count(residual)
    convs = sum(isinstance(m, nn.Conv2d) for m in plain.modules())
    linears = sum(isinstance(m, nn.Linear) for m in plain.modules())
    assert convs + linears == depth  # 6n + 2 weight layers


def test_cifarnet_rejects_depths_that_are_not_6n_plus_2():
    with pytest.raises(ValueError, match="6n"):
        CifarNet(10)


def test_cifarnet_output_and_resnet20_size():
    model = CifarNet(20, 16)
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    assert 265_000 < count(model) < 275_000  # He et al.: ResNet-20 has 0.27M parameters


def test_basic_block_shortcut_subsamples_and_pads():
    block = BasicBlock(4, 8, stride=2)
    x = torch.randn(2, 4, 8, 8)
    shortcut = block.shortcut(x)
    assert shortcut.shape == (2, 8, 4, 4)
    torch.testing.assert_close(shortcut[:, :4], x[:, :, ::2, ::2])
    assert shortcut[:, 4:].abs().sum() == 0
    assert block(x).shape == (2, 8, 4, 4)
    with pytest.raises(ValueError):
        BasicBlock(8, 4)


def test_residual_block_with_zero_last_scale_is_the_identity_on_nonnegative_inputs():
    block = BasicBlock(6, 6).eval()
    with torch.no_grad():
        block.bn2.weight.zero_()
        block.bn2.bias.zero_()
    x = torch.rand(3, 6, 5, 5)
    torch.testing.assert_close(block(x), x)


def test_resnet9_shapes_and_stages():
    model = ResNet9(width=8, num_classes=4)
    x = torch.randn(2, 3, 32, 32)
    assert model.features(x).shape == (2, 64) and model.feature_dim == 64
    assert model(x).shape == (2, 4)
    assert [name for name, _ in model.features.named_children()] == [
        "prep", "layer1", "layer2", "layer3", "pool"
    ]  # fmt: skip
    assert 6_500_000 < count(ResNet9(width=64)) < 6_600_000


def test_train_steps_runs_the_requested_steps_and_learns():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(256, 2, generator=gen)
    y = (x[:, 0] > 0).long()
    torch.manual_seed(0)
    model = nn.Linear(2, 2)
    losses = train_steps(model, x, y, steps=50, lr=0.5, batch_size=32, weight_decay=0,
                         generator=gen, progress=False)  # fmt: skip
    assert len(losses) == 50
    assert sum(losses[-5:]) < sum(losses[:5])


def test_train_steps_progress_bar_refreshes_rarely(monkeypatch):
    """A notebook progress bar must not send one message per step (it floods the output channel)."""
    from course_utils.convnets import resnets

    refreshes = []

    class CountingBar(resnets.tqdm):
        def refresh(self, *args, **kwargs):
            refreshes.append(self.n)
            return super().refresh(*args, **kwargs)

    monkeypatch.setattr(resnets, "tqdm", CountingBar)
    x, y = torch.randn(64, 2), torch.randint(0, 2, (64,))
    train_steps(nn.Linear(2, 2), x, y, steps=200, lr=0.1, batch_size=8, progress=True)
    assert len(refreshes) < 20


def test_train_steps_updates_only_trainable_parameters_and_stops_on_nan():
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    for p in model[0].parameters():
        p.requires_grad = False
    before = model[0].weight.clone()
    x, y = torch.randn(64, 2), torch.randint(0, 2, (64,))
    train_steps(model, x, y, steps=5, lr=0.1, schedule="onecycle", progress=False)
    torch.testing.assert_close(model[0].weight, before)
    bad = torch.full((64, 2), float("nan"))
    losses = train_steps(nn.Linear(2, 2), bad, y, steps=10, lr=0.1, progress=False)
    assert len(losses) == 1 and math.isnan(losses[0])
    with pytest.raises(ValueError):
        train_steps(model, x, y, steps=5, lr=0.1, schedule="step", progress=False)


def test_smooth_is_a_running_mean():
    assert smooth([1.0, 3.0, 5.0, 7.0], window=2) == [1.0, 2.0, 4.0, 6.0]


def test_activation_stats_keeps_running_statistics():
    model = CifarNet(14, 4)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    stds = activation_stats(model.eval(), torch.randn(8, 3, 16, 16))
    assert len(stds) == 1 + 6 and not model.training
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, before[key])


def test_signal_profiles_show_vanishing_and_exploding_signals():
    x = torch.randn(32, 3, 16, 16)
    profiles = signal_profiles(x, depth=32)
    assert set(profiles) == {"plain", "plain + BN", "residual", "residual + BN"}
    assert profiles["plain"][-1] < 0.1 * profiles["plain"][0]
    assert profiles["residual"][-1] > 3 * profiles["residual"][0]
    fig = plot_signal_profiles(x, depth=14)
    assert len(fig.axes[0].lines) == 4
    matplotlib.pyplot.close(fig)


def test_flip_tta_accuracy_of_a_flip_invariant_model():
    model = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(3, 2))
    x = torch.randn(20, 3, 4, 4)
    y = model(x).argmax(1).detach()
    assert evaluate_flip_tta(model, x, y) == 1.0
