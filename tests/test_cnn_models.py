import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from course_utils.convnets.cnn_models import (  # noqa: E402
    CompactCNN,
    LeNet5,
    activations,
    count_parameters,
    show_feature_maps,
    show_filters,
)


def test_lenet_keeps_the_classic_layer_sizes():
    model = LeNet5()
    x = torch.zeros(2, 1, 28, 28)
    shapes = [tuple(out.shape[1:]) for _, out in activations(model, x)]
    assert shapes[0] == (6, 28, 28) and shapes[2] == (6, 14, 14)
    assert shapes[3] == (16, 10, 10) and shapes[5] == (16, 5, 5)
    assert shapes[-1] == (10,)
    assert count_parameters(model) == 61_706
    assert tuple(LeNet5(image_size=32)(torch.zeros(1, 1, 32, 32)).shape) == (1, 10)
    classic = LeNet5(classic=True)
    assert isinstance(classic.features[1], nn.Tanh) and isinstance(classic.features[2], nn.AvgPool2d)


def test_compact_cnn_shapes_and_size():
    model = CompactCNN(width=16)
    assert tuple(model(torch.zeros(3, 3, 32, 32)).shape) == (3, 10)
    assert count_parameters(model) < count_parameters(CompactCNN(width=32))


def test_activations_end_with_the_model_output_and_restore_mode():
    torch.manual_seed(0)
    model = CompactCNN(width=8, dropout=0.5)
    x = torch.randn(4, 3, 32, 32)
    found = activations(model, x)
    assert model.training
    model.eval()
    torch.testing.assert_close(found[-1][1], model(x))
    assert found[0][0] == "features.0 Conv2d"


def test_count_parameters_can_skip_frozen_ones():
    model = LeNet5()
    model.features.requires_grad_(False)
    assert count_parameters(model) < count_parameters(model, trainable_only=False) == 61_706


def test_show_filters_and_feature_maps_draw_figures():
    lenet = LeNet5()
    fig = show_filters(lenet.features[0].weight)
    assert sum(1 for ax in fig.axes if ax.get_title()) == 6
    colour = CompactCNN(width=8)
    assert sum(1 for ax in show_filters(colour.features[0].weight, ncols=4).axes if ax.get_title()) == 8
    fig = show_feature_maps(lenet, torch.zeros(1, 28, 28), layer=3)
    assert "16 of 16" in fig._suptitle.get_text() and "10x10" in fig._suptitle.get_text()
    fig = show_feature_maps(colour, torch.randn(3, 32, 32), layer=0, max_maps=4)
    assert "4 of 8" in fig._suptitle.get_text()
    with pytest.raises(ValueError):
        show_feature_maps(lenet, torch.zeros(1, 28, 28), layer=6)
