"""Promptable segmentation: a small Segment-Anything-style model for the course's scenes.

Lesson 16 builds the three parts of SAM (Kirillov et al. 2023) at toy size and trains
them on ``course_utils.coco_scenes``:

- :class:`ImageEncoder`: 3 x 64 x 64 image -> ``dim`` x 16 x 16 embedding (convolutions,
  then one transformer layer), plus ``dim / 2`` x 32 x 32 features for the decoder's
  upsampling; it runs **once per image**;
- :class:`PromptEncoder`: each click or box corner -> one token = random Fourier
  features of its coordinates + a learned embedding of its type (positive or negative
  point, top-left or bottom-right box corner);
- :class:`MaskDecoder`: output tokens and prompt tokens attend to each other and, both
  ways, to the image embedding (two-way transformer), then each mask token becomes a
  per-pixel linear classifier on the upsampled embedding; an extra token predicts each
  mask's IoU;
- :class:`PromptableSegmenter` puts them together, :func:`sample_prompts` draws training
  prompts (points, boxes) from instance maps, :func:`train_promptable` trains it, and
  :func:`segment_prompts`, :func:`center_click`, :func:`corrective_click`, :func:`mask_iou`
  evaluate it; :func:`plot_prompt` draws the figure behind the lesson's interactive control;
- :func:`find_sam_checkpoint`, :func:`load_real_sam`: use Meta's SAM when its package and
  a local checkpoint are present (nothing is ever downloaded).

Coordinates are continuous pixel coordinates ``(x, y)`` with the image's top-left corner
at ``(0, 0)``, so pixel ``(col, row)`` has its centre at ``(col + 0.5, row + 0.5)``.
Point labels: ``1`` positive click, ``0`` negative click, ``2`` / ``3`` the top-left /
bottom-right corner of a box, ``-1`` an empty slot (padding).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

__all__ = [
    "NEGATIVE",
    "PAD",
    "POSITIVE",
    "BOX_BR",
    "BOX_TL",
    "SAM_CHECKPOINT_ENV",
    "ImageEncoder",
    "MaskDecoder",
    "PromptEncoder",
    "PromptableSegmenter",
    "Prompts",
    "TwoWayBlock",
    "box_prompt",
    "center_click",
    "corrective_click",
    "count_flops",
    "find_sam_checkpoint",
    "fourier_features",
    "load_real_sam",
    "mask_iou",
    "mask_losses",
    "plot_prompt",
    "point_prompt",
    "sample_prompts",
    "segment_prompts",
    "train_promptable",
]

PAD, NEGATIVE, POSITIVE, BOX_TL, BOX_BR = -1, 0, 1, 2, 3
SAM_CHECKPOINT_ENV = "SAM_CHECKPOINT"


# -- prompt encoding -----------------------------------------------------------------
def fourier_features(xy: torch.Tensor, gaussian: torch.Tensor, image_size: int) -> torch.Tensor:
    """Random Fourier features of pixel coordinates: ``[sin(2 pi u B), cos(2 pi u B)]``.

    ``xy`` (..., 2) in pixels is mapped to ``u`` in [-1, 1] (``2 xy / image_size - 1``),
    projected by ``gaussian`` (2 x d/2) and returned as (..., d).
    """
    u = 2 * xy / image_size - 1
    angles = 2 * math.pi * u @ gaussian
    return torch.cat([angles.sin(), angles.cos()], dim=-1)


class PromptEncoder(nn.Module):
    """Points and box corners -> tokens; also the dense positional encoding of the image grid."""

    def __init__(self, dim: int = 64, image_size: int = 64, scale: float = 2.0, seed: int = 0):
        super().__init__()
        if dim % 2:
            raise ValueError(f"dim must be even, got {dim}")
        self.dim, self.image_size = dim, image_size
        g = torch.Generator().manual_seed(seed)
        self.register_buffer("gaussian", torch.randn(2, dim // 2, generator=g) * scale)
        self.type_embed = nn.Embedding(4, dim)  # negative, positive, box top-left, box bottom-right
        self.pad_embed = nn.Parameter(torch.zeros(dim))

    def positional(self, xy: torch.Tensor) -> torch.Tensor:
        """Fourier features of coordinates ``xy`` (..., 2) in pixels."""
        return fourier_features(xy, self.gaussian, self.image_size)

    def dense(self, height: int, width: int) -> torch.Tensor:
        """Positional encoding of every cell centre of a ``height`` x ``width`` grid: dim x h x w."""
        ys = (torch.arange(height, device=self.gaussian.device) + 0.5) * self.image_size / height
        xs = (torch.arange(width, device=self.gaussian.device) + 0.5) * self.image_size / width
        grid = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), dim=-1)  # h x w x 2 as (x, y)
        return self.positional(grid).permute(2, 0, 1)

    def forward(self, points: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """``points`` P x K x 2 (pixels), ``labels`` P x K (-1 = empty) -> tokens P x K x dim."""
        pad = labels < 0
        tokens = self.positional(points) + self.type_embed(labels.clamp(min=0))
        return torch.where(pad[..., None], self.pad_embed.expand_as(tokens), tokens)


# -- image encoder -------------------------------------------------------------------
def _conv_bn_relu(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)
    )


class _Residual(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(dim, dim, 3, 1, 1, bias=False), nn.BatchNorm2d(dim), nn.ReLU(inplace=True),
            nn.Conv2d(dim, dim, 3, 1, 1, bias=False), nn.BatchNorm2d(dim),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x + self.body(x))


class ImageEncoder(nn.Module):
    """3 x 64 x 64 -> (dim x 16 x 16 embedding, dim/4 x 64 x 64 per-pixel features).

    Convolutions down to a 16 x 16 grid, then a transformer layer over its 256 cells
    (with the prompt encoder's positional encoding added) for global context. A small
    upsampling path (transposed convolutions with skip connections, as in lesson 13)
    turns the embedding into per-pixel features at full resolution, once per image.
    """

    def __init__(self, dim: int = 64, blocks: int = 3, heads: int = 4):
        super().__init__()
        self.stem = nn.Sequential(_conv_bn_relu(3, dim // 2, 2), _conv_bn_relu(dim // 2, dim // 2))  # 32 x 32
        self.down = nn.Sequential(_conv_bn_relu(dim // 2, dim, 2), *[_Residual(dim) for _ in range(blocks)])
        self.attention = nn.TransformerEncoderLayer(
            dim, heads, 2 * dim, dropout=0.0, activation="gelu", batch_first=True, norm_first=True
        )
        self.norm = nn.LayerNorm(dim)
        self.up1 = nn.ConvTranspose2d(dim, dim // 2, 2, 2)  # 16 -> 32
        self.fuse1 = _conv_bn_relu(dim // 2, dim // 2)
        self.up2 = nn.ConvTranspose2d(dim // 2, dim // 4, 2, 2)  # 32 -> 64
        self.fine = _conv_bn_relu(3, dim // 4)  # full-resolution detail straight from the pixels
        self.fuse2 = nn.Conv2d(dim // 4, dim // 4, 3, 1, 1)

    def forward(self, images: torch.Tensor, dense_pe: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        high = self.stem(images)
        x = self.down(high)
        n, c, h, w = x.shape
        tokens = x.flatten(2).transpose(1, 2) + dense_pe.flatten(1).T
        tokens = self.norm(self.attention(tokens))
        embedding = tokens.transpose(1, 2).reshape(n, c, h, w)
        up = self.fuse1(self.up1(embedding) + high)
        pixels = self.fuse2(F.relu(self.up2(up) + self.fine(images)))
        return embedding, pixels


# -- mask decoder --------------------------------------------------------------------
class _MLP(nn.Sequential):
    def __init__(self, dims: Sequence[int]):
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(dims[:-1], dims[1:], strict=True)):
            layers.append(nn.Linear(a, b))
            if i < len(dims) - 2:
                layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)


class TwoWayBlock(nn.Module):
    """One decoder layer: token self-attention, tokens -> image, MLP, image -> tokens.

    Positional encodings are added to queries and keys (not values) at every attention,
    as in SAM's decoder; each step is followed by a residual connection and LayerNorm.
    """

    def __init__(self, dim: int, heads: int = 4, mlp_dim: int = 128):
        super().__init__()
        self.self_attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.token_to_image = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.image_to_token = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.mlp = _MLP([dim, mlp_dim, dim])
        self.norms = nn.ModuleList(nn.LayerNorm(dim) for _ in range(4))

    def forward(
        self, tokens: torch.Tensor, token_pe: torch.Tensor, image: torch.Tensor, image_pe: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        q = tokens + token_pe
        tokens = self.norms[0](tokens + self.self_attn(q, q, tokens, need_weights=False)[0])
        q, k = tokens + token_pe, image + image_pe
        tokens = self.norms[1](tokens + self.token_to_image(q, k, image, need_weights=False)[0])
        tokens = self.norms[2](tokens + self.mlp(tokens))
        q, k = tokens + token_pe, image + image_pe
        image = self.norms[3](image + self.image_to_token(k, q, tokens, need_weights=False)[0])
        return tokens, image


class MaskDecoder(nn.Module):
    """Prompt tokens + image embedding -> ``num_masks`` mask logits (64 x 64) and their predicted IoU."""

    def __init__(self, dim: int = 64, num_masks: int = 3, layers: int = 2, heads: int = 4):
        super().__init__()
        self.num_masks = num_masks
        self.output_tokens = nn.Parameter(torch.randn(1 + num_masks, dim) * 0.1)  # IoU token + mask tokens
        self.no_mask = nn.Parameter(torch.zeros(dim))  # the dense prompt when no mask is given
        self.blocks = nn.ModuleList(TwoWayBlock(dim, heads, 2 * dim) for _ in range(layers))
        self.final_attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.final_norm = nn.LayerNorm(dim)
        # each mask token -> weights for the pixel features (dim/4) and for the pixel's position (dim)
        self.hyper = nn.ModuleList(_MLP([dim, dim, dim // 4 + dim]) for _ in range(num_masks))
        self.iou_head = _MLP([dim, dim, num_masks])

    def forward(
        self,
        embedding: torch.Tensor,
        pixels: torch.Tensor,
        image_pe: torch.Tensor,
        pixel_pe: torch.Tensor,
        prompt_tokens: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``embedding`` P x C x h x w and ``pixels`` P x C/4 x H x W (the image of each prompt),
        ``image_pe`` C x h x w and ``pixel_pe`` C x H x W (positional encodings of the grid's
        cells and of the pixels), ``prompt_tokens`` P x K x C -> (P x M x H x W logits, P x M IoU).

        Each mask token becomes, through a small MLP, the weights of a linear classifier
        applied to every pixel: mask logit = weights . [pixel features, pixel position encoding].
        """
        p, c, h, w = embedding.shape
        tokens = torch.cat([self.output_tokens.expand(p, -1, -1), prompt_tokens], dim=1)
        token_pe = tokens
        image = (embedding + self.no_mask[:, None, None]).flatten(2).transpose(1, 2)
        pe = image_pe.flatten(1).T.expand(p, -1, -1)
        for block in self.blocks:
            tokens, image = block(tokens, token_pe, image, pe)
        q, k = tokens + token_pe, image + pe
        tokens = self.final_norm(tokens + self.final_attn(q, k, image, need_weights=False)[0])
        weights = torch.stack([mlp(tokens[:, 1 + i]) for i, mlp in enumerate(self.hyper)], dim=1)
        features = pixels.shape[1]
        masks = torch.einsum("pmc,pchw->pmhw", weights[..., :features], pixels)
        masks = masks + torch.einsum("pmc,chw->pmhw", weights[..., features:], pixel_pe)
        return masks, self.iou_head(tokens[:, 0])


class PromptableSegmenter(nn.Module):
    """Image encoder + prompt encoder + mask decoder. Encode an image once, decode many prompts."""

    def __init__(self, dim: int = 64, num_masks: int = 3, image_size: int = 64, blocks: int = 3,
                 decoder_layers: int = 2, pe_scale: float = 2.0, seed: int = 0):
        super().__init__()
        self.image_size = image_size
        self.prompt_encoder = PromptEncoder(dim, image_size, pe_scale, seed)
        self.image_encoder = ImageEncoder(dim, blocks)
        self.mask_decoder = MaskDecoder(dim, num_masks, decoder_layers)
        self.grid = image_size // 4

    @property
    def num_masks(self) -> int:
        return self.mask_decoder.num_masks

    def image_pe(self) -> torch.Tensor:
        return self.prompt_encoder.dense(self.grid, self.grid)

    def embed(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The expensive part, once per image: N x 3 x H x W in [0, 1] -> (embedding, pixel features)."""
        return self.image_encoder(images, self.image_pe())

    def decode(
        self,
        embeddings: tuple[torch.Tensor, torch.Tensor],
        points: torch.Tensor,
        labels: torch.Tensor,
        image_index: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The cheap part, once per prompt. ``image_index`` (P,) says which image each prompt is on
        (default: prompt ``i`` on image ``i``). Returns mask logits P x M x H x W and IoU P x M."""
        embedding, pixels = embeddings
        if image_index is not None:
            embedding, pixels = embedding[image_index], pixels[image_index]
        size = pixels.shape[-1]
        pixel_pe = self.prompt_encoder.dense(size, size)
        tokens = self.prompt_encoder(points, labels) + self.point_features(embedding, points, labels)
        return self.mask_decoder(embedding, pixels, self.image_pe(), pixel_pe, tokens)

    def point_features(self, embedding: torch.Tensor, points: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """The image embedding read at each clicked point (bilinear), zero for box corners and padding.

        A shortcut of this small model (SAM has no such step): the click token starts out
        knowing what the image looks like at the click, instead of having to learn to
        find it by attention.
        """
        u = 2 * points / self.image_size - 1  # grid_sample's coordinates: -1 and 1 are the image's edges
        sampled = F.grid_sample(embedding, u[:, :, None, :], align_corners=False)[..., 0].transpose(1, 2)
        is_click = (labels == POSITIVE) | (labels == NEGATIVE)
        return sampled * is_click[..., None]

    def forward(self, images: torch.Tensor, points: torch.Tensor, labels: torch.Tensor,
                image_index: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        return self.decode(self.embed(images), points, labels, image_index)


# -- prompts -------------------------------------------------------------------------
@dataclass
class Prompts:
    """A batch of prompts: which image, the prompt points and labels, and the target mask."""

    image_index: torch.Tensor  # P, int64
    points: torch.Tensor  # P x K x 2, float (x, y) in pixels
    labels: torch.Tensor  # P x K, int64 (see the module docstring)
    targets: torch.Tensor  # P x H x W, bool

    def __len__(self) -> int:
        return len(self.image_index)


def point_prompt(x: float, y: float, slots: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    """One positive click at pixel ``(x, y)`` (its centre), as points 1 x K x 2 and labels 1 x K."""
    points = torch.zeros(1, slots, 2)
    labels = torch.full((1, slots), PAD)
    points[0, 0] = torch.tensor([x + 0.5, y + 0.5])
    labels[0, 0] = POSITIVE
    return points, labels


def box_prompt(box: Sequence[float], slots: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    """A box ``(x1, y1, x2, y2)`` in pixels as two corner points (labels 2 and 3)."""
    points = torch.zeros(1, slots, 2)
    labels = torch.full((1, slots), PAD)
    points[0, 0], points[0, 1] = torch.tensor(box[:2], dtype=torch.float32), torch.tensor(box[2:], dtype=torch.float32)
    labels[0, 0], labels[0, 1] = BOX_TL, BOX_BR
    return points, labels


def _random_pixel(masks: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """One uniformly drawn pixel centre (x, y) inside each mask (P x H x W, all non-empty)."""
    w = masks.shape[-1]
    weights = masks.flatten(1).float()
    if generator is not None and generator.device != weights.device:
        weights = weights.to(generator.device)  # draw where the generator lives (a CPU one, say)
    flat = torch.multinomial(weights, 1, generator=generator)[:, 0].to(masks.device)
    return torch.stack([flat % w, flat // w], dim=1).float() + 0.5


def _boxes_of(masks: torch.Tensor) -> torch.Tensor:
    """Tight boxes (x1, y1, x2, y2), pixel-corner coordinates, of P non-empty masks."""
    h, w = masks.shape[-2:]
    rows, cols = masks.any(2), masks.any(1)
    ar_h, ar_w = torch.arange(h, device=masks.device), torch.arange(w, device=masks.device)
    y1 = torch.where(rows, ar_h, h).amin(1)
    y2 = torch.where(rows, ar_h, -1).amax(1) + 1
    x1 = torch.where(cols, ar_w, w).amin(1)
    x2 = torch.where(cols, ar_w, -1).amax(1) + 1
    return torch.stack([x1, y1, x2, y2], dim=1).float()


def sample_prompts(
    instances: torch.Tensor,
    counts: torch.Tensor,
    per_image: int = 4,
    box_fraction: float = 0.25,
    two_point_fraction: float = 0.25,
    box_noise: float = 0.1,
    generator: torch.Generator | None = None,
) -> Prompts:
    """Draw ``per_image`` prompts on each of N images.

    ``instances`` N x H x W (0 = no object, j = object j), ``counts`` N objects per image
    (at least 1). Each prompt picks an object at random; its target is that object's mask.
    The prompt is a box around it (fraction ``box_fraction``, corners moved by Gaussian
    noise of ``box_noise`` x the box side), one positive click inside it and a second
    click (fraction ``two_point_fraction``: half positive inside, half negative outside),
    or else one positive click. Slots not used are padding (label -1).
    """
    device = instances.device
    n, h, w = instances.shape
    image_index = torch.arange(n, device=device).repeat_interleave(per_image)
    p = len(image_index)
    pick = torch.rand(p, generator=generator).to(device)
    object_id = 1 + (pick * counts[image_index].float()).long().clamp(max=counts[image_index] - 1)
    targets = instances[image_index] == object_id[:, None, None].to(instances.dtype)
    points = torch.zeros(p, 2, 2, device=device)
    labels = torch.full((p, 2), PAD, dtype=torch.long, device=device)
    points[:, 0] = _random_pixel(targets, generator).to(device)
    labels[:, 0] = POSITIVE
    kind = torch.rand(p, generator=generator).to(device)
    is_box = kind < box_fraction
    two = (kind >= box_fraction) & (kind < box_fraction + two_point_fraction)
    negative = two & (torch.rand(p, generator=generator).to(device) < 0.5)
    if two.any():
        second_region = torch.where(negative[:, None, None], ~targets, targets)
        points[:, 1] = torch.where(two[:, None], _random_pixel(second_region | ~two[:, None, None], generator).to(device),
                                   points[:, 1])
        labels[:, 1] = torch.where(negative, NEGATIVE, torch.where(two, POSITIVE, PAD))
    if is_box.any():
        boxes = _boxes_of(targets)
        side = torch.cat([boxes[:, 2:] - boxes[:, :2]] * 2, dim=1)
        noise = torch.randn(p, 4, generator=generator).to(device) * box_noise * side
        boxes = (boxes + noise).clamp(0, float(max(h, w)))
        corners = boxes.reshape(p, 2, 2)
        points = torch.where(is_box[:, None, None], corners, points)
        labels = torch.where(is_box[:, None], torch.tensor([BOX_TL, BOX_BR], device=device), labels)
    return Prompts(image_index, points, labels, targets)


# -- losses and scores ---------------------------------------------------------------
def mask_iou(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """IoU of boolean masks (... x H x W) pair by pair; 1.0 where both are empty."""
    inter = (pred & target).flatten(-2).sum(-1).float()
    union = (pred | target).flatten(-2).sum(-1).float()
    return torch.where(union > 0, inter / union.clamp(min=1), torch.ones_like(union))


def mask_losses(logits: torch.Tensor, targets: torch.Tensor, focal: bool = False) -> torch.Tensor:
    """The mask loss of every output mask: per-pixel cross-entropy + dice loss.

    ``logits`` P x M x H x W, ``targets`` P x H x W (bool) -> P x M losses. With
    ``focal=True`` it is SAM's combination, 20 x focal loss + dice loss, which needs a
    much longer training than this course's to work well.
    """
    t = targets[:, None].float().expand_as(logits)
    prob = logits.sigmoid()
    ce = F.binary_cross_entropy_with_logits(logits, t, reduction="none")
    if focal:
        p_t = prob * t + (1 - prob) * (1 - t)
        alpha_t = 0.25 * t + 0.75 * (1 - t)
        pixel_loss = 20 * (alpha_t * ce * (1 - p_t) ** 2).flatten(2).mean(-1)
    else:
        pixel_loss = ce.flatten(2).mean(-1)
    dice = 1 - (2 * (prob * t).flatten(2).sum(-1) + 1) / (prob.flatten(2).sum(-1) + t.flatten(2).sum(-1) + 1)
    return pixel_loss + dice


def train_promptable(
    model: PromptableSegmenter,
    images: torch.Tensor,
    instances: torch.Tensor,
    steps: int,
    batch_size: int = 16,
    per_image: int = 4,
    lr: float = 3e-3,
    generator: torch.Generator | None = None,
    progress: bool = True,
    desc: str = "train",
    focal: bool = False,
) -> dict[str, list[float]]:
    """Train on random prompts; returns per-step ``loss`` (mask + IoU) and ``iou`` (chosen mask).

    Each step encodes ``batch_size`` images once (flipped at random) and decodes
    ``per_image`` prompts on each. Only the best of the ``M`` masks is trained (the
    lowest loss, as in SAM), and the IoU head learns each mask's actual IoU (MSE).
    ``focal`` chooses SAM's mask loss (see :func:`mask_losses`).
    """
    device = next(model.parameters()).device
    counts = instances.flatten(1).amax(1).long()
    usable = torch.nonzero(counts > 0)[:, 0]
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, lr, total_steps=steps, pct_start=0.1)
    history: dict[str, list[float]] = {"loss": [], "iou": []}
    model.train()
    for _ in tqdm(range(steps), desc=desc, disable=not progress, leave=False):
        index = usable[torch.randint(len(usable), (batch_size,), generator=generator)].to(images.device)
        x, inst = images[index].to(device), instances[index].to(device)
        flip = (torch.rand(batch_size, generator=generator) < 0.5).to(device)
        x = torch.where(flip[:, None, None, None], x.flip(-1), x)
        inst = torch.where(flip[:, None, None], inst.flip(-1), inst)
        prompts = sample_prompts(inst, counts[index].to(device), per_image, generator=generator)
        logits, iou_pred = model(x, prompts.points, prompts.labels, prompts.image_index)
        losses = mask_losses(logits, prompts.targets, focal=focal)
        best = losses.argmin(1)
        with torch.no_grad():
            actual = mask_iou(logits > 0, prompts.targets[:, None])
        loss = losses.gather(1, best[:, None]).mean() + F.mse_loss(iou_pred, actual)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        history["loss"].append(loss.item())
        history["iou"].append(actual.gather(1, iou_pred.argmax(1, keepdim=True)).mean().item())
    model.eval()
    return history


@torch.no_grad()
def segment_prompts(
    model: PromptableSegmenter,
    embeddings: tuple[torch.Tensor, torch.Tensor],
    points: torch.Tensor,
    labels: torch.Tensor,
    image_index: torch.Tensor,
    batch_size: int = 512,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Decode prompts on precomputed embeddings, in batches.

    Returns all masks (P x M x H x W, bool), the predicted IoUs (P x M) and the mask the
    IoU head ranks first (P x H x W, bool).
    """
    model.eval()
    device = embeddings[0].device
    masks, scores = [], []
    for s in range(0, len(points), batch_size):
        sl = slice(s, s + batch_size)
        logits, iou = model.decode(embeddings, points[sl].to(device), labels[sl].to(device), image_index[sl].to(device))
        masks.append((logits > 0).cpu())
        scores.append(iou.cpu())
    all_masks, all_scores = torch.cat(masks), torch.cat(scores)
    chosen = all_masks[torch.arange(len(all_masks)), all_scores.argmax(1)]
    return all_masks, all_scores, chosen


def center_click(mask: np.ndarray) -> tuple[int, int]:
    """The pixel ``(x, y)`` of a mask farthest from its boundary (ties: first in row-major order)."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        raise ValueError("the mask is empty")
    distance = cv2.distanceTransform(np.pad(mask, 1).astype(np.uint8), cv2.DIST_L2, 5)[1:-1, 1:-1]
    row, col = np.unravel_index(int(np.argmax(distance)), mask.shape)
    return int(col), int(row)


def corrective_click(pred: np.ndarray, target: np.ndarray) -> tuple[int, int, int]:
    """The next click of an interactive user: ``(x, y, label)``.

    The click goes to the centre of the largest error (the error pixel farthest from the
    error region's boundary): positive where the object was missed, negative where the
    mask spills over. Returns label -1 when there is no error.
    """
    pred, target = np.asarray(pred, dtype=bool), np.asarray(target, dtype=bool)
    missed, spilled = target & ~pred, pred & ~target
    best = (-1.0, 0, 0, PAD)
    for region, label in ((missed, POSITIVE), (spilled, NEGATIVE)):
        if region.any():
            d = cv2.distanceTransform(np.pad(region, 1).astype(np.uint8), cv2.DIST_L2, 5)[1:-1, 1:-1]
            row, col = np.unravel_index(int(np.argmax(d)), region.shape)
            if d[row, col] > best[0]:
                best = (float(d[row, col]), int(col), int(row), label)
    return best[1], best[2], best[3]


# -- cost ----------------------------------------------------------------------------
def _sdpa_cpu_flops(query, key, value, *args, out_shape=None, **kwargs) -> int:  # noqa: ANN001
    from torch.utils.flop_counter import sdpa_flop_count

    return sdpa_flop_count(query, key, value)


@torch.no_grad()
def count_flops(fn: Any) -> int:
    """Floating-point operations of the matrix products, convolutions and attention in ``fn()``.

    ``torch.utils.flop_counter.FlopCounterMode``, with two gaps closed: PyTorch's fused
    "fast path" of transformer layers in eval mode (switched off meanwhile, so its
    products are seen) and the CPU kernel of scaled dot-product attention (counted as
    ``QK^T`` plus ``AV``). A multiply-add counts as two operations.
    """
    from torch.utils.flop_counter import FlopCounterMode

    custom = {torch.ops.aten._scaled_dot_product_flash_attention_for_cpu: _sdpa_cpu_flops}
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with FlopCounterMode(display=False, custom_mapping=custom) as counter:
            fn()
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)
    return int(counter.get_total_flops())


# -- figures -------------------------------------------------------------------------
def plot_prompt(
    image: np.ndarray,
    masks: np.ndarray,
    points: np.ndarray,
    labels: np.ndarray,
    scores: Sequence[float] | None = None,
    target: np.ndarray | None = None,
    title: str | None = None,
) -> plt.Figure:
    """The image with its prompt, then each predicted mask (with its predicted IoU) and the truth."""
    masks = np.asarray(masks, dtype=bool).reshape(-1, *image.shape[:2])
    panels = 1 + len(masks) + (target is not None)
    fig, axes = plt.subplots(1, panels, figsize=(2.4 * panels, 2.7))
    axes = np.atleast_1d(axes)
    axes[0].imshow(image)
    _draw_prompt(axes[0], np.asarray(points), np.asarray(labels))
    axes[0].set_title(title or "image and prompt", fontsize=9)
    for j, mask in enumerate(masks):
        axes[1 + j].imshow((image * (0.3 + 0.7 * mask[..., None])).astype(image.dtype))  # dim the rest
        if mask.any() and not mask.all():
            axes[1 + j].contour(mask, levels=[0.5], colors="white", linewidths=1)
        _draw_prompt(axes[1 + j], np.asarray(points), np.asarray(labels))
        name = f"mask {j + 1}" if len(masks) > 1 else "mask"
        if scores is not None:
            name += f" (predicted IoU {float(scores[j]):.2f})"
        if target is not None:
            name += f"\nIoU {mask_iou(torch.from_numpy(mask), torch.from_numpy(np.asarray(target, bool))).item():.2f}"
        axes[1 + j].set_title(name, fontsize=8)
    if target is not None:
        axes[-1].imshow(np.asarray(target, bool), cmap="gray")
        axes[-1].set_title("the object's true mask", fontsize=8)
    for ax in axes:
        ax.axis("off")
    fig.tight_layout()
    return fig


def _draw_prompt(ax: plt.Axes, points: np.ndarray, labels: np.ndarray) -> None:
    points, labels = points.reshape(-1, 2), labels.reshape(-1)
    for (x, y), label in zip(points, labels, strict=True):
        if label in (POSITIVE, NEGATIVE):  # pixel coordinates -> imshow coordinates (centres at integers)
            ax.plot(x - 0.5, y - 0.5, marker="*", markersize=13, markeredgecolor="white",
                    color="lime" if label == POSITIVE else "red")
    corners = points[(labels == BOX_TL) | (labels == BOX_BR)]
    if len(corners) == 2:
        (x1, y1), (x2, y2) = corners
        ax.add_patch(plt.Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False, color="lime", lw=1.5))


# -- the real SAM --------------------------------------------------------------------
def find_sam_checkpoint(env: str = SAM_CHECKPOINT_ENV) -> Path | None:
    """The local SAM checkpoint named by the environment variable ``env``, if it exists."""
    value = os.environ.get(env, "").strip()
    if not value:
        return None
    path = Path(value).expanduser()
    return path if path.exists() else None


def load_real_sam(checkpoint: Path | None = None, device: str = "cpu") -> tuple[str, Any] | None:
    """Meta's SAM from a local checkpoint, without any download, or ``None``.

    A ``.pth`` file is loaded with the ``segment_anything`` package (model type from its
    name: ``vit_b``, ``vit_l`` or ``vit_h``) and returned as ``("segment_anything",
    SamPredictor)``; a folder in the Hugging Face layout with ``transformers`` as
    ``("transformers", (SamModel, SamProcessor))``. ``None`` when the checkpoint or the
    package is missing.
    """
    import importlib.util

    checkpoint = checkpoint or find_sam_checkpoint()
    if checkpoint is None:
        return None
    if checkpoint.is_file() and importlib.util.find_spec("segment_anything") is not None:
        from segment_anything import SamPredictor, sam_model_registry

        kind = next((k for k in ("vit_h", "vit_l", "vit_b") if k in checkpoint.name), "vit_b")
        sam = sam_model_registry[kind](checkpoint=str(checkpoint)).to(device).eval()
        return "segment_anything", SamPredictor(sam)
    if checkpoint.is_dir() and importlib.util.find_spec("transformers") is not None:
        from transformers import SamModel, SamProcessor

        model = SamModel.from_pretrained(str(checkpoint), local_files_only=True).to(device).eval()
        processor = SamProcessor.from_pretrained(str(checkpoint), local_files_only=True)
        return "transformers", (model, processor)
    return None
