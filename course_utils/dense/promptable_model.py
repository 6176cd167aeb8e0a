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
  mask's IoU. As in SAM there are ``num_masks`` mask tokens for an ambiguous prompt and
  one more, the single-mask token, for a prompt of several clicks; each mask is a
  per-pixel classifier plus a coarse map read from the decoder's prompt-aware image tokens;
- :class:`PromptableSegmenter` puts them together and returns, per prompt, the masks
  that fit it (:func:`select_outputs`).

Coordinates are continuous pixel coordinates ``(x, y)`` with the image's top-left corner
at ``(0, 0)``, so pixel ``(col, row)`` has its centre at ``(col + 0.5, row + 0.5)``.
Point labels: ``1`` positive click, ``0`` negative click, ``2`` / ``3`` the top-left /
bottom-right corner of a box, ``-1`` an empty slot (padding).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..convnets.blocks import conv_bn_relu
from .prompts import NEGATIVE, POSITIVE


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
        self.stem = nn.Sequential(conv_bn_relu(3, dim // 2, 2), conv_bn_relu(dim // 2, dim // 2))  # 32 x 32
        self.down = nn.Sequential(conv_bn_relu(dim // 2, dim, 2), *[_Residual(dim) for _ in range(blocks)])
        self.attention = nn.TransformerEncoderLayer(
            dim, heads, 2 * dim, dropout=0.0, activation="gelu", batch_first=True, norm_first=True
        )
        self.norm = nn.LayerNorm(dim)
        self.up1 = nn.ConvTranspose2d(dim, dim // 2, 2, 2)  # 16 -> 32
        self.fuse1 = conv_bn_relu(dim // 2, dim // 2)
        self.up2 = nn.ConvTranspose2d(dim // 2, dim // 4, 2, 2)  # 32 -> 64
        self.fine = conv_bn_relu(3, dim // 4)  # full-resolution detail straight from the pixels
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
    """Prompt tokens + image embedding -> ``num_masks + 1`` mask logits (64 x 64) and their predicted IoU.

    Masks ``0 .. num_masks - 1`` answer an ambiguous prompt (one click, a box); the last
    one, from the single-mask token, answers a prompt that leaves little doubt (several
    clicks), as SAM's fourth mask token does. With ``coarse`` (the default) each mask
    token also weighs the decoder's own 16 x 16 image tokens, which the image -> token
    attention has changed according to the prompt; these coarse logits are upsampled
    (bilinear) and added. So a click can reshape the mask region by region, not only
    through the weights it gives the fixed per-pixel features and position encodings
    (SAM builds its masks from its decoder's upsampled image embedding alone).

    A previous mask can be given as a dense prompt (``mask_input``, +1 inside and -1
    outside): two strided convolutions bring it to the 16 x 16 grid, and it is added to
    the image embedding in place of the learned ``no_mask`` vector, as in SAM.
    """

    def __init__(self, dim: int = 64, num_masks: int = 3, layers: int = 2, heads: int = 4, coarse: bool = True):
        super().__init__()
        self.num_masks, self.coarse = num_masks, coarse
        outputs = num_masks + 1  # the ambiguity-aware masks + the single mask
        self.output_tokens = nn.Parameter(torch.randn(1 + outputs, dim) * 0.1)  # IoU token + mask tokens
        self.no_mask = nn.Parameter(torch.zeros(dim))  # the dense prompt when no mask is given
        self.mask_embed = nn.Sequential(  # a previous mask (H x W) -> the dense prompt (H/4 x W/4 x dim)
            nn.Conv2d(1, dim // 4, 2, 2), nn.GroupNorm(1, dim // 4), nn.GELU(), nn.Conv2d(dim // 4, dim, 2, 2))
        self.blocks = nn.ModuleList(TwoWayBlock(dim, heads, 2 * dim) for _ in range(layers))
        self.final_attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.final_norm = nn.LayerNorm(dim)
        # each mask token -> weights for the pixel features (dim/4), the pixel's position (dim)
        # and, with ``coarse``, the decoder's image tokens (dim)
        self.hyper = nn.ModuleList(_MLP([dim, dim, dim // 4 + dim + coarse * dim]) for _ in range(outputs))
        self.iou_head = _MLP([dim, dim, outputs])

    def forward(
        self,
        embedding: torch.Tensor,
        pixels: torch.Tensor,
        image_pe: torch.Tensor,
        pixel_pe: torch.Tensor,
        prompt_tokens: torch.Tensor,
        mask_input: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``embedding`` P x C x h x w and ``pixels`` P x C/4 x H x W (the image of each prompt),
        ``image_pe`` C x h x w and ``pixel_pe`` C x H x W (positional encodings of the grid's
        cells and of the pixels), ``prompt_tokens`` P x K x C, optional ``mask_input`` P x H x W
        (a previous mask as +-1) -> (P x M x H x W logits, P x M IoU)
        with ``M = num_masks + 1`` (the last is the single mask).

        Each mask token becomes, through a small MLP, the weights of a linear classifier
        applied to every pixel: mask logit = weights . [pixel features, pixel position encoding],
        plus (with ``coarse``) the upsampled dot product of further weights with the image tokens.
        """
        p, c, h, w = embedding.shape
        tokens = torch.cat([self.output_tokens.expand(p, -1, -1), prompt_tokens], dim=1)
        token_pe = tokens
        dense = self.no_mask[:, None, None] if mask_input is None else self.mask_embed(mask_input[:, None])
        image = (embedding + dense).flatten(2).transpose(1, 2)
        pe = image_pe.flatten(1).T.expand(p, -1, -1)
        for block in self.blocks:
            tokens, image = block(tokens, token_pe, image, pe)
        q, k = tokens + token_pe, image + pe
        tokens = self.final_norm(tokens + self.final_attn(q, k, image, need_weights=False)[0])
        weights = torch.stack([mlp(tokens[:, 1 + i]) for i, mlp in enumerate(self.hyper)], dim=1)
        features = pixels.shape[1]
        masks = torch.einsum("pmc,pchw->pmhw", weights[..., :features], pixels)
        masks = masks + torch.einsum("pmc,chw->pmhw", weights[..., features : features + c], pixel_pe)
        if self.coarse:
            low = torch.einsum("pmc,pnc->pmn", weights[..., features + c :], image).reshape(p, -1, h, w)
            masks = masks + F.interpolate(low, size=masks.shape[-2:], mode="bilinear", align_corners=False)
        return masks, self.iou_head(tokens[:, 0])


def select_outputs(
    masks: torch.Tensor, iou: torch.Tensor, labels: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The decoder's answer to each prompt: P x (M + 1) outputs -> P x M.

    A prompt with two or more clicks gets the single mask (the last output) in all ``M``
    slots, so that ranking by predicted IoU and the best-of-M loss work unchanged; any
    other prompt (one click, a box) gets the ``M`` ambiguity-aware masks.
    """
    m = masks.shape[1] - 1
    several_clicks = ((labels == POSITIVE) | (labels == NEGATIVE)).sum(1) >= 2
    single_masks, single_iou = masks[:, m:].expand(-1, m, -1, -1), iou[:, m:].expand(-1, m)
    return (torch.where(several_clicks[:, None, None, None], single_masks, masks[:, :m]),
            torch.where(several_clicks[:, None], single_iou, iou[:, :m]))


class PromptableSegmenter(nn.Module):
    """Image encoder + prompt encoder + mask decoder. Encode an image once, decode many prompts."""

    def __init__(self, dim: int = 64, num_masks: int = 3, image_size: int = 64, blocks: int = 3,
                 decoder_layers: int = 2, pe_scale: float = 2.0, seed: int = 0, coarse: bool = True):
        super().__init__()
        self.image_size = image_size
        self.prompt_encoder = PromptEncoder(dim, image_size, pe_scale, seed)
        self.image_encoder = ImageEncoder(dim, blocks)
        self.mask_decoder = MaskDecoder(dim, num_masks, decoder_layers, coarse=coarse)
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
        previous_mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The cheap part, once per prompt. ``image_index`` (P,) says which image each prompt is on
        (default: prompt ``i`` on image ``i``); ``previous_mask`` (P x H x W, bool), the mask an
        earlier prompt gave, is fed back as a dense prompt (as SAM does when a user corrects).
        Returns mask logits P x M x H x W and IoU P x M (:func:`select_outputs`: for two or more
        clicks, the single mask in every slot)."""
        embedding, pixels = embeddings
        if image_index is not None:
            embedding, pixels = embedding[image_index], pixels[image_index]
        size = pixels.shape[-1]
        pixel_pe = self.prompt_encoder.dense(size, size)
        tokens = self.prompt_encoder(points, labels) + self.point_features(embedding, points, labels)
        mask_input = None if previous_mask is None else previous_mask.float() * 2 - 1
        masks, iou = self.mask_decoder(embedding, pixels, self.image_pe(), pixel_pe, tokens, mask_input)
        return select_outputs(masks, iou, labels)

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
                image_index: torch.Tensor | None = None,
                previous_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        return self.decode(self.embed(images), points, labels, image_index, previous_mask)
