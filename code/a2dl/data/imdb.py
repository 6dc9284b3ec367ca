"""IMDB Large Movie Review Dataset (Maas et al., 2011) in its original ``aclImdb/`` layout."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from a2dl import paths
from a2dl.data.fetch import RemoteFile, ensure_dataset, fetch_archive

ARCHIVE = RemoteFile(
    url="https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
    sha256="c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe",
    size=84_125_825,
)
DATASET_PAGE = "https://ai.stanford.edu/~amaas/data/sentiment/"
LABELLED_FOLDERS = ("train/pos", "train/neg", "test/pos", "test/neg")


def _is_complete(target: Path) -> bool:
    return all((target / folder).is_dir() for folder in LABELLED_FOLDERS)


def imdb_root(root: Path | None = None, *, source: RemoteFile = ARCHIVE) -> Path:
    """The ``aclImdb`` folder, downloaded and verified if absent."""
    return ensure_dataset(
        "IMDB",
        root or paths.data_dir(),
        "imdb/aclImdb",
        present=_is_complete,
        fetch=lambda target: fetch_archive(source, target, member_root="aclImdb", name="IMDB"),
    )


def load_reviews(root: Path | None = None) -> pd.DataFrame:
    """All 50,000 labelled reviews: ``text``, ``label`` (1 = positive), ``rating``, origin.

    The original train/test folders are kept as ``origin`` only; the project re-splits the
    pooled reviews itself (Part IV explains why).
    """
    base = imdb_root(root)
    rows = []
    for folder in LABELLED_FOLDERS:
        origin, polarity = folder.split("/")
        for file in sorted((base / folder).glob("*.txt")):
            review_id, rating = file.stem.split("_")
            rows.append(
                {
                    "text": file.read_text(encoding="utf-8"),
                    "label": int(polarity == "pos"),
                    "rating": int(rating),
                    "origin": origin,
                    "file": f"{folder}/{file.name}",
                }
            )
    return pd.DataFrame(rows)
