"""What the Part IV chapter says about the ablation, computed: the seed summary with each
recipe's generalisation gap, the seed noise of the shipped recipe, which variants have an
effect beyond it, which are still short of seeds, and what an ensemble of the runs gives.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from a2dl.report import p_value
from a2dl.text import ablation as ab
from a2dl.text.experiment import SentimentExperiment


def generalisation_gap(history: list[dict], kept_epoch: int) -> float:
    """Training minus validation accuracy at the epoch whose weights were kept: how much
    better the model does on reviews it was fitted to than on new ones."""
    record = next(r for r in history if r["epoch"] == kept_epoch)
    return float(record["train_accuracy"] - record["val_accuracy"])


@dataclass(frozen=True)
class AblationFacts:
    """The ablation as the chapter reports it."""

    runs: pd.DataFrame  # one row per stored (variant, seed)
    table: pd.DataFrame  # one row per recipe with enough seeds (ab.seed_summary + "gap")
    planned: list[str]  # every variant of the plan, in order
    short_of_seeds: dict[str, int]  # variants with fewer than ab.VARIANT_SEEDS runs: runs done
    preferred: str  # the recipe the selection rule keeps

    @property
    def shipped(self) -> pd.Series:
        return self.table.set_index("variant").loc[ab.SHIPPED]

    @property
    def effects(self) -> list[str]:
        """Variants whose test mean differs from the shipped recipe's beyond the seed noise."""
        return list(self.table.loc[self.table["effect"], "variant"])

    def row(self, variant: str) -> pd.Series | None:
        rows = self.table.set_index("variant")
        return rows.loc[variant] if variant in rows.index else None

    def verdict(self, variant: str) -> str:
        """The change of the variant's test mean, and whether the rule counts it as an
        effect (the Holm-adjusted p of Welch's test over seeds below ab.ALPHA), with that p
        where it does."""
        row = self.row(variant)
        if row is None:
            return "not run yet"
        size, seeds = f"{row['test_delta'] * 100:+.2f} points", int(row["seeds"])
        if pd.isna(row["test_p_holm"]):
            return f"{size} from {seeds} seed{'s' if seeds > 1 else ''}, too few to test"
        if row["effect"]:
            return f"{size} (adjusted {p_value(row['test_p_holm'])}), an effect"
        return f"{size}, no effect shown"  # its p is in the table; the prose names effects alone

    def gap_points(self, variant: str) -> str:
        """The variant's mean generalisation gap in points, "—" when it has no runs."""
        row = self.row(variant)
        return "—" if row is None else f"{row['gap'] * 100:.1f}"

    @property
    def waiting(self) -> dict[str, int]:
        """Variants still short of seeds (the shipped recipe aside): runs done."""
        return {name: n for name, n in self.short_of_seeds.items() if name != ab.SHIPPED}

    def selection_note(self) -> str:
        if self.preferred == ab.SHIPPED:
            return (
                "No variant beats the chosen recipe on validation by more than the seed noise, "
                "so it stays."
            )
        return (
            f"Validation prefers “{self.preferred}” beyond the seed noise: it becomes the "
            "recipe of the next model."
        )

    def waiting_note(self) -> str:
        if not self.waiting:
            return ""
        untrained = sum(runs == 0 for runs in self.waiting.values())
        return (
            f"Of the {len(self.planned)} planned variants, {len(self.waiting)} have fewer than "
            f"{ab.VARIANT_SEEDS} seeds"
            + (f" ({untrained} with none, so absent from the table)" if untrained else "")
            + "; they are not tested, and no effect is claimed for them."
        )


def ablation_facts(experiment: SentimentExperiment) -> AblationFacts:
    runs = ab.load_runs(experiment)
    if runs.empty:
        runs = runs.assign(gap=pd.Series(dtype=float))
    else:
        pairs = zip(runs["history"], runs["kept_epoch"], strict=True)
        runs = runs.assign(gap=[generalisation_gap(h, k) for h, k in pairs])
    table = ab.seed_summary(runs)
    if not table.empty:
        gaps = runs.groupby("variant", sort=False)["gap"].mean()
        table = table.assign(gap=table["variant"].map(gaps))
    planned = list(ab.ablation_variants(experiment))
    done = runs["variant"].value_counts() if not runs.empty else pd.Series(dtype=int)
    short = {
        name: int(done.get(name, 0))
        for name in [ab.SHIPPED, *planned]
        if done.get(name, 0) < (len(ab.SEEDS) if name == ab.SHIPPED else ab.VARIANT_SEEDS)
    }
    preferred = ab.preferred_by_validation(table) if not table.empty else ab.SHIPPED
    return AblationFacts(runs, table, planned, short, preferred)


@dataclass(frozen=True)
class EnsembleFacts:
    models: int
    accuracy: float
    shared_errors: float  # share of the reference model's test errors that half the runs make


def ensemble_of_runs(
    p_positive: list[np.ndarray], labels: np.ndarray, reference_correct: np.ndarray
) -> EnsembleFacts:
    """The test accuracy of the mean predicted probability of several runs, and how much
    their errors overlap with one reference model's."""
    probabilities = np.array([np.asarray(p, dtype=float) for p in p_positive])
    wrong = (probabilities >= 0.5).astype(int) != labels
    accuracy = float(((probabilities.mean(axis=0) >= 0.5).astype(int) == labels).mean())
    shared = float((wrong.mean(axis=0) >= 0.5)[~reference_correct].mean())
    return EnsembleFacts(len(probabilities), accuracy, shared)
