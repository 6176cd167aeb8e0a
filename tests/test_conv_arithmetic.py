import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from course_utils.convnets.conv_arithmetic import (  # noqa: E402
    LayerGeometry,
    conv_output_size,
    extent,
    geometry_of,
    gradient_receptive_field,
    linearized,
    plot_conv_geometry,
    plot_receptive_fields,
    receptive_fields,
    transposed_conv_output_size,
)


@pytest.mark.parametrize("dilation", [1, 2])
def test_conv_output_size_matches_torch(dilation):
    for n in range(1, 14):
        for k in range(1, 6):
            for s in range(1, 4):
                for p in range(3):
                    if n + 2 * p < dilation * (k - 1) + 1:
                        with pytest.raises(ValueError):
                            conv_output_size(n, k, s, p, dilation)
                        continue
                    out = F.conv2d(torch.zeros(1, 1, n, n), torch.zeros(1, 1, k, k), stride=s,
                                   padding=p, dilation=dilation)
                    assert conv_output_size(n, k, s, p, dilation) == out.shape[-1]


def test_transposed_conv_output_size_matches_torch():
    for n in (1, 4, 7):
        for k in (1, 2, 3, 4):
            for s in (1, 2, 3):
                for p in range(0, min(k, 2)):
                    for op in range(0, s):
                        layer = nn.ConvTranspose2d(1, 1, k, stride=s, padding=p, output_padding=op)
                        if (n - 1) * s - 2 * p + k + op < 1:
                            with pytest.raises(ValueError):
                                transposed_conv_output_size(n, k, s, p, op)
                            continue
                        expected = layer(torch.zeros(1, 1, n, n)).shape[-1]
                        assert transposed_conv_output_size(n, k, s, p, op) == expected


def test_receptive_fields_known_stacks():
    two_3x3 = receptive_fields([(3, 1, 1), (3, 1, 1)])
    assert [f.size for f in two_3x3] == [3, 5]
    strided = receptive_fields([(3, 2, 0), (3, 1, 0)], input_size=9)
    assert [f.size for f in strided] == [3, 7]
    assert [f.jump for f in strided] == [2, 2]
    assert [f.output_size for f in strided] == [4, 2]
    assert strided[0].start == 1.0 and strided[1].start == 3.0
    lenet = receptive_fields([LayerGeometry("c1", 5, 1, 2), LayerGeometry("s2", 2, 2),
                              LayerGeometry("c3", 5), LayerGeometry("s4", 2, 2)])
    assert [f.size for f in lenet] == [5, 6, 14, 16]


def test_geometry_of_reads_layers_in_order():
    model = nn.Sequential(nn.Conv2d(1, 2, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Sequential(nn.Conv2d(2, 2, 3, stride=2, dilation=2)), nn.AvgPool2d(3, 1, 1))
    found = geometry_of(model)
    assert [(g.kernel, g.stride, g.padding, g.dilation) for g in found] == [
        (5, 1, 2, 1), (2, 2, 0, 1), (3, 2, 0, 2), (3, 1, 1, 1)]
    with pytest.raises(ValueError):
        geometry_of(nn.Sequential(nn.ConvTranspose2d(1, 1, 2)))
    with pytest.raises(ValueError):
        geometry_of(nn.Sequential(nn.Conv2d(1, 1, (3, 5))))


def test_linearized_copy_leaves_the_original_alone():
    model = nn.Sequential(nn.Conv2d(1, 1, 3), nn.ReLU(), nn.MaxPool2d(2))
    flat = linearized(model)
    assert isinstance(model[1], nn.ReLU) and isinstance(model[2], nn.MaxPool2d)
    assert isinstance(flat[1], nn.Identity) and isinstance(flat[2], nn.AvgPool2d)


def test_gradient_receptive_field_matches_the_formula():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(4, 4, 5, padding=2), nn.ReLU(), nn.Conv2d(4, 2, 3, stride=2))
    fields = receptive_fields(geometry_of(model), input_size=48)
    grad = gradient_receptive_field(linearized(model), input_size=48)
    top, left, height, width = extent(grad)
    assert height == width == fields[-1].size == 16
    centre_unit = fields[-1].output_size // 2
    centre = fields[-1].start + centre_unit * fields[-1].jump
    assert top + (height - 1) / 2 == centre and left + (width - 1) / 2 == centre
    real = gradient_receptive_field(model, input_size=48)
    assert extent(real)[2] <= height


def test_gradient_receptive_field_needs_feature_maps():
    with pytest.raises(ValueError):
        gradient_receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3), nn.Flatten()), input_size=8)


def test_extent_of_a_box():
    grid = torch.zeros(6, 7)
    grid[1:4, 2:6] = 1
    assert extent(grid) == (1, 2, 3, 4)
    assert extent(torch.zeros(3, 3)) == (0, 0, 0, 0)


def test_plot_conv_geometry_titles_the_output_size():
    fig = plot_conv_geometry(7, 3, 2, 1, highlight=5)
    assert "= 4" in fig._suptitle.get_text()
    fig = plot_conv_geometry(6, 3, 2, 0)
    assert "never reached" in fig._suptitle.get_text()
    with pytest.raises(ValueError):
        plot_conv_geometry(2, 5, 1, 0)


def test_plot_receptive_fields_draws_every_layer():
    fig = plot_receptive_fields([("a", 3, 1, 1), ("b", 2, 2, 0)], input_size=16)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert len(labels) == 3 and "r = 4" in labels[-1]
    assert "4 input pixels" in fig.axes[0].get_title()
    big = plot_receptive_fields([("a", 5, 1, 2)] * 4, input_size=12)
    assert "padding" in big.axes[0].get_title()
