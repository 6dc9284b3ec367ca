"""Parameter bookkeeping shared by every part: counts per layer and in total."""

from __future__ import annotations

import pandas as pd
from torch import nn


def count_parameters(model: nn.Module, *, trainable_only: bool = True) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def dense_layer_parameters(n_in: int, n_out: int) -> tuple[int, int]:
    """A fully connected layer from ``n_in`` to ``n_out`` units: (weights, biases)."""
    return n_in * n_out, n_out


def linear_layer_table(model: nn.Module) -> pd.DataFrame:
    """One row per ``nn.Linear``: its shape, weights, biases and total, as PyTorch counts them."""
    rows = []
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear):
            biases = module.bias.numel() if module.bias is not None else 0
            rows.append(
                {
                    "layer": name,
                    "in": module.in_features,
                    "out": module.out_features,
                    "weights": module.weight.numel(),
                    "biases": biases,
                    "total": module.weight.numel() + biases,
                }
            )
    return pd.DataFrame(rows)
