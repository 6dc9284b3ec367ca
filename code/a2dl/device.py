"""Which device training runs on: the best one present unless the user names one.

``python -m a2dl train … --device auto|cpu|cuda|mps`` sets it once per process; the training
loop follows the model's device, and every experiment places its model with :func:`current`.
Weights are always saved as CPU tensors (:mod:`a2dl.checkpoint`), so a file trained on a GPU
loads on a CPU-only machine.
"""

from __future__ import annotations

import torch

from a2dl.cli import CHOICES  # one list, importable without torch

_selected: torch.device | None = None


def resolve(name: str = "auto") -> torch.device:
    """``auto``: CUDA if present, else Apple's MPS, else the CPU; a named device that is not
    present is refused with what is."""
    if name not in CHOICES:
        raise ValueError(f"unknown device {name!r}: use one of {', '.join(CHOICES)}")
    cuda = torch.cuda.is_available()
    mps = bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()
    if name == "auto":
        return torch.device("cuda" if cuda else "mps" if mps else "cpu")
    if (name == "cuda" and not cuda) or (name == "mps" and not mps):
        present = ", ".join(["cpu", *(["cuda"] if cuda else []), *(["mps"] if mps else [])])
        raise ValueError(f"device {name!r} is not available on this machine (present: {present})")
    return torch.device(name)


def select(name: str = "auto") -> torch.device:
    global _selected
    _selected = resolve(name)
    return _selected


def current() -> torch.device:
    """The device chosen by :func:`select`, or the CPU (tests and chapters run on the CPU)."""
    return _selected or torch.device("cpu")
