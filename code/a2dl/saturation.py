"""Why attention divides by √d_k: a small experiment on softmax saturation (Part III).

With queries and keys of independent zero-mean, unit-variance components, a dot product
q·k has variance d_k. Unscaled scores therefore spread further apart as d_k grows, the
softmax puts almost all weight on one key, and its Jacobian (the gradient that reaches the
scores) vanishes. Dividing by √d_k keeps the score variance at one for every d_k.
"""

from __future__ import annotations

import math

import pandas as pd
import torch

SCALINGS = (r"unscaled: $q \cdot k$", r"scaled: $q \cdot k / \sqrt{d_k}$")  # mathtext labels


def softmax_saturation(
    dims: tuple[int, ...] = (4, 16, 64, 256, 1024),
    n_keys: int = 32,
    trials: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Per d_k and scaling: score spread, attention entropy, largest weight, gradient size.

    Entropy is divided by log(n_keys), so 1 is uniform attention and 0 is one-hot.
    The gradient size is the Frobenius norm of the softmax Jacobian diag(a) − a aᵀ.
    """
    generator = torch.Generator().manual_seed(seed)
    rows = []
    for d_k in dims:
        q = torch.randn(trials, 1, d_k, generator=generator, dtype=torch.float64)
        k = torch.randn(trials, n_keys, d_k, generator=generator, dtype=torch.float64)
        raw = (q @ k.transpose(1, 2)).squeeze(1)  # (trials, n_keys)
        for scaling, scores in zip(SCALINGS, (raw, raw / math.sqrt(d_k)), strict=True):
            weights = torch.softmax(scores, dim=-1)
            entropy = -(weights * torch.log(weights.clamp_min(1e-300))).sum(-1)
            jacobian = torch.diag_embed(weights) - weights[:, :, None] * weights[:, None, :]
            rows.append(
                {
                    "d_k": d_k,
                    "scaling": scaling,
                    "score_std": scores.std().item(),
                    "entropy": (entropy / math.log(n_keys)).mean().item(),
                    "max_weight": weights.max(-1).values.mean().item(),
                    "jacobian_norm": torch.linalg.matrix_norm(jacobian).mean().item(),
                }
            )
    return pd.DataFrame(rows)
