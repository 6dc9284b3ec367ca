"""Every figure of the report comes from a function here that returns a matplotlib Figure.

Chapters only call these; the look is set once by :func:`a2dl.report.plotting_style`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure


def plot_saturation(frame: pd.DataFrame) -> Figure:
    """Attention entropy and softmax-gradient size against d_k, with and without scaling."""
    fig, axes = plt.subplots(1, 2, figsize=(6.4, 2.7), sharex=True)
    panels = (
        ("entropy", "normalised entropy of the weights\n(1 = uniform, 0 = one-hot)"),
        ("jacobian_norm", "size of the softmax gradient\n‖diag(a) − aaᵀ‖_F"),
    )
    for ax, (column, label) in zip(axes, panels, strict=True):
        sns.lineplot(
            frame,
            x="d_k",
            y=column,
            hue="scaling",
            style="scaling",
            markers=True,
            dashes=False,
            ax=ax,
            legend=ax is axes[0],
        )
        ax.set_xscale("log", base=2)
        ax.set_xlabel("key dimension $d_k$")
        ax.set_ylabel(label)
        ax.set_ylim(bottom=0)
    axes[0].legend(title=None, loc="lower left")
    fig.tight_layout()
    return fig


def plot_attention_map(
    weights: np.ndarray, tokens: list[str], *, title: str = "", queries: list[str] | None = None
) -> Figure:
    """Attention weights (queries × tokens) as a heat map with the tokens on the x axis."""
    weights = np.atleast_2d(weights)
    height = 0.9 + 0.28 * weights.shape[0]
    fig, ax = plt.subplots(figsize=(6.4, height))
    sns.heatmap(
        weights,
        ax=ax,
        cmap="magma_r",
        cbar_kws={"label": "attention weight"},
        xticklabels=tokens,
        yticklabels=queries or False,
    )
    ax.set_xticklabels(tokens, rotation=90, fontsize=6)
    ax.set_title(title)
    fig.tight_layout()
    return fig
