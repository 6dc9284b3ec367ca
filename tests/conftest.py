"""Shared fixtures. Data come from the project's data folder (``A2_DATA_DIR`` or ``data/``)."""

from __future__ import annotations

import os

import pytest
import torch

# Tests compute everything: results cached by an earlier run (a2dl.cache) could hide a
# regression, and fabricated data folders must never be served from the cache. The chapter
# kernels that the tests start inherit this.
os.environ["A2_CACHE"] = "0"


@pytest.fixture(autouse=True)
def _deterministic_torch() -> None:
    torch.manual_seed(0)
