"""``python -m a2dl verify-data``: every dataset present in the data folder, checked against
the published checksums (CIFAR-10), the pinned commit's manifest (NAB) or the canonical
archive's reviews (IMDB), one line per dataset. Nothing is downloaded or changed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from a2dl import paths
from a2dl.data import cifar10, imdb, nab
from a2dl.errors import DataFileError


@dataclass(frozen=True)
class Check:
    dataset: str
    status: str  # "ok", "absent" or "FAILED"
    detail: str

    def line(self) -> str:
        return f"{self.dataset:<9} {self.status:<6} {self.detail}"


def _nab(folder: Path, progress: bool) -> str:
    files = list(nab.manifest()["files"])
    missing = [relative for relative in files if not (folder / relative).is_file()]
    if missing:
        raise DataFileError(
            f"{len(missing)} of NAB's files are missing, e.g. {folder / missing[0]}."
        )
    for relative in tqdm(files, desc="NAB", leave=False, disable=not progress):
        nab.read_verified(relative, folder.parent)
    return f"{len(files)} files match NAB at commit {nab.manifest()['commit'][:7]}"


def _imdb(folder: Path, progress: bool) -> str:
    total = sum(len(names) for names in imdb.manifest().values())
    with tqdm(total=total, desc="IMDB", unit="review", leave=False, disable=not progress) as bar:
        for relative, expected in imdb.manifest().items():
            for file in imdb.check_folder(folder / relative, relative, expected):
                imdb.read_review(file, expected[file.name])
                bar.update()
    return f"{total:,} labelled reviews match aclImdb_v1.tar.gz"


def _cifar10(folder: Path, progress: bool) -> str:
    for name in tqdm(cifar10.BATCH_MD5, desc="CIFAR-10", leave=False, disable=not progress):
        path = folder / name
        if not path.is_file():
            raise DataFileError(f"{path} is missing.")
        cifar10.check_batch(path, path.read_bytes())
    return f"{len(cifar10.BATCH_MD5)} batch files match the published MD5 sums"


DATASETS: dict[str, tuple[str, Callable[[Path, bool], str]]] = {
    "NAB": ("nab", _nab),
    "IMDB": ("imdb/aclImdb", _imdb),
    "CIFAR-10": ("cifar10/cifar-10-batches-py", _cifar10),
}


def verify_data(root: Path | None = None, *, progress: bool = True) -> list[Check]:
    """One check per dataset; a dataset whose folder is absent is reported, not fetched."""
    root = root or paths.data_dir()
    checks = []
    for dataset, (relative, check) in DATASETS.items():
        folder = root / relative
        if not folder.is_dir():
            checks.append(Check(dataset, "absent", f"no {folder} (fetched on first use)"))
            continue
        try:
            checks.append(Check(dataset, "ok", check(folder, progress)))
        except DataFileError as error:
            checks.append(Check(dataset, "FAILED", str(error)))
    return checks
