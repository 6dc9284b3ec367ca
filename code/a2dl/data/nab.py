"""The Numenta Anomaly Benchmark: 58 labelled time series, read from NAB's own file layout.

The files come from one pinned commit of github.com/numenta/NAB and are checked one by one
against ``nab_manifest.json`` (SHA-256 and size of each file at that commit).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path

import pandas as pd

from a2dl import paths
from a2dl.data.fetch import RemoteFile, download, ensure_dataset, install_atomically

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


def load_series(name: str, root: Path | None = None) -> pd.DataFrame:
    """One series as a frame with a parsed ``timestamp`` and a float ``value``."""
    frame = pd.read_csv(nab_root(root) / "data" / name, parse_dates=["timestamp"])
    return frame.astype({"value": "float64"})


def load_windows(root: Path | None = None) -> dict[str, list[tuple[pd.Timestamp, pd.Timestamp]]]:
    """The labelled anomaly windows of each series (``labels/combined_windows.json``)."""
    raw = json.loads((nab_root(root) / "labels" / "combined_windows.json").read_text())
    return {
        name: [(pd.Timestamp(start), pd.Timestamp(end)) for start, end in windows]
        for name, windows in raw.items()
    }


def load_profiles(root: Path | None = None) -> dict[str, dict[str, float]]:
    """NAB's scoring profiles: the cost-matrix weights of each (``config/profiles.json``)."""
    raw = json.loads((nab_root(root) / "config" / "profiles.json").read_text())
    return {name: profile["CostMatrix"] for name, profile in raw.items()}
