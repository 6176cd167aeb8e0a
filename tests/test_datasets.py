import io
import os
import tarfile
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from course_utils.core import datasets
from course_utils.core.datasets import (
    DatasetNotFoundError,
    ImageSet,
    load_images,
    torchvision_dataset,
)
from course_utils.core.integrity import ChecksumError

MIRROR = os.environ.get("COURSE_DATASETS_DIR")
needs_mirror = pytest.mark.skipif(
    not MIRROR, reason="set COURSE_DATASETS_DIR to a dataset folder to run this test"
)


@pytest.fixture
def empty_dataset_dir(tmp_path, monkeypatch):
    """A configured dataset folder with nothing in it, and a private data/ and cache."""
    shared = tmp_path / "shared"
    shared.mkdir()
    monkeypatch.setenv("COURSE_DATASETS_DIR", str(shared))
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(datasets, "download_dir", lambda: tmp_path / "downloads")
    return shared


def test_unknown_dataset_name_lists_the_choices():
    with pytest.raises(ValueError, match="mnist, fashion_mnist, cifar10"):
        load_images("imagenet")


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist", "cifar10"])
def test_missing_dataset_offline_says_what_to_do(empty_dataset_dir, monkeypatch, name):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    start = time.perf_counter()
    with pytest.raises(DatasetNotFoundError) as info:
        load_images(name)
    assert time.perf_counter() - start < 5
    message = str(info.value)
    assert "COURSE_DATASETS_DIR" in message
    assert f"python -m course_utils.core.datasets download {name}" in message


def test_missing_dataset_without_network_fails_fast(empty_dataset_dir, monkeypatch):
    monkeypatch.setenv("COURSE_OFFLINE", "0")
    start = time.perf_counter()
    with pytest.raises(DatasetNotFoundError, match="cannot reach"):
        load_images("mnist")
    assert time.perf_counter() - start < 10


def test_dataset_folder_that_does_not_exist(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATASETS_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match="not a folder"):
        load_images("mnist")


@needs_mirror
def test_truncated_file_is_caught_by_its_checksum(empty_dataset_dir):
    raw = empty_dataset_dir / "MNIST" / "raw"
    raw.mkdir(parents=True)
    source = Path(MIRROR) / "MNIST" / "raw"
    for file in source.iterdir():
        (raw / file.name).symlink_to(file)
    (raw / "t10k-labels-idx1-ubyte").unlink()
    (raw / "t10k-labels-idx1-ubyte").write_bytes((source / "t10k-labels-idx1-ubyte").read_bytes()[:-100])
    with pytest.raises(ChecksumError, match="damaged or incomplete.*download mnist"):
        load_images("mnist", train=False)


@needs_mirror
def test_mnist_matches_the_published_facts():
    train = load_images("mnist", train=True)
    test = load_images("mnist", train=False)
    assert train.images.shape == (60_000, 1, 28, 28) and train.images.dtype == torch.uint8
    assert test.images.shape == (10_000, 1, 28, 28)
    assert train.labels[:5].tolist() == [5, 0, 4, 1, 9]
    mean, _ = train.channel_stats()
    assert mean.item() == pytest.approx(0.1307, abs=1e-4)
    assert len(train.classes) == 10


@needs_mirror
def test_fashion_mnist_loads():
    test = load_images("fashion_mnist", train=False)
    assert test.images.shape == (10_000, 1, 28, 28)
    assert test.classes[0].startswith("T-shirt")
    assert torch.bincount(test.labels).tolist() == [1000] * 10


@needs_mirror
def test_cifar10_from_the_jpeg_mirror_has_official_structure():
    train = load_images("cifar10", train=True)
    assert train.images.shape == (50_000, 3, 32, 32)
    assert torch.bincount(train.labels).tolist() == [5000] * 10
    assert train.classes == datasets.CIFAR10_CLASSES
    mean, _ = train.channel_stats()
    assert mean.tolist() == pytest.approx([0.491, 0.482, 0.447], abs=0.003)
    dataset = torchvision_dataset("cifar10", train=False)
    image, label = dataset[0]
    assert isinstance(image, Image.Image) and image.size == (32, 32)
    assert isinstance(label, int) and len(dataset) == 10_000
    assert dataset.classes == list(datasets.CIFAR10_CLASSES)


def _tiny_cifar_tar(path: Path) -> None:
    rng = np.random.default_rng(0)
    with tarfile.open(path, "w") as tar:
        for cls in ("truck", "airplane"):
            for index in ("0001", "0000"):
                buffer = io.BytesIO()
                Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(buffer, "JPEG")
                info = tarfile.TarInfo(f"train/{cls}/{index}.jpg")
                info.size = buffer.tell()
                buffer.seek(0)
                tar.addfile(info, buffer)


def test_jpeg_archive_is_decoded_in_class_order(tmp_path):
    archive = tmp_path / "train.tar"
    _tiny_cifar_tar(archive)
    images, labels = datasets._decode_cifar_jpeg(archive)
    assert images.shape == (4, 32, 32, 3) and images.dtype == np.uint8
    assert labels.tolist() == [0, 0, 9, 9]


def test_damaged_cache_is_rebuilt(tmp_path, monkeypatch):
    archive = tmp_path / "CIFAR10-JPEG" / "train.tar"
    archive.parent.mkdir()
    _tiny_cifar_tar(archive)
    from course_utils.core.integrity import sha256_of

    monkeypatch.setitem(datasets._CIFAR_JPEG_SHA256, "train", sha256_of(archive))
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    first, _ = datasets._cifar_jpeg_arrays(archive, "train")
    (tmp_path / "cache" / "cifar10-jpeg-train-images.npy").write_bytes(b"garbage")
    again, labels = datasets._cifar_jpeg_arrays(archive, "train")
    assert np.array_equal(first, again) and len(labels) == 4


def test_corrupt_archive_is_refused(tmp_path, monkeypatch):
    archive = tmp_path / "CIFAR10-JPEG" / "train.tar"
    archive.parent.mkdir()
    _tiny_cifar_tar(archive)
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(ChecksumError, match="intact copy"):
        datasets._cifar_jpeg_arrays(archive, "train")


def test_imageset_subset_and_tensors():
    images = torch.arange(2 * 10 * 4, dtype=torch.uint8).reshape(10, 2, 2, 2)
    data = ImageSet("toy", "train", images, torch.arange(10), ("a",), "memory")
    part = data.subset(4, seed=1)
    assert len(part) == 4 and torch.equal(part.labels, data.subset(4, seed=1).labels)
    assert data.subset(100) is data
    x, y = data.tensors()
    assert x.dtype == torch.float32 and x.shape == (10, 2, 2, 2)
    assert x.mean(dim=(0, 2, 3)).abs().max() < 1e-5
    raw, _ = data.tensors(normalize=False)
    assert raw.max() <= 1.0


def test_where_command_runs(capsys):
    assert datasets._main(["where"]) == 0
    assert "mnist" in capsys.readouterr().out
