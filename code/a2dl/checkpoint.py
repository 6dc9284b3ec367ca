"""Weights on disk: a float32 state_dict beside the config that built the model.

Loading rebuilds the model from the stored config and refuses a file whose config differs
from what the caller expects, naming the fields that differ, instead of failing later with
an obscure shape error (or, worse, silently evaluating the wrong model).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import typing
from pathlib import Path
from typing import Any, TypeVar

import torch
from torch import nn

from a2dl.artefacts import rebuild_command
from a2dl.errors import WeightsFileError, WeightsMismatchError
from a2dl.files import atomic_write, write_json

FORMAT_VERSION = 2  # 2: with the SHA-256 of the tensors, so an altered byte is refused
ConfigT = TypeVar("ConfigT")
__all__ = ["WeightsFileError", "WeightsMismatchError", "load_weights", "save_weights"]


def _way_out(path: Path) -> str:
    restore = f"git checkout -- weights/{path.name}"
    rebuild = rebuild_command(path.name)
    if rebuild == restore:
        return f"Restore the shipped file with `{restore}`."
    return f"Restore the shipped file with `{restore}`, or rebuild it with `{rebuild}`."


def tensor_digest(state: dict[str, torch.Tensor]) -> str:
    """SHA-256 of every tensor's name, dtype, shape and bytes, in name order."""
    digest = hashlib.sha256()
    for key in sorted(state):
        tensor = state[key].detach().to("cpu").contiguous()
        digest.update(f"{key}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


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
        "sha256": tensor_digest(state),
        "metadata": json.loads(json.dumps(metadata)),
    }
    atomic_write(path, lambda temporary: torch.save(payload, temporary))
    return path


def read_weights(path: Path) -> dict[str, Any]:
    """The payload of a weights file, refused with the way out if it is missing, truncated,
    not a weights file, of another format, or altered since it was written."""
    if not path.is_file():
        raise WeightsFileError(f"No weights at {path}. " + _way_out(path))
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises RuntimeError, UnpicklingError, KeyError, ...
        reason = str(error).split(". ")[0].strip() or type(error).__name__
        raise WeightsFileError(
            f"{path} is not a readable weights file: it is truncated or was not written by "
            f"this project ({type(error).__name__}: {reason[:120]}). " + _way_out(path)
        ) from error
    if not isinstance(payload, dict) or payload.get("format") != FORMAT_VERSION:
        found = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
        raise WeightsFileError(
            f"{path} is not an a2dl weights file of format {FORMAT_VERSION} (found "
            f"{found!r}). " + _way_out(path)
        )
    if tensor_digest(payload["state_dict"]) != payload.get("sha256"):
        raise WeightsFileError(
            f"{path} has been altered since it was written: its tensors no longer match the "
            "SHA-256 stored with them. " + _way_out(path)
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
            f"{path} holds a {payload['config_type']}, not a {config_type.__name__}. "
            + _way_out(path)
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
            f"{path} was trained with a different config ({differences}). Load it with the "
            "config it was trained with, or " + _way_out(path)[0].lower() + _way_out(path)[1:]
        )
    model = build(config)
    try:
        model.load_state_dict(payload["state_dict"], strict=True)
    except RuntimeError as error:
        raise WeightsMismatchError(
            f"{path} does not fit {type(model).__name__}: {error}. " + _way_out(path)
        ) from error
    return model.eval(), config, payload["metadata"]


def save_history(path: Path, history: list[dict[str, float]]) -> Path:
    write_json(path, history)
    return path


def load_history(path: Path) -> list[dict[str, float]]:
    return read_json(path)


def read_json(path: Path) -> Any:
    """A JSON file written beside the weights (histories, tables of results), refused by name
    with the way out if it is missing or not valid JSON."""
    if not path.is_file():
        raise WeightsFileError(f"No {path}. " + _way_out(path))
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise WeightsFileError(f"{path} is not valid JSON ({error}). " + _way_out(path)) from error
