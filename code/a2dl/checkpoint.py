"""Weights on disk: a float32 state_dict beside the config that built the model.

Loading rebuilds the model from the stored config and refuses a file whose config differs
from what the caller expects, naming the fields that differ, instead of failing later with
an obscure shape error (or, worse, silently evaluating the wrong model).
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import typing
from pathlib import Path
from typing import Any, TypeVar

import torch
from torch import nn

FORMAT_VERSION = 1
ConfigT = TypeVar("ConfigT")


class WeightsMismatchError(ValueError):
    """A weights file does not belong to the model it is being loaded into."""


def _atomic_write(path: Path, write: typing.Callable[[Path], None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(handle)
    try:
        write(Path(temporary))
        os.chmod(temporary, 0o644)  # mkstemp creates 0600; weights are meant to be shared
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def config_to_dict(config: Any) -> dict[str, Any]:
    return json.loads(json.dumps(dataclasses.asdict(config)))


def config_from_dict(cls: type[ConfigT], values: dict[str, Any]) -> ConfigT:
    """Rebuild a (possibly nested) dataclass config from plain JSON-like values."""
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for field in dataclasses.fields(cls):
        if field.name not in values:
            continue
        value, hint = values[field.name], hints[field.name]
        if dataclasses.is_dataclass(hint) and isinstance(value, dict):
            value = config_from_dict(hint, value)
        elif typing.get_origin(hint) is tuple and isinstance(value, list):
            value = tuple(value)
        kwargs[field.name] = value
    return cls(**kwargs)


def save_weights(path: Path, model: nn.Module, config: Any, **metadata: Any) -> Path:
    """Write the model's floating tensors as float32 with its config; no optimiser state."""
    state = {
        key: (tensor.detach().to("cpu", torch.float32) if tensor.is_floating_point() else tensor)
        for key, tensor in model.state_dict().items()
    }
    payload = {
        "format": FORMAT_VERSION,
        "config_type": type(config).__name__,
        "config": config_to_dict(config),
        "state_dict": state,
        "metadata": json.loads(json.dumps(metadata)),
    }
    _atomic_write(path, lambda temporary: torch.save(payload, temporary))
    return path


def read_weights(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise FileNotFoundError(
            f"No weights at {path}. Train them with `python -m a2dl train <experiment>` "
            "(see `python -m a2dl train --help`)."
        )
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if payload.get("format") != FORMAT_VERSION:
        raise WeightsMismatchError(
            f"{path} is not an a2dl weights file of format {FORMAT_VERSION}."
        )
    return payload


def load_weights(
    path: Path,
    build: typing.Callable[[ConfigT], nn.Module],
    config_type: type[ConfigT],
    *,
    expected: ConfigT | None = None,
) -> tuple[nn.Module, ConfigT, dict[str, Any]]:
    """(model in eval mode, its config, metadata) from ``path``.

    ``expected``, when given, must equal the stored config; otherwise the error lists each
    differing field with both values.
    """
    payload = read_weights(path)
    if payload["config_type"] != config_type.__name__:
        raise WeightsMismatchError(
            f"{path} holds a {payload['config_type']}, not a {config_type.__name__}."
        )
    config = config_from_dict(config_type, payload["config"])
    if expected is not None and config_to_dict(expected) != payload["config"]:
        wanted, stored = config_to_dict(expected), payload["config"]
        differences = ", ".join(
            f"{key}: file has {stored.get(key)!r}, expected {wanted.get(key)!r}"
            for key in sorted(set(wanted) | set(stored))
            if wanted.get(key) != stored.get(key)
        )
        raise WeightsMismatchError(
            f"{path} was trained with a different config ({differences}). Retrain with the "
            "current config, or load the file with the config it was trained with."
        )
    model = build(config)
    try:
        model.load_state_dict(payload["state_dict"], strict=True)
    except RuntimeError as error:
        raise WeightsMismatchError(
            f"{path} does not fit {type(model).__name__}: {error}"
        ) from error
    return model.eval(), config, payload["metadata"]


def save_history(path: Path, history: list[dict[str, float]]) -> Path:
    _atomic_write(path, lambda temporary: temporary.write_text(json.dumps(history, indent=1)))
    return path


def load_history(path: Path) -> list[dict[str, float]]:
    return json.loads(path.read_text())
