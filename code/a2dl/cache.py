"""Chapter evaluations kept on disk between renders.

Quarto re-executes a whole chapter whenever its text changes (``freeze: auto``), and most of a
chapter's time goes into scoring the same shipped weights on the same data. A result is stored
under a key made of everything it depends on: the evaluation's name, its inputs (the weights'
SHA-256 among them), the data directory, and the source of this package. Retraining, editing
any of the package's code or pointing ``A2_DATA_DIR`` elsewhere recomputes it; editing a
chapter's prose does not. The folder is ``.cache/`` at the repository root (git-ignored and
safe to delete); ``A2_CACHE=0`` turns the cache off.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TypeVar

from a2dl import paths
from a2dl.files import atomic_write

CACHE_VARIABLE = "A2_CACHE"
T = TypeVar("T")


def cache_dir() -> Path:
    return paths.repo_root() / ".cache"


@cache
def source_digest() -> str:
    """SHA-256 of every module of the package: a cached result outlives no code change."""
    package = Path(__file__).parent
    digest = hashlib.sha256()
    for module in sorted(package.rglob("*.py")):
        digest.update(module.relative_to(package).as_posix().encode())
        digest.update(module.read_bytes())
    return digest.hexdigest()


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes: the identity of a weights file in a cache key."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def enabled() -> bool:
    return os.environ.get(CACHE_VARIABLE, "1") != "0"


def cached(name: str, compute: Callable[[], T], **inputs: object) -> T:
    """``compute()``, or the value stored by an earlier call with the same name and inputs.

    ``inputs`` must name everything the value depends on besides the package's code and the
    data directory (which are always part of the key): weights digests, sample sizes, flags.
    """
    if not enabled():
        return compute()
    key = json.dumps(
        {"inputs": inputs, "data": str(paths.data_dir()), "source": source_digest()},
        sort_keys=True,
        default=str,
    )
    path = cache_dir() / f"{name}-{hashlib.sha256(key.encode()).hexdigest()[:24]}.pkl"
    if path.is_file():
        try:
            with path.open("rb") as stored:
                return pickle.load(stored)
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError):
            path.unlink(missing_ok=True)  # cut short by an interrupted render: recompute
    value = compute()
    # atomic: a reader never sees half a file; a read-only checkout renders without the cache
    with contextlib.suppress(OSError):
        atomic_write(
            path,
            lambda temporary: temporary.write_bytes(
                pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
            ),
        )
    return value
