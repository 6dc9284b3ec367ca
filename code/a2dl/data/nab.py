"""The Numenta Anomaly Benchmark: 58 labelled time series, read from NAB's own file layout.

The files come from one pinned commit of github.com/numenta/NAB and are checked one by one
against ``nab_manifest.json`` (SHA-256 and size of each file at that commit).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from functools import cache
from importlib import resources
from pathlib import Path

import pandas as pd

from a2dl import paths
from a2dl.data.fetch import RemoteFile, download, ensure_dataset, install_atomically
from a2dl.errors import DataFileError

RAW_URL = "https://raw.githubusercontent.com/{repository}/{commit}/{path}"


@cache
def manifest() -> dict:
    """The pinned commit and the expected hash of every file we use from it."""
    return json.loads(resources.files("a2dl.data").joinpath("nab_manifest.json").read_text())


def _is_complete(target: Path) -> bool:
    return all((target / rel).is_file() for rel in manifest()["files"])


def _fetch(target: Path, base_url: str | None) -> None:
    meta = manifest()

    def build(staging: Path) -> None:
        for rel, expected in meta["files"].items():
            url = (
                f"{base_url.rstrip('/')}/{rel}"
                if base_url
                else RAW_URL.format(repository=meta["repository"], commit=meta["commit"], path=rel)
            )
            download(RemoteFile(url, expected["sha256"], expected["size"]), staging / rel)

    install_atomically(target, build)


def nab_root(root: Path | None = None, *, base_url: str | None = None) -> Path:
    """The folder holding NAB's ``data/``, ``labels/`` and ``config/``, fetched if absent.

    ``base_url`` replaces GitHub's raw-file address (used by the tests' local server).
    """
    return ensure_dataset(
        "NAB",
        root or paths.data_dir(),
        "nab",
        present=_is_complete,
        fetch=lambda target: _fetch(target, base_url),
    )


def series_names(root: Path | None = None) -> list[str]:
    """Every series as NAB names it: ``<category>/<file>.csv``, sorted."""
    return sorted(rel[len("data/") :] for rel in manifest()["files"] if rel.startswith("data/"))


RESTORE = (
    "Restore the original file (delete the folder {folder} and the project downloads NAB "
    "again at commit {commit}, or copy the file from github.com/numenta/NAB)."
)


def read_verified(relative: str, root: Path | None = None) -> bytes:
    """The bytes of one NAB file, refused by name unless they are the pinned commit's.

    A series that parses but differs from NAB's would silently change every score; the
    check costs a hash of a file already in memory.
    """
    base = nab_root(root)
    path = base / relative
    expected = manifest()["files"].get(relative)
    if expected is None:
        raise DataFileError(f"{relative} is not a file of NAB at commit {manifest()['commit']}.")
    payload = path.read_bytes()
    if hashlib.sha256(payload).hexdigest() != expected["sha256"]:
        raise DataFileError(
            f"{path} differs from NAB's file at commit {manifest()['commit'][:7]} "
            f"({len(payload):,} bytes, expected {expected['size']:,}; SHA-256 differs): it "
            "was altered or damaged. "
            + RESTORE.format(folder=base, commit=manifest()["commit"][:7])
        )
    return payload


def parse_series(payload: bytes, path: Path) -> pd.DataFrame:
    """A NAB CSV (``timestamp,value``) as a frame; a malformed line is named with its number."""
    try:
        frame = pd.read_csv(io.BytesIO(payload), parse_dates=["timestamp"])
        if list(frame.columns) != ["timestamp", "value"]:
            raise ValueError(f"columns are {list(frame.columns)}, expected timestamp,value")
        return frame.astype({"value": "float64"})
    except (pd.errors.ParserError, ValueError, TypeError) as error:
        line = re.search(r"line (\d+)", str(error))
        where = f", line {line.group(1)}" if line else ""
        reason = " ".join(str(error).split()).rstrip(".")
        raise DataFileError(
            f"{path}{where} is not a NAB series: {reason}. "
            + RESTORE.format(folder=path.parents[2], commit=manifest()["commit"][:7])
        ) from error


def load_series(name: str, root: Path | None = None) -> pd.DataFrame:
    """One series as a frame with a parsed ``timestamp`` and a float ``value``."""
    relative = f"data/{name}"
    path = nab_root(root) / relative
    try:
        payload = read_verified(relative, root)
    except DataFileError:
        parse_series(path.read_bytes(), path)  # a malformed line is the more useful message
        raise
    return parse_series(payload, path)


def load_windows(root: Path | None = None) -> dict[str, list[tuple[pd.Timestamp, pd.Timestamp]]]:
    """The labelled anomaly windows of each series (``labels/combined_windows.json``)."""
    raw = json.loads(read_verified("labels/combined_windows.json", root))
    return {
        name: [(pd.Timestamp(start), pd.Timestamp(end)) for start, end in windows]
        for name, windows in raw.items()
    }


def load_instants(root: Path | None = None) -> dict[str, list[pd.Timestamp]]:
    """The labelled anomaly instants of each series (``labels/combined_labels.json``): the
    moments the labellers agreed on, each at the centre of one of the labelled windows."""
    raw = json.loads(read_verified("labels/combined_labels.json", root))
    return {name: [pd.Timestamp(moment) for moment in moments] for name, moments in raw.items()}


def load_profiles(root: Path | None = None) -> dict[str, dict[str, float]]:
    """NAB's scoring profiles: the cost-matrix weights of each (``config/profiles.json``)."""
    raw = json.loads(read_verified("config/profiles.json", root))
    return {name: profile["CostMatrix"] for name, profile in raw.items()}
