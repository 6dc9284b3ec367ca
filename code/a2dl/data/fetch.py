"""Download, verify and unpack, never leaving a half-written dataset behind.

A download is streamed to a temporary file, its size and SHA-256 are checked, and only then is
it unpacked into a temporary folder beside the target, which is renamed into place at the end.
An interrupted or failed run therefore leaves either the complete dataset or nothing.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from a2dl.errors import DatasetError
from a2dl.paths import DATA_DIR_VARIABLE

CHUNK_BYTES = 1 << 20
TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class RemoteFile:
    """One file on the internet and what it must hash to."""

    url: str
    sha256: str
    size: int | None = None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download(remote: RemoteFile, destination: Path, *, description: str = "") -> Path:
    """Stream ``remote`` to ``destination`` with a progress bar, then verify it.

    On any failure the partial file is removed and a :class:`DatasetError` names the URL,
    what was expected and what the user can do.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".part")
    try:
        with urllib.request.urlopen(remote.url, timeout=TIMEOUT_SECONDS) as response:
            total = remote.size or int(response.headers.get("Content-Length") or 0) or None
            with (
                open(partial, "wb") as out,
                tqdm(
                    total=total,
                    unit="B",
                    unit_scale=True,
                    desc=description or Path(remote.url).name,
                    leave=False,
                ) as bar,
            ):
                for chunk in iter(lambda: response.read(CHUNK_BYTES), b""):
                    out.write(chunk)
                    bar.update(len(chunk))
    except (urllib.error.URLError, OSError) as error:
        partial.unlink(missing_ok=True)
        raise DatasetError(
            f"Could not download {remote.url}: {error}.\n"
            f"Check the internet connection, or place the dataset yourself and set "
            f"{DATA_DIR_VARIABLE} to the folder that holds it."
        ) from error
    try:
        verify(partial, remote, shown_as=remote.url)
    except DatasetError:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(destination)
    return destination


def verify(path: Path, remote: RemoteFile, *, shown_as: str) -> None:
    """Raise a :class:`DatasetError` unless ``path`` has the expected size and SHA-256."""
    size = path.stat().st_size
    if remote.size is not None and size != remote.size:
        raise DatasetError(
            f"{shown_as} is {size:,} bytes, expected {remote.size:,} bytes: the download is "
            "truncated or is not the canonical file. Nothing was kept; run the command again "
            "(a partial download is never reused)."
        )
    actual = sha256_of(path)
    if actual != remote.sha256:
        raise DatasetError(
            f"{shown_as} has SHA-256 {actual}, expected {remote.sha256}: the file is corrupt "
            "or has been altered upstream. Nothing was kept; run the command again, and if "
            "the mismatch persists, download the file by hand and compare its checksum."
        )


def install_atomically(target: Path, build: Callable[[Path], None]) -> Path:
    """Build a folder in a temporary sibling of ``target``, then rename it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        build(staging)
        if target.exists():
            shutil.rmtree(target)
        staging.replace(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def unpack_tar(archive: Path, into: Path, *, member_root: str) -> None:
    """Unpack ``archive`` and move its ``member_root`` folder's content into ``into``.

    Only regular files and folders are extracted (``filter="data"``), so a hostile archive
    cannot write outside ``into``.
    """
    with tempfile.TemporaryDirectory(dir=into) as scratch:
        try:
            with tarfile.open(archive) as tar:
                tar.extractall(scratch, filter="data")
        except (tarfile.TarError, EOFError, OSError) as error:
            raise DatasetError(
                f"Could not unpack {archive.name}: {error}. The archive is damaged; delete it "
                "and run the command again."
            ) from error
        source = Path(scratch) / member_root
        if not source.is_dir():
            raise DatasetError(
                f"{archive.name} has no folder '{member_root}/': it is not the expected archive."
            )
        for item in source.iterdir():
            shutil.move(str(item), into / item.name)


def fetch_archive(remote: RemoteFile, target: Path, *, member_root: str, name: str) -> Path:
    """Download ``remote`` (a .tar.gz), verify it and unpack ``member_root`` as ``target``."""

    def build(staging: Path) -> None:
        archive = download(remote, staging / Path(remote.url).name, description=name)
        unpack_tar(archive, staging, member_root=member_root)
        archive.unlink()

    return install_atomically(target, build)


def check_data_folder(root: Path, dataset: str) -> None:
    """Refuse, before any download, a data folder that cannot receive ``dataset``: a file, or
    a folder the user may not write to. Left to the download, either ends in a traceback from
    deep inside the unpacking, possibly after minutes of downloading."""
    existing = next(folder for folder in (root, *root.parents) if folder.exists())
    cannot = f"The data folder {root} cannot receive {dataset}"
    if not existing.is_dir():
        raise DatasetError(
            f"{cannot}: {existing} is a file, not a folder. Set {DATA_DIR_VARIABLE} to the "
            "folder that holds the datasets, or unset it to use data/ in the repository."
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise DatasetError(
            f"{cannot}, which is not there yet: {existing} is not writable. Make it writable "
            f"(`chmod u+w {existing}`), or set {DATA_DIR_VARIABLE} to a folder that holds the "
            "datasets or that you can write to."
        )


def ensure_dataset(
    name: str,
    root: Path,
    relative: str,
    *,
    present: Callable[[Path], bool],
    fetch: Callable[[Path], object],
) -> Path:
    """Return ``root/relative`` if it holds the dataset, else fetch it there.

    A failure names the folder that was searched and the variable that points elsewhere.
    """
    target = root / relative
    if present(target):
        return target
    check_data_folder(root, f"the {name} dataset ({relative})")
    try:
        fetch(target)
    except DatasetError as error:
        raise DatasetError(
            f"The {name} dataset is not in {target} and could not be fetched.\n{error}\n"
            f"If you already have a copy, set {DATA_DIR_VARIABLE} to the data folder that "
            f"contains '{relative}' (the data folder now is {root})."
        ) from error
    if not present(target):
        raise DatasetError(f"{name} was fetched into {target} but is incomplete there.")
    return target
