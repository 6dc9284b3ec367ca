"""Part IV ablation: the shipped recipe with one thing changed at a time, each recipe
fine-tuned with several seeds so that an effect can be told from run-to-run noise.

Every run starts from the same pre-trained weights; the seed changes only the fine-tuning
(initialisation of the parts that are not pre-trained, dropout masks and batch order). Runs
are stored in ``weights/imdb_ablation.json`` by the fingerprint of the recipe they trained
(the seed is part of it) and of the pre-trained weights they started from, so that
``python -m a2dl train sentiment-ablation`` resumes where it stopped and adds missing seeds.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time

import numpy as np
import pandas as pd

from a2dl import artefacts
from a2dl.checkpoint import load_history, read_json, read_weights
from a2dl.files import write_json
from a2dl.metrics import holm_adjusted, welch_test
from a2dl.text.cleaned import cleaned_splits
from a2dl.text.experiment import (
    SentimentExperiment,
    load_sentiment_model,
    split_result,
    train_sentiment,
)
from a2dl.text.experiment import history_path as shipped_history_path
from a2dl.text.pretraining import weights_path as pretrained_weights_path
from a2dl.train import best_epoch

ABLATION = "imdb_ablation.json"
# Fine-tuning seeds: the first is the shipped model's; the shipped recipe is run with all of
# them and each variant with the first VARIANT_SEEDS (the seed noise is the shipped recipe's).
SEEDS = tuple(artefacts.SEED + k for k in range(5))
VARIANT_SEEDS = 3
SHIPPED = "chosen recipe"
ALPHA = 0.05  # an effect: Holm-adjusted p below this, from Welch's t-test over seeds

CONTEXT_LENGTHS = (256, 512)  # tokens kept per review: the two the ablation compares
TEACHER_WEIGHTS = (0.5, 0.8)  # the two weights of the teacher's probabilities that were tried


STOPWORD_VARIANT = "negations removed too"


def other_context(max_len: int) -> int:
    """The context length the ablation sets against the shipped one."""
    return CONTEXT_LENGTHS[0] if max_len == CONTEXT_LENGTHS[1] else CONTEXT_LENGTHS[1]


def context_variant(max_len: int) -> str:
    """The ablation row's name for the other context length: shorter keeps head and tail."""
    other = other_context(max_len)
    return f"{other} tokens" + (" (head and tail)" if other < max_len else " (longer context)")


def other_teacher_weight(weight: float) -> float:
    """The teacher weight the ablation sets against the shipped one."""
    return TEACHER_WEIGHTS[0] if weight == TEACHER_WEIGHTS[1] else TEACHER_WEIGHTS[1]


def teacher_variant(weight: float) -> str:
    """The ablation row's name for the other teacher weight."""
    return f"teacher weight {other_teacher_weight(weight):g}"


def more_dropout_variant(dropout: float) -> str:
    """The ablation row's name for twice the shipped dropout rate."""
    return f"dropout {2 * dropout:g}"


def ablation_variants(experiment: SentimentExperiment) -> dict[str, SentimentExperiment]:
    """The shipped recipe with one thing switched off or changed at a time, in training order:
    first the techniques the assignment names and the two this recipe adds (pre-training,
    distillation), then the stop-word choice the assignment asks about, then the settings
    beside the shipped ones."""
    train, model = experiment.train, experiment.model
    return {
        "no pre-training": dataclasses.replace(experiment, pretrained=False),
        "no distillation": dataclasses.replace(experiment, teacher_weight=0.0),
        "no dropout": dataclasses.replace(
            experiment, model=dataclasses.replace(model, dropout=0.0, attention_dropout=0.0)
        ),
        "no weight decay": dataclasses.replace(
            experiment, train=dataclasses.replace(train, weight_decay=0.0)
        ),
        "no early stopping": dataclasses.replace(
            experiment, train=dataclasses.replace(train, patience=None, keep_best=False)
        ),
        "constant learning rate": dataclasses.replace(
            experiment, train=dataclasses.replace(train, warmup_fraction=0.0, schedule="constant")
        ),
        # R4.3 asks for stop words to be removed; the recipe keeps the negations among them
        STOPWORD_VARIANT: dataclasses.replace(experiment, keep_negations=False),
        teacher_variant(experiment.teacher_weight): dataclasses.replace(
            experiment, teacher_weight=other_teacher_weight(experiment.teacher_weight)
        ),
        # the first cycle's held-out loss was still falling when it ended
        "two pre-training cycles": dataclasses.replace(experiment, pretraining_cycles=2),
        context_variant(model.max_len): dataclasses.replace(
            experiment, model=dataclasses.replace(model, max_len=other_context(model.max_len))
        ),
        more_dropout_variant(model.dropout): dataclasses.replace(
            experiment, model=dataclasses.replace(model, dropout=2 * model.dropout)
        ),
    }


