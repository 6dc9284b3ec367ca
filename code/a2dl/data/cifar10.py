"""CIFAR-10, python version, read from its canonical pickled batches.

Each batch is checked against the MD5 that the dataset's authors publish (the same values
torchvision checks) before it is unpickled, so a truncated or altered file is named in an
error instead of loading partially.
"""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

import numpy as np

from a2dl import paths
from a2dl.data.fetch import RemoteFile, ensure_dataset, fetch_archive
from a2dl.errors import DataFileError

ARCHIVE = RemoteFile(
    url="https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
    sha256="6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
    size=170_498_071,
)
BATCH_MD5 = {
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "test_batch": "40351d587109b95175f43aff81a1287e",
    "batches.meta": "5ff9c542aee3614f3951f8cda6e48888",
}
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))


def _is_complete(target: Path) -> bool:
    return all((target / name).is_file() for name in BATCH_MD5)


def cifar10_root(root: Path | None = None, *, source: RemoteFile = ARCHIVE) -> Path:
    """The ``cifar-10-batches-py`` folder, downloaded and verified if absent."""
    return ensure_dataset(
        "CIFAR-10",
        root or paths.data_dir(),
        "cifar10/cifar-10-batches-py",
        present=_is_complete,
        fetch=lambda target: fetch_archive(
            source, target, member_root="cifar-10-batches-py", name="CIFAR-10"
        ),
    )


def check_batch(path: Path, payload: bytes, expected_md5: dict[str, str] = BATCH_MD5) -> None:
    """Refuse a batch file, by name, unless it has the MD5 the dataset's authors publish."""
    actual = hashlib.md5(payload, usedforsecurity=False).hexdigest()
    if actual != expected_md5[path.name]:
        raise DataFileError(
            f"{path} has MD5 {actual}, expected {expected_md5[path.name]}: the file is "
            "truncated or altered. Delete the folder and let the project download CIFAR-10 "
            "again, or restore the original file."
        )


def _read_verified(path: Path, expected_md5: dict[str, str]) -> dict:
    payload = path.read_bytes()
    check_batch(path, payload, expected_md5)
    return pickle.loads(payload, encoding="latin1")


def load_cifar10(
    root: Path | None = None, *, expected_md5: dict[str, str] = BATCH_MD5
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Train and test images as uint8 ``(N, 3, 32, 32)``, labels as int64, and class names."""
    base = cifar10_root(root)

    def read(names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        batches = [_read_verified(base / name, expected_md5) for name in names]
        images = np.concatenate([b["data"] for b in batches]).reshape(-1, 3, 32, 32)
        labels = np.concatenate([np.asarray(b["labels"], dtype=np.int64) for b in batches])
        return images, labels

    train_x, train_y = read(TRAIN_BATCHES)
    test_x, test_y = read(("test_batch",))
    classes = _read_verified(base / "batches.meta", expected_md5)["label_names"]
    return train_x, train_y, test_x, test_y, classes
