"""Files that are replaced whole or not at all.

A two-hour ablation rewrites its store after every run; a crash or Ctrl-C in the middle of a
plain ``write_text`` would leave half a file and lose every run before it. Every writer of a
result under ``weights/`` or ``.cache/`` goes through :func:`atomic_write`.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write`` on a temporary file beside ``path``, then move it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(handle)
    try:
        write(Path(temporary))
        os.chmod(temporary, 0o644)  # mkstemp creates 0600; results are meant to be shared
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_json(path: Path, value: Any, *, indent: int | None = 1) -> None:
    """``value`` as JSON at ``path``, replaced atomically."""
    text = json.dumps(value, indent=indent)
    atomic_write(path, lambda temporary: temporary.write_text(text))
