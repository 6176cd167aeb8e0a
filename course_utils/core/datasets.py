"""MNIST, Fashion-MNIST and CIFAR-10 as in-memory tensors or torchvision datasets.

Where data is looked for, in order:

1. the dataset folder named by ``COURSE_DATASETS_DIR`` (a shared, read-only mirror
   is fine: MNIST/raw, FashionMNIST/raw, cifar-10-batches-py or CIFAR10-JPEG/*.tar);
2. the writable download folder (``data/`` in a checkout);
3. torchvision's download into that folder, unless ``COURSE_OFFLINE=1``.

Every raw file is checked against a known SHA-256 before it is used.
"""

from __future__ import annotations

import argparse
import io
import json
import socket
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
import torch
from PIL import Image
from torchvision import datasets as tv_datasets
from torchvision.datasets import VisionDataset

from .integrity import ChecksumError, verify_file
from .paths import DATASETS_ENV, OFFLINE_ENV, cache_dir, datasets_dir, download_dir, offline

CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip

# SHA-256 of the uncompressed IDX files and of the CIFAR-10 JPEG archives.
_IDX_SHA256 = {
    "MNIST": {
        "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
    "FashionMNIST": {
        "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
}
_CIFAR_JPEG_SHA256 = {
    "train": "0af4fcc72800b1eb9b819bf94008dc513084d8f3732f5c0ebfc83e4052b3f7d0",
    "test": "e48adedee3b04d8030be234342ac61b1d57961c070be4e10380b98c98b8ede40",
}
_CIFAR_JPEG_CACHE_VERSION = 1


@dataclass(frozen=True)
class _Spec:
    folder: str
    torchvision_class: type
    download_url: str


_SPECS = {
    "mnist": _Spec("MNIST", tv_datasets.MNIST, "https://ossci-datasets.s3.amazonaws.com/mnist/"),
    "fashion_mnist": _Spec(
        "FashionMNIST",
        tv_datasets.FashionMNIST,
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    ),
    "cifar10": _Spec("cifar-10-batches-py", tv_datasets.CIFAR10, "https://www.cs.toronto.edu/"),
}
DATASET_NAMES = tuple(_SPECS)


class DatasetNotFoundError(FileNotFoundError):
    """A data set is neither in the dataset folder nor downloadable right now."""


@dataclass
class ImageSet:
    """A labelled image set held in memory: ``images`` is uint8 N x C x H x W."""

    name: str
    split: str
    images: torch.Tensor
    labels: torch.Tensor
    classes: tuple[str, ...]
    source: str

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, n: int, seed: int = 0) -> ImageSet:
        """A seeded random subset of ``n`` examples (all of them if ``n >= len(self)``)."""
        if n >= len(self):
            return self
        order = torch.randperm(len(self), generator=torch.Generator().manual_seed(seed))[:n]
        order, _ = order.sort()
        return ImageSet(
            self.name, self.split, self.images[order], self.labels[order], self.classes, self.source
        )

    def channel_stats(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-channel mean and standard deviation of the pixels scaled to [0, 1]."""
        pixels = self.images.float().div_(255).transpose(0, 1).reshape(self.images.shape[1], -1)
        return pixels.mean(dim=1), pixels.std(dim=1)

    def tensors(
        self,
        device: torch.device | str = "cpu",
        normalize: bool = True,
        stats: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Float images in [0, 1] (standardised per channel if ``normalize``) and labels.

        Pass the training set's ``stats`` when preparing a test set, so both are
        scaled the same way.
        """
        x = self.images.to(device).float().div_(255)
        if normalize:
            mean, std = stats if stats is not None else self.channel_stats()
            x = (x - mean.to(device).view(1, -1, 1, 1)) / std.to(device).view(1, -1, 1, 1)
        return x, self.labels.to(device)


def _check_name(name: str) -> _Spec:
    key = name.strip().lower().replace("-", "_")
    if key not in _SPECS:
        raise ValueError(f"Unknown data set {name!r}; choose one of: {', '.join(DATASET_NAMES)}.")
    return _SPECS[key]


def _split(train: bool) -> str:
    return "train" if train else "test"


def _missing_message(name: str, why: str) -> str:
    return (
        f"The {name} data set could not be found or downloaded ({why}). Either set "
        f"{DATASETS_ENV} to a folder that holds it (for example a mirror your course "
        f"provides), or, when online, download it into data/ with:\n"
        f"    python -m course_utils.core.datasets download {name}"
    )


def _assert_reachable(name: str, url: str, timeout: float = 3.0) -> None:
    """Fail fast, instead of hanging, when the download host cannot be reached."""
    parsed = urlparse(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.hostname, port), timeout=timeout):
            pass
    except OSError as error:
        raise DatasetNotFoundError(
            _missing_message(name, f"cannot reach {parsed.hostname}: {error}")
        ) from error


def _download(name: str, spec: _Spec, train: bool) -> VisionDataset:
    if offline():
        raise DatasetNotFoundError(_missing_message(name, f"downloads are off: {OFFLINE_ENV}=1"))
    _assert_reachable(name, spec.download_url)
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(30)
    try:
        return spec.torchvision_class(root=str(download_dir()), train=train, download=True)
    except Exception as error:  # torchvision raises several kinds on a failed download
        raise DatasetNotFoundError(_missing_message(name, f"download failed: {error}")) from error
    finally:
        socket.setdefaulttimeout(previous)


def _roots() -> list[Path]:
    shared = datasets_dir()
    return [p for p in (shared, download_dir()) if p is not None]


def _find_idx(spec: _Spec) -> Path | None:
    for root in _roots():
        raw = root / spec.folder / "raw"
        if all((raw / f).is_file() for f in _IDX_SHA256[spec.folder]):
            return root
    return None


def _verify_idx(root: Path, spec: _Spec, name: str) -> None:
    fix = (
        f"Delete the damaged file and fetch it again (python -m course_utils.core.datasets "
        f"download {name}), or ask whoever maintains the folder in {DATASETS_ENV} to restore it."
    )
    for file, digest in _IDX_SHA256[spec.folder].items():
        verify_file(root / spec.folder / "raw" / file, digest, fix)


def _find_cifar_jpeg(train: bool) -> Path | None:
    for root in _roots():
        archive = root / "CIFAR10-JPEG" / f"{_split(train)}.tar"
        if archive.is_file():
            return archive
    return None


def _find_cifar_official() -> Path | None:
    for root in _roots():
        if (root / "cifar-10-batches-py").is_dir():
            return root
    return None


def _decode_cifar_jpeg(archive: Path) -> tuple[np.ndarray, np.ndarray]:
    """Decode ``<split>/<class>/<n>.jpg`` members into uint8 N x 32 x 32 x 3 and labels."""
    index = {c: i for i, c in enumerate(CIFAR10_CLASSES)}
    found: list[tuple[int, str, np.ndarray]] = []
    with tarfile.open(archive) as tar:
        for member in tar:
            parts = Path(member.name).parts
            if not member.isfile() or len(parts) < 3 or not parts[-1].endswith(".jpg"):
                continue
            label = index[parts[-2]]
            with Image.open(io.BytesIO(tar.extractfile(member).read())) as img:
                found.append((label, parts[-1], np.asarray(img.convert("RGB"))))
    found.sort(key=lambda item: (item[0], item[1]))
    images = np.stack([item[2] for item in found])
    labels = np.array([item[0] for item in found], dtype=np.int64)
    return images, labels


def _cifar_jpeg_arrays(archive: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """CIFAR-10 from the JPEG archive, decoded once and cached as .npy files."""
    stem = cache_dir() / f"cifar10-jpeg-{split}"
    images_path, labels_path, meta_path = (
        stem.with_name(stem.name + suffix) for suffix in ("-images.npy", "-labels.npy", ".json")
    )
    expected_meta = {"sha256": _CIFAR_JPEG_SHA256[split], "version": _CIFAR_JPEG_CACHE_VERSION}
    try:
        if json.loads(meta_path.read_text()) == expected_meta:
            images = np.load(images_path, mmap_mode=None)
            labels = np.load(labels_path)
            if images.shape[1:] == (32, 32, 3) and len(images) == len(labels):
                return images, labels
    except (OSError, ValueError):
        pass  # no cache yet, or a damaged one: rebuild it below
    verify_file(
        archive,
        _CIFAR_JPEG_SHA256[split],
        f"Replace {archive.name} with an intact copy, or unset {DATASETS_ENV} to download "
        "the official CIFAR-10 instead.",
    )
    images, labels = _decode_cifar_jpeg(archive)
    for path, array in ((images_path, images), (labels_path, labels)):
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, array)
        tmp.replace(path)
    meta_path.write_text(json.dumps(expected_meta))
    return images, labels


class ArrayImageDataset(VisionDataset):
    """A torchvision-style dataset over uint8 H x W x 3 arrays, like ``datasets.CIFAR10``."""

    def __init__(
        self,
        data: np.ndarray,
        targets: list[int],
        classes: tuple[str, ...],
        root: str,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
    ) -> None:
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.data = data
        self.targets = targets
        self.classes = list(classes)
        self.class_to_idx = {c: i for i, c in enumerate(classes)}

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        image: Any = Image.fromarray(self.data[index])
        target: Any = self.targets[index]
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target


def torchvision_dataset(
    name: str,
    train: bool = True,
    transform: Callable | None = None,
    target_transform: Callable | None = None,
) -> VisionDataset:
    """The data set as a torchvision dataset (PIL images through ``transform``)."""
    spec = _check_name(name)
    kwargs = {"transform": transform, "target_transform": target_transform}
    if spec.folder in _IDX_SHA256:
        root = _find_idx(spec)
        if root is None:
            _download(name, spec, train)
            root = download_dir()
        _verify_idx(root, spec, name)
        return spec.torchvision_class(root=str(root), train=train, download=False, **kwargs)
    official = _find_cifar_official()
    if official is not None:
        try:
            return tv_datasets.CIFAR10(root=str(official), train=train, download=False, **kwargs)
        except RuntimeError as error:
            raise ChecksumError(
                f"CIFAR-10 in {official} failed torchvision's integrity check ({error}). "
                "Delete cifar-10-batches-py there and download it again."
            ) from error
    archive = _find_cifar_jpeg(train)
    if archive is not None:
        images, labels = _cifar_jpeg_arrays(archive, _split(train))
        return ArrayImageDataset(
            images, labels.tolist(), CIFAR10_CLASSES, str(archive.parent), **kwargs
        )
    _download(name, spec, train)
    return tv_datasets.CIFAR10(root=str(download_dir()), train=train, download=False, **kwargs)


def load_images(name: str, train: bool = True) -> ImageSet:
    """The whole split in memory: uint8 images N x C x H x W, int64 labels, class names."""
    dataset = torchvision_dataset(name, train=train)
    data = dataset.data
    images = torch.as_tensor(np.asarray(data)) if not isinstance(data, torch.Tensor) else data
    images = images.unsqueeze(1) if images.ndim == 3 else images.permute(0, 3, 1, 2)
    labels = torch.as_tensor(np.asarray(dataset.targets), dtype=torch.int64)
    return ImageSet(
        name=name,
        split=_split(train),
        images=images.contiguous(),
        labels=labels,
        classes=tuple(dataset.classes),
        source=str(dataset.root),
    )


def find_dataset(name: str) -> str | None:
    """Where ``name`` would load from without downloading, or ``None`` if it would not."""
    spec = _check_name(name)
    if spec.folder in _IDX_SHA256:
        root = _find_idx(spec)
        return str(root / spec.folder) if root else None
    official = _find_cifar_official()
    if official is not None:
        return str(official / "cifar-10-batches-py")
    archive = _find_cifar_jpeg(train=True)
    return str(archive.parent) if archive else None


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_utils.core.datasets")
    sub = parser.add_subparsers(dest="command", required=True)
    get = sub.add_parser("download", help="download data sets into data/ (needs internet)")
    get.add_argument("names", nargs="*", default=list(DATASET_NAMES), choices=DATASET_NAMES)
    sub.add_parser("where", help="show where each data set would load from")
    args = parser.parse_args(argv)
    if args.command == "where":
        for name in DATASET_NAMES:
            print(f"{name:14s} {find_dataset(name) or 'not found'}")
        return 0
    for name in args.names:
        start = time.perf_counter()
        for train in (True, False):
            load_images(name, train=train)
        print(f"{name}: ready ({time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
