"""The one evaluation path for classifiers: from true labels and predicted probabilities to
every number and curve the report shows (Part II's detector, Part IV, the bonus)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    balanced_accuracy_score,
    confusion_matrix,
    log_loss,
    precision_recall_fscore_support,
    roc_auc_score,
    roc_curve,
)


def binary_summary(y_true: np.ndarray, y_pred: np.ndarray, score: np.ndarray) -> dict[str, float]:
    """Accuracy, balanced accuracy, and the positive class's precision, recall, F1, ROC and
    PR AUC: what every binary decision in the report is judged by."""
    precision, recall, f1, _ = precision_recall_fscore_support(
        y_true, y_pred, average="binary", pos_label=1, zero_division=0
    )
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
        "roc_auc": float(roc_auc_score(y_true, score)),
        "pr_auc": float(average_precision_score(y_true, score)),
    }


def trivial_detectors(base_rate: float, alarm_rate: float) -> dict[str, dict[str, float]]:
    """What detectors that ignore the input achieve, in expectation, on data with
    ``base_rate`` positives: one that never alarms, and one that alarms at random on a share
    ``alarm_rate`` of the examples. Both have balanced accuracy 0.5 and PR-AUC equal to the
    base rate (ROC-AUC 0.5); F1 is 0 for the first and 2pq/(p + q) for the second."""
    p, q = base_rate, alarm_rate
    return {
        "never alarms": {
            "accuracy": 1 - p,
            "balanced_accuracy": 0.5,
            "precision": 0.0,
            "recall": 0.0,
            "f1": 0.0,
            "roc_auc": 0.5,
            "pr_auc": p,
        },
        "alarms at random": {
            "accuracy": (1 - p) * (1 - q) + p * q,
            "balanced_accuracy": 0.5,
            "precision": p,
            "recall": q,
            "f1": 2 * p * q / (p + q) if p + q else 0.0,
            "roc_auc": 0.5,
            "pr_auc": p,
        },
    }


def bootstrap_over_groups(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    score: np.ndarray,
    groups: np.ndarray,
    *,
    replicates: int = 1000,
    level: float = 0.95,
    seed: int = 676,
) -> dict[str, tuple[float, float]]:
    """Percentile confidence intervals of every :func:`binary_summary` metric, and of its
    margin over the better trivial detector (same alarm rate), resampling whole groups.

    Neighbouring windows of one series overlap and share its anomalies, so windows are not
    independent draws; series are. Margins are keyed ``<metric>_margin``.
    """
    rng = np.random.default_rng(seed)
    members = [np.flatnonzero(groups == g) for g in np.unique(groups)]
    draws: dict[str, list[float]] = {}
    for _ in range(replicates):
        rows = np.concatenate([members[i] for i in rng.integers(len(members), size=len(members))])
        y = y_true[rows]
        if y.all() or not y.any():
            continue
        metrics = binary_summary(y, y_pred[rows], score[rows])
        trivial = trivial_detectors(float(y.mean()), float(y_pred[rows].mean()))
        for name, value in metrics.items():
            best_trivial = max(detector[name] for detector in trivial.values())
            draws.setdefault(name, []).append(value)
            draws.setdefault(f"{name}_margin", []).append(value - best_trivial)
    tail = (1 - level) / 2 * 100
    return {
        name: (float(np.percentile(values, tail)), float(np.percentile(values, 100 - tail)))
        for name, values in draws.items()
    }


@dataclass(frozen=True)
class ClassificationResult:
    """Predictions of one model on one split, with the metrics derived from them."""

    y_true: np.ndarray
    proba: np.ndarray  # (n, classes)

    @property
    def y_pred(self) -> np.ndarray:
        return self.proba.argmax(axis=1)

    @property
    def classes(self) -> int:
        return self.proba.shape[1]

    def summary(self, *, positive: int = 1) -> dict[str, float]:
        """Loss, accuracy and, for two classes, the positive class's precision/recall/F1/AUCs."""
        labels = list(range(self.classes))
        loss = {"loss": float(log_loss(self.y_true, self.proba, labels=labels))}
        if self.classes == 2:
            y = (self.y_true == positive).astype(int)
            predicted = (self.y_pred == positive).astype(int)
            return loss | binary_summary(y, predicted, self.proba[:, positive])
        precision, recall, f1, _ = precision_recall_fscore_support(
            self.y_true, self.y_pred, average="macro", zero_division=0
        )
        return loss | {
            "accuracy": float(accuracy_score(self.y_true, self.y_pred)),
            "balanced_accuracy": float(balanced_accuracy_score(self.y_true, self.y_pred)),
            "macro_precision": float(precision),
            "macro_recall": float(recall),
            "macro_f1": float(f1),
        }

    def confusion(self) -> np.ndarray:
        return confusion_matrix(self.y_true, self.y_pred, labels=list(range(self.classes)))

    def roc(self, *, positive: int = 1) -> tuple[np.ndarray, np.ndarray]:
        fpr, tpr, _ = roc_curve(self.y_true == positive, self.proba[:, positive])
        return fpr, tpr


def epoch_record(on_train: ClassificationResult, on_val: ClassificationResult) -> dict[str, float]:
    """Loss and accuracy on a training probe and on validation: what the training loop records
    after each epoch for the learning curves (the keys ``plot_training_curves`` reads)."""
    train, val = on_train.summary(), on_val.summary()
    return {
        "train_loss": train["loss"],
        "train_accuracy": train["accuracy"],
        "val_loss": val["loss"],
        "val_accuracy": val["accuracy"],
    }


def proportion_standard_error(proportion: float, n: int) -> float:
    """Standard error of a proportion (an accuracy) measured on ``n`` independent items."""
    return math.sqrt(proportion * (1 - proportion) / n)


def mcnemar(first_correct: np.ndarray, second_correct: np.ndarray) -> dict[str, float]:
    """Exact McNemar test of two classifiers scored on the same examples.

    Only the examples on which they disagree carry information: under the null hypothesis of
    equal accuracy each of the ``n`` discordant examples is equally likely to favour either
    model, so the count that favours the first is Binomial(n, 1/2); the p-value is two-sided.
    The standard error of one accuracy ignores this pairing and is far too wide for it.
    """
    from scipy.stats import binomtest

    first, second = np.asarray(first_correct, bool), np.asarray(second_correct, bool)
    if first.shape != second.shape:
        raise ValueError(f"paired tests need the same examples: {first.shape} vs {second.shape}")
    only_first, only_second = int(np.sum(first & ~second)), int(np.sum(~first & second))
    discordant = only_first + only_second
    p_value = binomtest(only_first, discordant, 0.5).pvalue if discordant else 1.0
    return {"only_first": only_first, "only_second": only_second, "p_value": float(p_value)}


def holm_adjusted(p_values: list[float] | np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment of p-values for testing several hypotheses at once.

    An ablation compares one model with several variants; at 5% each, some "significant"
    difference is likely by chance alone. An adjusted p-value below 5% keeps the chance of any
    false finding among all the tests at 5% (Holm 1979), with more power than Bonferroni's.
    """
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p)
    scaled = p[order] * (len(p) - np.arange(len(p)))
    adjusted = np.empty_like(p)
    adjusted[order] = np.minimum(np.maximum.accumulate(scaled), 1.0)
    return adjusted
