"""Vision Transformer (Dosovitskiy et al., ICLR 2021) for small images, built on the package's
own multi-head attention (:class:`a2dl.attention.MultiHeadAttention`, Part III).

An image is cut into non-overlapping P×P patches; each flattened patch is mapped linearly to
the model width, a learned class token is prepended, learned position embeddings are added,
and pre-norm Transformer blocks mix the tokens. The class token's final state is classified.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from a2dl.attention import MultiHeadAttention


@dataclass(frozen=True)
class ViTConfig:
    image_size: int = 32
    patch_size: int = 4  # 4×4 patches of a 32×32 image: 64 tokens (+ the class token)
    channels: int = 3
    width: int = 128
    depth: int = 4
    heads: int = 4
    mlp_ratio: int = 2
    dropout: float = 0.0
    classes: int = 10

    @property
    def tokens(self) -> int:
        return (self.image_size // self.patch_size) ** 2


def patchify(images: torch.Tensor, patch_size: int) -> torch.Tensor:
    """(B, C, H, W) images → (B, N, P·P·C) patches, row by row, each flattened (P, P, C)."""
    batch, channels, height, width = images.shape
    if height % patch_size or width % patch_size:
        raise ValueError(f"image size {height}×{width} is not a multiple of patch {patch_size}")
    rows, cols = height // patch_size, width // patch_size
    patches = images.reshape(batch, channels, rows, patch_size, cols, patch_size)
    patches = patches.permute(0, 2, 4, 3, 5, 1)  # (B, rows, cols, P, P, C)
    return patches.reshape(batch, rows * cols, patch_size * patch_size * channels)


def unpatchify(patches: torch.Tensor, patch_size: int, channels: int = 3) -> torch.Tensor:
    """The inverse of :func:`patchify` for square images."""
    batch, count, _ = patches.shape
    side = int(round(count**0.5))
    if side * side != count:
        raise ValueError(f"{count} patches do not tile a square image")
    grid = patches.reshape(batch, side, side, patch_size, patch_size, channels)
    grid = grid.permute(0, 5, 1, 3, 2, 4)  # (B, C, rows, P, cols, P)
    return grid.reshape(batch, channels, side * patch_size, side * patch_size)


class EncoderBlock(nn.Module):
    """Pre-norm block: x + MHA(LN(x)), then x + MLP(LN(x))."""

    def __init__(self, config: ViTConfig) -> None:
        super().__init__()
        hidden = config.mlp_ratio * config.width
        self.norm1 = nn.LayerNorm(config.width)
        self.attention = MultiHeadAttention(config.width, config.heads)
        self.norm2 = nn.LayerNorm(config.width)
        self.mlp = nn.Sequential(
            nn.Linear(config.width, hidden),
            nn.GELU(),
            nn.Dropout(config.dropout),
            nn.Linear(hidden, config.width),
            nn.Dropout(config.dropout),
        )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        attended, weights = self.attention(self.norm1(x))
        x = x + attended
        return x + self.mlp(self.norm2(x)), weights


class VisionTransformer(nn.Module):
    def __init__(self, config: ViTConfig) -> None:
        super().__init__()
        if config.image_size % config.patch_size:
            raise ValueError("image_size must be a multiple of patch_size")
        self.config = config
        patch_dim = config.patch_size**2 * config.channels
        self.patch_embedding = nn.Linear(patch_dim, config.width)  # E: one linear map per patch
        self.class_token = nn.Parameter(torch.zeros(1, 1, config.width))
        self.position_embedding = nn.Parameter(torch.zeros(1, config.tokens + 1, config.width))
        self.dropout = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(EncoderBlock(config) for _ in range(config.depth))
        self.norm = nn.LayerNorm(config.width)
        self.head = nn.Linear(config.width, config.classes)
        self._initialise()

    def _initialise(self) -> None:
        # As in the reference implementation: small truncated-normal embeddings and linear
        # weights, zero biases; a zero head so that every class starts equally likely.
        nn.init.trunc_normal_(self.position_embedding, std=0.02)
        nn.init.trunc_normal_(self.class_token, std=0.02)
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.trunc_normal_(module.weight, std=0.02)
                nn.init.zeros_(module.bias)
        nn.init.zeros_(self.head.weight)

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) → (B, 1 + N, width): class token and patch embeddings with positions."""
        tokens = self.patch_embedding(patchify(images, self.config.patch_size))
        cls = self.class_token.expand(tokens.size(0), -1, -1)
        return self.dropout(torch.cat([cls, tokens], dim=1) + self.position_embedding)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = self.embed(images)
        for block in self.blocks:
            x, _ = block(x)
        return self.head(self.norm(x[:, 0]))

    @torch.no_grad()
    def attention_maps(self, images: torch.Tensor) -> list[torch.Tensor]:
        """Per block, the head-averaged attention weights (B, 1 + N, 1 + N)."""
        x, maps = self.embed(images), []
        for block in self.blocks:
            x, weights = block(x)
            maps.append(weights)
        return maps
