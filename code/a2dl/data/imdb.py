"""IMDB Large Movie Review Dataset (Maas et al., 2011) in its original ``aclImdb/`` layout."""

from __future__ import annotations

import gzip
import hashlib
import json
from functools import cache
from importlib import resources
from pathlib import Path

import pandas as pd

from a2dl import paths
from a2dl.data.fetch import RemoteFile, ensure_dataset, fetch_archive
from a2dl.errors import DataFileError

ARCHIVE = RemoteFile(
    url="https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
    sha256="c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe",
    size=84_125_825,
)
DATASET_PAGE = "https://ai.stanford.edu/~amaas/data/sentiment/"
LABELLED_FOLDERS = ("train/pos", "train/neg", "test/pos", "test/neg")


RESTORE = (
    "Restore it from aclImdb_v1.tar.gz, or delete {folder} and let the project download IMDB again."
)


@cache
def manifest() -> dict[str, dict[str, str]]:
    """Per labelled folder, each review's file name and the first 8 hex digits of its
    SHA-256 in the canonical archive: enough to name an altered, missing or extra review."""
    packed = resources.files("a2dl.data").joinpath("imdb_manifest.json.gz").read_bytes()
    return json.loads(gzip.decompress(packed))["folders"]


def read_review(path: Path, expected_hash: str | None) -> str:
    """One review's text, refused by name if it is not UTF-8, empty, or altered."""
    payload = path.read_bytes()
    restore = RESTORE.format(folder=path.parents[2])
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DataFileError(
            f"{path} is not UTF-8 text (byte {error.start} is "
            f"{payload[error.start : error.start + 1]!r}). {restore}"
        ) from error
    if not text.strip():
        raise DataFileError(f"{path} is an empty review. {restore}")
    if expected_hash is not None and hashlib.sha256(payload).hexdigest()[:8] != expected_hash:
        raise DataFileError(
            f"{path} differs from the review of that name in the canonical archive: it was "
            f"altered. {restore}"
        )
    return text


def check_folder(folder: Path, relative: str, expected: dict[str, str] | None) -> list[Path]:
    """The review files of one labelled folder, sorted; with ``expected`` (name → hash), a
    missing or extra review is refused by name."""
    files = sorted(folder.glob("*.txt"))
    if expected is not None:
        present = {file.name for file in files}
        missing = sorted(set(expected) - present)
        extra = sorted(present - set(expected))
        if missing or extra:
            named = ", ".join(
                [
                    *(f"{relative}/{name} is missing" for name in missing[:3]),
                    *(f"{relative}/{name} is not part of IMDB" for name in extra[:3]),
                ]
            )
            raise DataFileError(
                f"{folder} does not hold IMDB's {len(expected):,} reviews ({len(missing)} "
                f"missing, {len(extra)} extra: {named}). "
                + RESTORE.format(folder=folder.parents[1])
            )
    return files


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


def load_reviews(root: Path | None = None, *, verify: bool = True) -> pd.DataFrame:
    """All 50,000 labelled reviews: ``text``, ``label`` (1 = positive), ``rating``, origin.

    The original train/test folders are kept as ``origin`` only; the project re-splits the
    pooled reviews itself (Part IV explains why). With ``verify`` every review is checked
    against the canonical archive's (:func:`manifest`); ``verify=False`` reads a folder of
    one's own, still refusing a review that is not UTF-8 or is empty.
    """
    base = imdb_root(root)
    rows = []
    for folder in LABELLED_FOLDERS:
        origin, polarity = folder.split("/")
        expected = manifest()[folder] if verify else None
        for file in check_folder(base / folder, folder, expected):
            review_id, rating = file.stem.split("_")
            rows.append(
                {
                    "text": read_review(file, expected[file.name] if expected else None),
                    "label": int(polarity == "pos"),
                    "rating": int(rating),
                    "origin": origin,
                    "file": f"{folder}/{file.name}",
                }
            )
    return pd.DataFrame(rows)


UNLABELLED_FOLDER = "train/unsup"


def load_unlabelled_reviews(root: Path | None = None) -> list[str]:
    """The 50,000 unlabelled reviews of ``train/unsup`` (texts only), for pre-training; an
    empty list where the data folder has no such folder (a copy of the labelled reviews
    only). They are read as UTF-8 and an empty one is refused, like the labelled ones."""
    folder = imdb_root(root) / UNLABELLED_FOLDER
    if not folder.is_dir():
        return []
    return [read_review(file, None) for file in sorted(folder.glob("*.txt"))]
