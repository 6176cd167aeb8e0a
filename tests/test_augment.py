import pytest
import torch
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as TF

from course_utils.convnets.augment import RandomCropFlip, crop_flip, per_image, random_crop_flip


def test_crop_flip_matches_torchvision_per_image():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(6, 3, 8, 10, generator=gen)
    offsets = torch.tensor([[0, 0], [4, 4], [1, 3], [2, 0], [0, 2], [3, 1]])
    flips = torch.tensor([False, True, False, True, True, False])
    out = crop_flip(x, offsets, flips, padding=2)
    for i in range(len(x)):
        padded = TF.pad(x[i], [2], fill=0.0)
        expected = TF.crop(padded, int(offsets[i, 0]), int(offsets[i, 1]), 8, 10)
        if flips[i]:
            expected = TF.horizontal_flip(expected)
        torch.testing.assert_close(out[i], expected)


def test_centre_offset_without_flip_is_the_identity():
    x = torch.randn(3, 2, 5, 5)
    same = crop_flip(x, torch.full((3, 2), 4), torch.zeros(3, dtype=torch.bool), padding=4)
    torch.testing.assert_close(same, x)


def test_crop_flip_rejects_bad_input():
    x = torch.zeros(2, 1, 4, 4)
    with pytest.raises(ValueError):
        crop_flip(x, torch.tensor([[0, 0], [0, 9]]), torch.zeros(2, dtype=torch.bool), padding=2)
    with pytest.raises(ValueError):
        crop_flip(x[0], torch.zeros(1, 2), torch.zeros(1, dtype=torch.bool), padding=2)


def test_random_crop_flip_draws_per_image_and_is_reproducible():
    x = torch.arange(64 * 16.0).reshape(64, 1, 4, 4).repeat(1, 3, 1, 1)
    a = random_crop_flip(x, padding=2, generator=torch.Generator().manual_seed(1))
    b = random_crop_flip(x, padding=2, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(a, b)
    assert a.shape == x.shape
    moved = [not torch.equal(a[i], x[i]) for i in range(len(x))]
    assert 0 < sum(moved) < len(x)  # some images changed, not necessarily all
    augment = RandomCropFlip(padding=2, seed=1)
    torch.testing.assert_close(augment(x), a)
    assert "padding=2" in repr(augment)


def test_per_image_applies_a_transform_to_each_image():
    x = torch.randn(5, 3, 6, 6)
    flipped = per_image(v2.RandomHorizontalFlip(p=1.0))(x)
    torch.testing.assert_close(flipped, x.flip(-1))
