"""The bonus chapter's numbers in one place: saved models evaluated on the test set, and the
comparison table built from them, their histories and the measured speeds."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from torch import nn

from a2dl import artefacts
from a2dl.checkpoint import read_json
from a2dl.lr_range import curve_dips, suggested_peak
from a2dl.metrics import ClassificationResult
from a2dl.modelinfo import count_parameters
from a2dl.train import best_epoch
from a2dl.vision import registry
from a2dl.vision.cost import SPEED_FILE, multiply_accumulates
from a2dl.vision.data import CifarSplits
from a2dl.vision.experiment import (
    VisionRecipe,
    load_history_frame,
    lr_range_path,
    test_result,
)


@dataclass(frozen=True)
class SavedModel:
    name: str
    model: nn.Module
    metadata: dict
    history: pd.DataFrame
    test: ClassificationResult

    @property
    def title(self) -> str:
        return registry.entry(self.name).title


def load_and_test(splits: CifarSplits) -> dict[str, SavedModel]:
    """Every saved model of the registry, with its history and its test-set predictions."""
    saved = {}
    for name in registry.MODELS:
        model, metadata, test = test_result(name, splits)
        saved[name] = SavedModel(name, model, metadata, load_history_frame(name), test)
    return saved


def load_speeds() -> dict:
    """Inference speeds written by ``python -m a2dl bench vision``."""
    return read_json(artefacts.record_path(SPEED_FILE))


def kept_epoch(history: pd.DataFrame) -> dict:
    """The history's record of the epoch whose weights are kept: the best by validation."""
    monitor, mode = VisionRecipe().train.monitor, VisionRecipe().train.mode
    return best_epoch(history.to_dict("records"), monitor, mode)


def validation_accuracies() -> dict[str, float]:
    """Each saved network's validation accuracy at its kept epoch, from its history alone."""
    return {name: kept_epoch(load_history_frame(name))["val_accuracy"] for name in registry.MODELS}


def comparison_table(saved: dict[str, SavedModel], speeds: dict) -> pd.DataFrame:
    """One row per model: size, cost, time, speed and accuracy (fractions, not per cent)."""
    rows = []
    for name, entry in saved.items():
        best = kept_epoch(entry.history)
        rows.append(
            {
                "model": entry.title,
                "parameters": count_parameters(entry.model),
                "macs": multiply_accumulates(entry.model),
                "train_minutes": entry.metadata["epoch_seconds"] / 60,
                "run_minutes": entry.metadata["train_seconds"] / 60,
                "images_per_second": speeds["images_per_second"][name],
                "best_epoch": int(best["epoch"]),
                "train_accuracy": best["train_accuracy"],
                "val_accuracy": best["val_accuracy"],
                "test_accuracy": entry.test.summary()["accuracy"],
            }
        )
    return pd.DataFrame(rows, index=list(saved))


def recipe_table(saved: dict[str, SavedModel]) -> pd.DataFrame:
    """Each network's recipe as stored in its weights file, with what its range test suggested
    and the budget its epochs used: epochs × the CPU cost of an epoch measured on a quiet
    machine by the range test, over the threads that spent it (which the test records), in
    minutes."""
    rows = []
    for name, entry in saved.items():
        recipe = entry.metadata.get("recipe", {})
        train = recipe.get("train", {})
        range_test = load_lr_range(name)
        rows.append(
            {
                "model": entry.title,
                "optimiser": {"sgd": "SGD", "adamw": "AdamW"}[train.get("optimizer", "adamw")],
                "schedule": {"onecycle": "one-cycle", "cosine": "warm-up + cosine"}.get(
                    train.get("schedule"), train.get("schedule")
                ),
                "peak_lr": train.get("lr"),
                "range_test_lr": suggested_peak(range_test),
                "weight_decay": train.get("weight_decay"),
                "batch": recipe.get("batch_size"),
                "epochs": train.get("epochs"),
                "budget_cpu_minutes": train.get("epochs", 0)
                * range_test["epoch_cpu_seconds"]
                / range_test["threads"]
                / 60,
                "flip_averaged": bool(recipe.get("test_time_flip", False)),
            }
        )
    return pd.DataFrame(rows, index=list(saved))


def load_lr_range(name: str) -> dict:
    return read_json(lr_range_path(name))


def peaks_off_the_rule(
    recipes: pd.DataFrame, tolerance: float = 2.0
) -> dict[str, list[tuple[float, float]]]:
    """The networks whose recipe's peak is more than ``tolerance`` times away from what their
    range test suggests, each with the dips of its curve: the chapter must say why."""
    ratios = recipes["peak_lr"] / recipes["range_test_lr"]
    return {
        name: curve_dips(load_lr_range(name))
        for name, ratio in ratios.items()
        if not 1 / tolerance <= ratio <= tolerance
    }


DISPLAY_FORMATS = ("", ",.0f", ".1f", ".0f", ".0f", ",.0f", ".1f", ".1f")


def display_table(table: pd.DataFrame, recipes: pd.DataFrame) -> pd.DataFrame:
    """The comparison as the chapter prints it (with :data:`DISPLAY_FORMATS`): units in the
    headers, accuracies in per cent with one decimal, each network's epochs and budget."""
    return pd.DataFrame(
        {
            "model": table["model"],
            "parameters": table["parameters"],
            "MMACs / image": table["macs"] / 1e6,
            "epochs": recipes["epochs"],
            "CPU-min": recipes["budget_cpu_minutes"],
            "inference (images/s)": table["images_per_second"],
            "validation acc. (%)": table["val_accuracy"] * 100,
            "test acc. (%)": table["test_accuracy"] * 100,
        }
    )


VEHICLES = frozenset({"airplane", "automobile", "ship", "truck"})


def confused_pairs(matrix: np.ndarray, classes: tuple[str, ...], top: int = 3) -> pd.DataFrame:
    """The class pairs most often mistaken for each other (both directions summed)."""
    both = matrix + matrix.T
    rows = [
        (classes[i], classes[j], int(both[i, j]))
        for i in range(len(classes))
        for j in range(i + 1, len(classes))
    ]
    frame = pd.DataFrame(rows, columns=["first", "second", "errors"])
    return frame.sort_values("errors", ascending=False, kind="stable").head(top)


def share_of_errors_within_groups(matrix: np.ndarray, classes: tuple[str, ...]) -> float:
    """Of all errors, the share that stays inside the animals or inside the vehicles."""
    vehicle = np.array([name in VEHICLES for name in classes])
    errors = matrix * (1 - np.eye(len(classes), dtype=matrix.dtype))
    within = errors[np.ix_(vehicle, vehicle)].sum() + errors[np.ix_(~vehicle, ~vehicle)].sum()
    return float(within / errors.sum())


def position_similarity_by_distance(embeddings: np.ndarray, side: int) -> pd.Series:
    """Mean cosine similarity of two patch positions' embeddings by their distance on the patch
    grid (Chebyshev: 1 = adjacent, including diagonals); a learned 2-D layout makes it fall."""
    unit = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    similarity = unit @ unit.T
    rows, cols = np.divmod(np.arange(side * side), side)
    distance = np.maximum(
        np.abs(rows[:, None] - rows[None, :]), np.abs(cols[:, None] - cols[None, :])
    )
    off_diagonal = distance > 0
    frame = pd.DataFrame(
        {"distance": distance[off_diagonal], "similarity": similarity[off_diagonal]}
    )
    return frame.groupby("distance")["similarity"].mean()
