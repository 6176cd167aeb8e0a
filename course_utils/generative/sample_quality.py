"""Scoring generated images with a separately trained classifier (the "judge").

- ``DigitJudge``: a small CNN for 1-channel digit images; ``features`` gives its
  penultimate-layer features, ``forward`` its class scores;
- ``load_or_train_judge``: trains one, or loads it from the course cache after
  checking the file's SHA-256 (a missing or damaged file is retrained);
- ``class_agreement``: the fraction of images the judge assigns to the class asked for;
- ``frechet_distance``: the Frechet distance between two Gaussians,
  ``|mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2))``, and ``feature_frechet_distance``
  for two sets of images through the judge's features (the FID recipe of Heusel et
  al. 2017, with this small judge in place of the Inception network).

Images go into the judge as float tensors in [0, 1], N x 1 x H x W.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import scipy.linalg
import torch
from torch import nn

from ..core.datasets import load_images
from ..core.integrity import sha256_of
from ..core.paths import cache_dir
from ..core.profile import Profile
from ..core.training import evaluate, fit
from .denoisers import half_size

JUDGE_VERSION = 1


class DigitJudge(nn.Module):
    """conv 32 - pool - conv 64 - pool - ``feature_dim`` features - classes, for small gray images."""

    def __init__(self, num_classes: int = 10, feature_dim: int = 64, image_size: int = 14) -> None:
        super().__init__()
        side = image_size // 4
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * side * side, feature_dim), nn.ReLU(),
        )  # fmt: skip
        self.classifier = nn.Linear(feature_dim, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate-layer features (after the last ReLU), N x ``feature_dim``."""
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


def _standardize(x: torch.Tensor) -> torch.Tensor:
    # The judge sees images centred and scaled to roughly unit variance, whatever their source.
    return (x - 0.5) / 0.5


class _Standardized(nn.Module):
    def __init__(self, judge: DigitJudge) -> None:
        super().__init__()
        self.judge = judge

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.judge(_standardize(x))


def train_judge(
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    epochs: int,
    seed: int = 0,
    batch_size: int = 64,
    progress: bool = True,
) -> DigitJudge:
    """Train a ``DigitJudge`` on float images in [0, 1]; leaves the global RNG state untouched."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        judge = DigitJudge(image_size=images.shape[-1]).to(images.device)
        wrapped = _Standardized(judge)
        optimizer = torch.optim.Adam(judge.parameters(), lr=2e-3)
        fit(
            wrapped, (images, labels), epochs=epochs, optimizer=optimizer, batch_size=batch_size,
            generator=torch.Generator().manual_seed(seed), progress=progress, desc="judge",
        )  # fmt: skip
    judge.eval()
    return judge


def judge_accuracy(judge: DigitJudge, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Accuracy of the judge on float images in [0, 1]."""
    return evaluate(_Standardized(judge), images, labels)[1]


def load_or_train_judge(
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    epochs: int,
    name: str,
    seed: int = 0,
    progress: bool = True,
    folder: Path | None = None,
) -> tuple[DigitJudge, str]:
    """A judge for these images: from the cache if an intact copy is there, else trained and cached.

    ``name`` should say what the judge was trained on (e.g. ``"mnist14"``); the number
    of images, epochs and the seed are added to the file name. Returns the judge and
    where it came from (``"cache"``, ``"trained"`` or ``"retrained: <why>"``).
    """
    folder = folder or cache_dir()
    stem = f"judge-v{JUDGE_VERSION}-{name}-n{len(images)}-e{epochs}-s{seed}"
    weights, meta = folder / f"{stem}.pt", folder / f"{stem}.json"
    why = "trained"
    if weights.is_file() and meta.is_file():
        try:
            recorded = json.loads(meta.read_text())["sha256"]
            if sha256_of(weights) == recorded:
                judge = DigitJudge(image_size=images.shape[-1])
                judge.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
                return judge.to(images.device).eval(), "cache"
            why = "retrained: checksum mismatch"
        except (OSError, ValueError, KeyError, RuntimeError) as error:
            why = f"retrained: unreadable cache ({type(error).__name__})"
    judge = train_judge(images, labels, epochs=epochs, seed=seed, progress=progress)
    tmp = weights.with_suffix(".tmp")
    torch.save({k: v.cpu() for k, v in judge.state_dict().items()}, tmp)
    tmp.replace(weights)
    meta.write_text(
        json.dumps({"sha256": sha256_of(weights), "images": len(images), "epochs": epochs})
    )
    return judge, why


