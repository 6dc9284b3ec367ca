"""Which device training runs on, and on how many CPU threads: the best device present and
every core PyTorch sees, unless the user names others.

``python -m a2dl train … --device auto|cpu|cuda|mps`` sets it once per process; the training
loop follows the model's device, and every experiment places its model with :func:`current`.
Weights are always saved as CPU tensors (:mod:`a2dl.checkpoint`), so a file trained on a GPU
loads on a CPU-only machine. ``--threads N`` sets PyTorch's threads the same way.
"""

from __future__ import annotations

import typing

if typing.TYPE_CHECKING:
    import torch

# The devices of --device. The module imports torch only when a function runs, so that the
# CLI can read this list (and print --help) without loading torch.
CHOICES = ("auto", "cpu", "cuda", "mps")

_selected: torch.device | None = None


def resolve(name: str = "auto") -> torch.device:
    """``auto``: CUDA if present, else Apple's MPS, else the CPU; a named device that is not
    present is refused with what is."""
    import torch

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
    import torch

    return _selected or torch.device("cpu")


def use_threads(count: int | None = None) -> int:
    """``--threads``: ``count`` CPU threads for PyTorch, or, by default, PyTorch's own count,
    which is every core it sees (or ``OMP_NUM_THREADS``); returns the count in use. Nothing
    pins a smaller number, so a many-core machine trains, evaluates and benchmarks on all."""
    import torch

    if count is not None:
        torch.set_num_threads(count)
    return torch.get_num_threads()
