"""Where things live: the repository, the data directory, weights and figures.

The data directory is one setting (``A2_DATA_DIR``) so that a student can point the whole
project at a local copy of the datasets, and CI can point it at a read-only shared folder.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

DATA_DIR_VARIABLE = "A2_DATA_DIR"
REPORT_PDF = Path("_book") / "assignment2-report.pdf"  # the rendered book, from the root


def repo_root() -> Path:
    """The repository root: the folder holding ``_quarto.yml``.

    Found from this file (``code/a2dl/paths.py``) rather than the working directory, so that
    chapters, tests and the CLI agree wherever they are started from.
    """
    return Path(__file__).resolve().parents[2]


def data_dir() -> Path:
    """The data directory: ``$A2_DATA_DIR`` if set, else the git-ignored ``data/``."""
    configured = os.environ.get(DATA_DIR_VARIABLE)
    return Path(configured).expanduser().resolve() if configured else repo_root() / "data"


def weights_dir() -> Path:
    return repo_root() / "weights"


def figures_dir() -> Path:
    return repo_root() / "figures"


def check_writable(folder: Path) -> None:
    """Refuse, before any work, a folder that a command must write its results into."""
    from a2dl.errors import OutputError

    with contextlib.suppress(OSError):  # reported below, with what to do
        folder.mkdir(parents=True, exist_ok=True)
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(
            f"Cannot write to {folder}: training would be lost at the end. Make the folder "
            "writable (e.g. `chmod u+w weights`), or work in a copy of the repository you own."
        )
