"""Scaled dot-product and multi-head attention written out step by step (Part III).

Each named line is one equation of the Part III chapter. Shapes use B (batch), L (queries),
S (keys), E (model width), H (heads) and D = E / H (width of one head). Masks follow
PyTorch's conventions, so that the module can be checked against ``nn.MultiheadAttention``:

- ``key_padding_mask`` (B, S), boolean: ``True`` marks a key to ignore (padding);
- ``attn_mask`` (L, S) or (B·H, L, S): boolean ``True`` = not allowed, or float, added to
  the scores;
- ``is_causal``: query i sees keys 0..i only.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def causal_mask(
    length: int, source: int | None = None, device: torch.device | None = None
) -> torch.Tensor:
    """(L, S) boolean mask, ``True`` above the diagonal: query i may not see keys after i."""
    shape = (length, length if source is None else source)
    return torch.ones(shape, dtype=torch.bool, device=device).triu(diagonal=1)


def _as_additive(mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """A boolean "not allowed" mask becomes -inf where masked; a float mask is kept."""
    if mask.dtype == torch.bool:
        return torch.zeros(mask.shape, dtype=dtype, device=mask.device).masked_fill(
            mask, float("-inf")
        )
    return mask.to(dtype)


def scaled_dot_product_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    *,
    mask: torch.Tensor | None = None,
    scale: float | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """softmax(q kᵀ / √d_k + mask) v, and the attention weights.

    q: (..., L, D), k: (..., S, D), v: (..., S, Dv); ``mask`` broadcasts to (..., L, S),
    boolean (True = not allowed) or additive float.
    """
    d_k = q.size(-1)
    scale = 1.0 / math.sqrt(d_k) if scale is None else scale
    scores = q @ k.transpose(-2, -1)  # (..., L, S)   s_ij = q_i · k_j
    scores = scores * scale  # (..., L, S)   divide by √d_k
    if mask is not None:
        scores = scores + _as_additive(mask, scores.dtype)  # (..., L, S)   -inf where masked
    weights = torch.softmax(scores, dim=-1)  # (..., L, S)   a_ij, each row sums to 1
    output = weights @ v  # (..., L, Dv)  z_i = Σ_j a_ij v_j
    return output, weights


class MultiHeadAttention(nn.Module):
    """Multi-head attention with the parameter layout of ``nn.MultiheadAttention``.

    Separate ``q_proj``, ``k_proj`` and ``v_proj`` keep W_q, W_k, W_v visible as in the
    equations; :meth:`load_from_torch` copies a PyTorch module's packed weights into them.
    Inputs are batch-first: (B, L, E) queries, (B, S, E) keys and values.
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        *,
        bias: bool = True,
        output_projection: bool = True,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim {embed_dim} is not divisible by num_heads {num_heads}")
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.head_dim = embed_dim // num_heads
        self.q_proj = nn.Linear(embed_dim, embed_dim, bias=bias)  # W_q, b_q
        self.k_proj = nn.Linear(embed_dim, embed_dim, bias=bias)  # W_k, b_k
        self.v_proj = nn.Linear(embed_dim, embed_dim, bias=bias)  # W_v, b_v
        self.out_proj = (  # W_o, b_o
            nn.Linear(embed_dim, embed_dim, bias=bias) if output_projection else nn.Identity()
        )
        self.dropout = nn.Dropout(dropout)

    def _split_heads(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, _ = x.shape  # (B, T, E) -> (B, H, T, D)
        return x.view(batch, length, self.num_heads, self.head_dim).transpose(1, 2)

    def _combined_mask(
        self,
        batch: int,
        length: int,
        source: int,
        key_padding_mask: torch.Tensor | None,
        attn_mask: torch.Tensor | None,
        is_causal: bool,
        dtype: torch.dtype,
        device: torch.device,
    ) -> torch.Tensor | None:
        """All masks as one additive (B, H, L, S) or broadcastable tensor, or None."""
        total = None
        if is_causal:
            total = _as_additive(causal_mask(length, source, device), dtype)  # (L, S)
        if attn_mask is not None:
            extra = _as_additive(attn_mask, dtype)
            if extra.dim() == 3:  # (B·H, L, S) -> (B, H, L, S)
                extra = extra.view(batch, self.num_heads, length, source)
            total = extra if total is None else total + extra
        if key_padding_mask is not None:
            padding = _as_additive(key_padding_mask, dtype)[:, None, None, :]  # (B, 1, 1, S)
            total = padding if total is None else total + padding
        return total

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor | None = None,
        value: torch.Tensor | None = None,
        *,
        key_padding_mask: torch.Tensor | None = None,
        attn_mask: torch.Tensor | None = None,
        is_causal: bool = False,
        average_attn_weights: bool = True,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(output (B, L, E), weights (B, L, S) averaged over heads, or (B, H, L, S))."""
        key = query if key is None else key  # self-attention by default
        value = key if value is None else value
        batch, length, _ = query.shape
        source = key.size(1)
        q = self._split_heads(self.q_proj(query))  # (B, H, L, D)  Q = X W_qᵀ + b_q
        k = self._split_heads(self.k_proj(key))  # (B, H, S, D)  K = X W_kᵀ + b_k
        v = self._split_heads(self.v_proj(value))  # (B, H, S, D)  V = X W_vᵀ + b_v
        mask = self._combined_mask(
            batch, length, source, key_padding_mask, attn_mask, is_causal, q.dtype, q.device
        )
        heads, weights = scaled_dot_product_attention(q, k, v, mask=mask)  # (B, H, L, D)
        heads = self.dropout(heads) if self.training else heads
        merged = heads.transpose(1, 2).reshape(batch, length, self.embed_dim)  # (B, L, E)
        output = self.out_proj(merged)  # (B, L, E)  z = concat(heads) W_oᵀ + b_o
        return output, (weights.mean(dim=1) if average_attn_weights else weights)

    @torch.no_grad()
    def load_from_torch(self, reference: nn.MultiheadAttention) -> MultiHeadAttention:
        """Copy the weights of a batch-first ``nn.MultiheadAttention`` of the same size."""
        if reference.embed_dim != self.embed_dim or reference.num_heads != self.num_heads:
            raise ValueError("reference module has a different embed_dim or num_heads")
        w_q, w_k, w_v = reference.in_proj_weight.chunk(3)
        for projection, weight in zip(
            (self.q_proj, self.k_proj, self.v_proj), (w_q, w_k, w_v), strict=True
        ):
            projection.weight.copy_(weight)
        if reference.in_proj_bias is not None:
            b_q, b_k, b_v = reference.in_proj_bias.chunk(3)
            for projection, bias in zip(
                (self.q_proj, self.k_proj, self.v_proj), (b_q, b_k, b_v), strict=True
            ):
                projection.bias.copy_(bias)
        self.out_proj.weight.copy_(reference.out_proj.weight)
        if reference.out_proj.bias is not None:
            self.out_proj.bias.copy_(reference.out_proj.bias)
        return self