def mnist14_judge(
    profile: Profile, device: torch.device | str = "cpu", progress: bool = True
) -> tuple[DigitJudge, str]:
    """The course's judge for 14 x 14 MNIST digits, the same in every lesson that uses it.

    Trained on ``profile.samples(60_000, minimum=20_000)`` training images for
    ``profile.epochs(8)`` epochs (cached; see ``load_or_train_judge``).
    """
    train = load_images("mnist", train=True).subset(profile.samples(60_000, minimum=20_000))
    return load_or_train_judge(
        half_size(train.images).to(device), train.labels.to(device),
        epochs=profile.epochs(8), name="mnist14", progress=progress,
    )  # fmt: skip


@torch.no_grad()
def judge_predictions(
    judge: DigitJudge, images: torch.Tensor, batch_size: int = 1000
) -> torch.Tensor:
    """The judge's class for each float image in [0, 1]."""
    device = next(judge.parameters()).device
    out = [judge(_standardize(xb.to(device))).argmax(1).cpu() for xb in images.split(batch_size)]
    return torch.cat(out)


def class_agreement(judge: DigitJudge, images: torch.Tensor, requested: torch.Tensor) -> float:
    """Fraction of images that the judge puts into the class that was asked for."""
    return (judge_predictions(judge, images) == requested.cpu()).float().mean().item()


@torch.no_grad()
def judge_features(judge: DigitJudge, images: torch.Tensor, batch_size: int = 1000) -> np.ndarray:
    """The judge's penultimate features of float images in [0, 1], as float64 N x D."""
    device = next(judge.parameters()).device
    parts = [judge.features(_standardize(xb.to(device))).cpu() for xb in images.split(batch_size)]
    return torch.cat(parts).double().numpy()


def within_class_spread(features: np.ndarray, labels: np.ndarray | torch.Tensor) -> float:
    """Mean distance of a feature vector to its class's mean feature, averaged over classes.

    A diversity measure: samples that all look alike have a small spread.
    """
    features, labels = np.asarray(features, dtype=np.float64), np.asarray(labels)
    spreads = [
        np.linalg.norm(features[labels == k] - features[labels == k].mean(axis=0), axis=1).mean()
        for k in np.unique(labels)
    ]
    return float(np.mean(spreads))


def gaussian_fit(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (unbiased) covariance of N x D features."""
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"need an N x D array with N >= 2, got shape {features.shape}")
    return features.mean(axis=0), np.atleast_2d(np.cov(features, rowvar=False))


def _sqrtm(matrix: np.ndarray) -> np.ndarray:
    # Singular (but positive semi-definite) products are expected here; SciPy warns about
    # them although its result is still usable, so the warning is silenced.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        return scipy.linalg.sqrtm(matrix)


def frechet_distance(
    mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray
) -> float:
    """Frechet distance between N(mu1, sigma1) and N(mu2, sigma2).

    ``|mu1 - mu2|^2 + tr(sigma1 + sigma2 - 2 sqrtm(sigma1 @ sigma2))``, with the matrix
    square root from ``scipy.linalg.sqrtm``; a tiny imaginary part that rounding
    leaves in the square root is dropped.
    """
    mu1, mu2 = np.atleast_1d(mu1).astype(np.float64), np.atleast_1d(mu2).astype(np.float64)
    sigma1, sigma2 = np.atleast_2d(sigma1), np.atleast_2d(sigma2)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape:
        raise ValueError("the two Gaussians must have the same dimension")
    root = _sqrtm(sigma1 @ sigma2)
    if not np.isfinite(root).all():
        # A singular product (fewer samples than dimensions, or features that never fire)
        # can defeat sqrtm: nudge both covariances, as the reference FID code does.
        offset = 1e-6 * np.eye(len(sigma1))
        root = _sqrtm((sigma1 + offset) @ (sigma2 + offset))
    root = np.real(root)
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(root))


def feature_frechet_distance(
    judge: DigitJudge, images_a: torch.Tensor, images_b: torch.Tensor
) -> float:
    """Frechet distance between two image sets, measured on the judge's features."""
    return frechet_distance(
        *gaussian_fit(judge_features(judge, images_a)),
        *gaussian_fit(judge_features(judge, images_b)),
    )