def with_seed(experiment: SentimentExperiment, seed: int) -> SentimentExperiment:
    return dataclasses.replace(experiment, train=dataclasses.replace(experiment.train, seed=seed))


def planned_runs(experiment: SentimentExperiment) -> list[tuple[str, SentimentExperiment]]:
    """Every (row name, seeded recipe) of the ablation, in training order: the shipped
    recipe's seeds, then each variant's seeds before the next variant, so that a stopped
    ablation leaves whole rows."""
    runs = [(SHIPPED, with_seed(experiment, seed)) for seed in SEEDS]
    for name, variant in ablation_variants(experiment).items():
        runs += [(name, with_seed(variant, seed)) for seed in SEEDS[:VARIANT_SEEDS]]
    return runs


def recipe_digest(experiment: SentimentExperiment) -> str:
    """A fingerprint of everything a fine-tuning run depends on besides the data and the
    pre-trained weights, the seed included: two runs with one fingerprint are the same run."""
    text = json.dumps(dataclasses.asdict(experiment), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def pretrained_digest(cycles: int = 1) -> str | None:
    """The SHA-256 of the pre-trained weights that fine-tuned runs start from."""
    path = pretrained_weights_path(cycles)
    return read_weights(path)["sha256"] if path.is_file() else None


def run_key(experiment: SentimentExperiment, pretrained: str | None) -> tuple[str, str | None]:
    """Where a run of ``experiment`` is stored, given the digest of the pre-trained weights: a
    run from random weights does not depend on them, and stays valid when they change."""
    return recipe_digest(experiment), pretrained if experiment.pretrained else None


def store_path():
    return artefacts.record_path(ABLATION)


def stored_runs() -> dict[tuple[str | None, str | None], dict]:
    """The stored runs by (recipe fingerprint, pre-trained weights fingerprint)."""
    rows = read_json(store_path()) if store_path().is_file() else []
    return {(row.get("recipe_sha256"), row.get("pretrained_sha256")): row for row in rows}


def run_row(name, model, vocab, frame, history, experiment, seconds) -> dict:
    """One run as stored: its accuracies, the epoch kept, its cost, its test predictions (for
    paired tests) and its per-epoch history."""
    test = split_result(model, vocab, frame, "test")
    kept = best_epoch(history, experiment.train.monitor, experiment.train.mode)["epoch"]
    return {
        "variant": name,
        "seed": experiment.train.seed,
        "val_accuracy": split_result(model, vocab, frame, "validation").summary()["accuracy"],
        "test_accuracy": test.summary()["accuracy"],
        "kept_epoch": kept if experiment.train.keep_best else len(history),
        "epochs_run": len(history),
        "train_minutes": seconds / 60,
        "train_cpu_minutes": sum(r.get("train_cpu_seconds", 0.0) for r in history) / 60,
        "test_p_positive": [round(float(p), 4) for p in test.proba[:, 1]],
        "history": history,
    }


def shipped_model_row(shipped: tuple, frame: pd.DataFrame) -> dict:
    """The shipped model (``load_sentiment_model()``) as the first seed of its recipe:
    evaluated, not trained again (fine-tuning is deterministic on a CPU, so training it again
    gives the same weights)."""
    model, vocab, experiment, metadata = shipped
    history = load_history(shipped_history_path())
    return run_row(SHIPPED, model, vocab, frame, history, experiment, metadata["train_seconds"])


def ablate(*, progress: bool = True) -> None:
    """``train sentiment-ablation``: every planned run not yet stored, in :func:`planned_runs`'
    order, each saved as soon as it is done; stop it at any time and run it again to go on."""
    pretrained = pretrained_digest()
    runs = stored_runs()

    def store(key, row: dict) -> None:
        runs[key] = row | {"recipe_sha256": key[0], "pretrained_sha256": key[1]}
        write_json(store_path(), list(runs.values()))
        if progress:
            print(
                f"{row['variant']} (seed {row['seed']}): val {row['val_accuracy']:.4f} "
                f"test {row['test_accuracy']:.4f}, {row['train_minutes']:.1f} min",
                flush=True,
            )

    shipped = load_sentiment_model()
    experiment = shipped[2]
    shipped_key = run_key(experiment, pretrained)
    if shipped_key not in runs:
        store(shipped_key, shipped_model_row(shipped, cleaned_splits(experiment.stopwords)))
    for name, recipe in planned_runs(experiment):
        key = run_key(recipe, pretrained)
        if key in runs:
            continue
        frame = cleaned_splits(recipe.stopwords)  # cached per policy
        started = time.perf_counter()
        model, vocab, history, _ = train_sentiment(recipe, frame, progress=progress)
        seconds = time.perf_counter() - started
        store(key, run_row(name, model, vocab, frame, history, recipe, seconds))


def load_runs(experiment: SentimentExperiment) -> pd.DataFrame:
    """Every stored run of the planned ones, one row per (variant, seed), in plan order;
    runs not yet trained are left out."""
    runs = stored_runs()
    pretrained = pretrained_digest()
    rows = [
        runs[key] | {"variant": name, "seed": recipe.train.seed}
        for name, recipe in planned_runs(experiment)
        if (key := run_key(recipe, pretrained)) in runs
    ]
    return pd.DataFrame(rows, columns=None if rows else ["variant", "seed"])


def seed_summary(runs: pd.DataFrame, *, min_seeds: int = VARIANT_SEEDS) -> pd.DataFrame:
    """One row per recipe in plan order: seeds run, mean and SD (n − 1) of validation and
    test accuracy, the mean epoch kept and epochs run, and the difference of each variant's
    mean from the shipped recipe's on each split with Welch's t-test over seeds, Holm-adjusted
    across the variants tested. A recipe is tested only once it has ``min_seeds`` runs and the
    shipped recipe two or more (a mean of fewer has no usable spread); until then its p-values
    are NaN and it claims no effect."""
    grouped = runs.groupby("variant", sort=False)
    table = grouped.agg(
        seeds=("seed", "size"),
        val_mean=("val_accuracy", "mean"),
        val_sd=("val_accuracy", "std"),
        test_mean=("test_accuracy", "mean"),
        test_sd=("test_accuracy", "std"),
        kept_epoch=("kept_epoch", "mean"),
        epochs_run=("epochs_run", "mean"),
        cpu_minutes=("train_cpu_minutes", "sum"),
    ).reset_index()
    if SHIPPED not in set(table["variant"]):
        return table.iloc[0:0]
    shipped = runs[runs["variant"] == SHIPPED]
    variants = table["variant"] != SHIPPED
    tested = variants & (table["seeds"] >= min_seeds) & (len(shipped) >= 2)
    for split in ("val", "test"):
        column = f"{split}_accuracy"
        reference = table.loc[~variants, f"{split}_mean"].iloc[0]
        table[f"{split}_delta"] = table[f"{split}_mean"] - reference
        table[f"{split}_p"] = np.nan
        table[f"{split}_p_holm"] = np.nan
        if tested.any():
            p = np.array(
                [
                    welch_test(runs.loc[runs["variant"] == name, column], shipped[column])[
                        "p_value"
                    ]
                    for name in table.loc[tested, "variant"]
                ]
            )
            table.loc[tested, f"{split}_p"] = p
            table.loc[tested, f"{split}_p_holm"] = holm_adjusted(p)
    table["effect"] = table["test_p_holm"] < ALPHA
    return table


def preferred_by_validation(table: pd.DataFrame) -> str:
    """The recipe the selection rule keeps: a variant replaces the shipped recipe only when
    its validation mean is higher by more than the seed noise allows (Holm-adjusted Welch
    p below ALPHA); otherwise the shipped recipe stays."""
    better = table[(table["val_delta"] > 0) & (table["val_p_holm"] < ALPHA)]
    return SHIPPED if better.empty else str(better.loc[better["val_mean"].idxmax(), "variant"])
