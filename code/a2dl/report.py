"""One call at the top of every chapter, so that each chapter renders on its own."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
import torch
import yaml
from IPython.display import Markdown

from a2dl import paths

DEFAULT_SEED = 676


@dataclass(frozen=True)
class ChapterContext:
    """What a chapter needs to know about its surroundings."""

    root: Path
    data: Path
    weights: Path
    figures: Path
    seed: int


def authors() -> list[dict[str, str]]:
    """The book's authors as set once in ``_quarto.yml``."""
    config = yaml.safe_load((paths.repo_root() / "_quarto.yml").read_text(encoding="utf-8"))
    return config["book"]["author"]


def ubit_names() -> str:
    """``ubit1_ubit2``: the authors' UBIT names (e-mail before '@'), as the course names files."""
    return "_".join(author["email"].split("@")[0] for author in authors())


def markdown_table(
    frame: pd.DataFrame, *, index: bool = False, floatfmt: str | tuple[str, ...] = ",.3f"
) -> Markdown:
    """A frame as a Markdown table, which Quarto turns into a numbered Typst table.

    ``floatfmt`` is one format for every column or a tuple with one per column."""
    return Markdown(frame.to_markdown(index=index, floatfmt=floatfmt, intfmt=",", missingval="—"))


def seed_everything(seed: int = DEFAULT_SEED) -> None:
    """Seed Python, NumPy and PyTorch so that re-running an evaluation gives the same numbers."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def plotting_style() -> None:
    """One look for every figure: print-friendly, vector output, readable at column width."""
    import seaborn as sns

    sns.set_theme(context="paper", style="whitegrid", palette="colorblind")
    mpl.rcParams.update(
        {
            "figure.figsize": (6.4, 3.6),
            "figure.dpi": 150,
            "savefig.dpi": 200,
            "savefig.bbox": "tight",
            "axes.titlesize": 10,
            "axes.labelsize": 9,
            "legend.fontsize": 8,
            "font.size": 9,
        }
    )


def inline_figures() -> None:
    """Inside a Jupyter kernel, display returned Figures inline, as Quarto's kernel setup does.

    The chapter test runs the chapters in a plain kernel; this makes it display figures the
    way the rendered report does, so that the test can check each figure appears once.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None and hasattr(shell, "kernel"):
        shell.run_line_magic("matplotlib", "inline")


def setup_chapter(seed: int = DEFAULT_SEED, threads: int | None = None) -> ChapterContext:
    """Seed, style and locate: the hidden first cell of every chapter calls this.

    Chapter cells run from the project root (``execute-dir: project``); the working directory
    is set here as well so that a chapter executed by other means behaves the same.
    """
    root = paths.repo_root()
    os.chdir(root)
    seed_everything(seed)
    inline_figures()
    plotting_style()
    if threads is not None:
        torch.set_num_threads(threads)
    return ChapterContext(
        root=root,
        data=paths.data_dir(),
        weights=paths.weights_dir(),
        figures=paths.figures_dir(),
        seed=seed,
    )
