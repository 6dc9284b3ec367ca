"""Side-by-side runs of :mod:`a2dl.attention` and PyTorch's attention, for the chapter.

The tests assert agreement; this module measures it, so the report can show the numbers.
"""

from __future__ import annotations

import pandas as pd
import torch
from torch import nn

from a2dl.attention import MultiHeadAttention, causal_mask


def compare_with_torch(
    embed_dim: int = 64,
    heads: tuple[int, ...] = (1, 8),
    batch: int = 4,
    length: int = 12,
    seed: int = 0,
) -> pd.DataFrame:
    """Largest absolute differences of the outputs ("output") and of the head-averaged weights
    ("weights"), per head count and mask."""
    torch.manual_seed(seed)
    rows = []
    for num_heads in heads:
        reference = nn.MultiheadAttention(embed_dim, num_heads, batch_first=True).eval()
        with torch.no_grad():
            reference.in_proj_bias.normal_(std=0.1)
            reference.out_proj.bias.normal_(std=0.1)
        ours = MultiHeadAttention(embed_dim, num_heads).eval().load_from_torch(reference)
        x = torch.randn(batch, length, embed_dim)
        padding = torch.zeros(batch, length, dtype=torch.bool)
        padding[0, length // 2 :] = True
        masks = {
            "none": {},
            "key padding": {"key_padding_mask": padding},
            "causal": {"attn_mask": causal_mask(length)},
        }
        for name, kwargs in masks.items():
            with torch.no_grad():
                expected, expected_weights = reference(x, x, x, need_weights=True, **kwargs)
                actual, weights = ours(x, **kwargs)
            rows.append(
                {
                    "heads": num_heads,
                    "mask": name,
                    "output": (actual - expected).abs().max().item(),
                    "weights": (weights - expected_weights).abs().max().item(),
                }
            )
    return pd.DataFrame(rows)


def by_mask(check: pd.DataFrame) -> pd.DataFrame:
    """The comparison with one row per mask and the head counts side by side, as the chapter
    prints it: three rows instead of six keep the table on the page of the graph before it."""
    measures = [c for c in check.columns if c not in ("heads", "mask")]
    parts = [
        group.set_index("mask")[measures].add_prefix(f"{heads} head{'s' * (heads > 1)}: ")
        for heads, group in check.groupby("heads", sort=False)
    ]
    return pd.concat(parts, axis=1).reset_index()
