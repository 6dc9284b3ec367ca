"""Shared fixtures. Data come from the project's data folder (``A2_DATA_DIR`` or ``data/``)."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _deterministic_torch() -> None:
    torch.manual_seed(0)
