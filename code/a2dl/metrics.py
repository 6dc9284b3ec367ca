"""The one evaluation path for classifiers: from true labels and predicted probabilities to
every number and curve the report shows (Part II's detector, Part IV, the bonus)."""

from __future__ import annotations

import math
from collections.abc import Sequence
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

from a2dl import artefacts


def binary_summary(y_true: np.ndarray, y_pred: np.ndarray, score: np.ndarray) -> dict[str, float]:
    """Accuracy, balanced accuracy, and the positive class's precision, recall, F1, ROC and
    PR AUC: what every binary decision in the report is judged by. Precision is undefined
    (NaN) for a detector that raises no alarm: 0 would claim that its alarms were wrong."""
    precision, recall, f1, _ = precision_recall_fscore_support(
        y_true, y_pred, average="binary", pos_label=1, zero_division=0
    )
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
        "precision": float(precision) if np.any(y_pred) else math.nan,
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
            "precision": math.nan,
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


def resample_weights(
    groups: np.ndarray, *, replicates: int = 1000, seed: int = artefacts.SEED
) -> tuple[np.ndarray, np.ndarray]:
    """Bootstrap resamples of whole groups: how often each group was drawn in each replicate,
    (replicates, groups), and each row's group code. Windows of one series overlap and share
    its anomalies, so they are not independent draws; series are."""
    rng = np.random.default_rng(seed)
    _, codes = np.unique(groups, return_inverse=True)
    n_groups = int(codes.max()) + 1
    counts = rng.multinomial(n_groups, np.full(n_groups, 1 / n_groups), size=replicates)
    return counts.astype(np.float64), codes


def _per_group(codes: np.ndarray, values: np.ndarray, groups: int) -> np.ndarray:
    """The sum of ``values`` over the rows of each group: (groups,)."""
    return np.bincount(codes, weights=np.asarray(values, float), minlength=groups)


def weighted_binary_summary(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    score: np.ndarray,
    weights: np.ndarray,
    groups: np.ndarray,
) -> dict[str, np.ndarray]:
    """:func:`binary_summary` for many weightings of the same rows at once: ``weights`` of
    shape (replicates, groups) weigh every row of group ``groups[i]`` alike, one value per
    replicate. With integer weights it equals :func:`binary_summary` on the rows repeated
    that often (ties in ``score`` handled as scikit-learn does). The rows are sorted once and
    counted per group, so a thousand replicates cost a few matrix products over the groups,
    not a thousand passes over the rows."""
    y, p = np.asarray(y_true, bool), np.asarray(y_pred, bool)
    w = np.atleast_2d(weights)
    codes, n_groups = np.asarray(groups), w.shape[1]
    tp, fp = w @ _per_group(codes, y & p, n_groups), w @ _per_group(codes, ~y & p, n_groups)
    fn, tn = w @ _per_group(codes, y & ~p, n_groups), w @ _per_group(codes, ~y & ~p, n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = tp / (tp + fn)
        precision = np.where(tp + fp > 0, tp / (tp + fp), np.nan)
        result = {
            "accuracy": (tp + tn) / (tp + fp + fn + tn),
            "balanced_accuracy": (recall + tn / (tn + fp)) / 2,
            "precision": precision,
            "recall": recall,
            "f1": 2 * tp / (2 * tp + fp + fn),
        }
        order = np.argsort(-np.asarray(score, dtype=float), kind="stable")
        ranked = np.asarray(score, dtype=float)[order]
        ends = np.flatnonzero(np.r_[ranked[1:] != ranked[:-1], True])  # last row of each tie

        def cumulative(mask: np.ndarray) -> np.ndarray:
            """(groups, ties): the rows of each group among the first tie groups."""
            counted = np.zeros((n_groups, len(order)))
            counted[codes[order], np.arange(len(order))] = mask[order]
            return np.cumsum(counted, axis=1)[:, ends]

        positives, negatives = cumulative(y), cumulative(~y)
        # a few replicates at a time: the curves of all of them at once are (replicates, ties)
        # matrices of hundreds of megabytes, whose copies cost more than the arithmetic
        areas = [_areas(chunk @ positives, chunk @ negatives) for chunk in _chunks(w)]
        result["roc_auc"] = np.concatenate([roc for roc, _ in areas])
        result["pr_auc"] = np.concatenate([pr for _, pr in areas])
    return result


def _chunks(rows: np.ndarray, size: int = 100) -> list[np.ndarray]:
    return [rows[start : start + size] for start in range(0, len(rows), size)]


def _areas(true_pos: np.ndarray, false_pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ROC-AUC and PR-AUC per row from the cumulative true and false positives at each tie."""
    tpr = true_pos / true_pos[:, -1:]
    fpr = false_pos / false_pos[:, -1:]
    zero = np.zeros((len(tpr), 1))
    tpr_steps, fpr_steps = np.hstack([zero, tpr]), np.hstack([zero, fpr])
    roc = np.sum(np.diff(fpr_steps, axis=1) * (tpr_steps[:, 1:] + tpr_steps[:, :-1]) / 2, axis=1)
    flagged = true_pos + false_pos  # 0 only before any weighted row: recall adds nothing
    precision_at = np.divide(true_pos, flagged, out=np.zeros_like(flagged), where=flagged > 0)
    return roc, np.sum(np.diff(tpr_steps, axis=1) * precision_at, axis=1)


def percentile_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """The percentile interval of the finite values (a replicate without an alarm has no
    precision; one without an anomaly has no recall)."""
    tail = (1 - level) / 2 * 100
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return math.nan, math.nan
    return float(np.percentile(finite, tail)), float(np.percentile(finite, 100 - tail))


def _usable(weights: np.ndarray, codes: np.ndarray, y_true: np.ndarray) -> np.ndarray:
    """Replicates that drew both classes (the others have no AUC)."""
    groups = weights.shape[1]
    positives = weights @ _per_group(codes, y_true, groups)
    rows = weights @ _per_group(codes, np.ones(len(codes)), groups)
    return (positives > 0) & (positives < rows)


def bootstrap_over_groups(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    score: np.ndarray,
    groups: np.ndarray,
    *,
    replicates: int = 1000,
    level: float = 0.95,
    seed: int = artefacts.SEED,
) -> dict[str, tuple[float, float]]:
    """Percentile confidence intervals of every :func:`binary_summary` metric, and of its
    margin over the better trivial detector (same alarm rate), resampling whole groups.
    Margins are keyed ``<metric>_margin``."""
    weights, codes = resample_weights(groups, replicates=replicates, seed=seed)
    weights = weights[_usable(weights, codes, y_true)]
    draws = weighted_binary_summary(y_true, y_pred, score, weights, codes)
    groups = weights.shape[1]
    rows = weights @ _per_group(codes, np.ones(len(codes)), groups)
    base_rate = (weights @ _per_group(codes, y_true, groups)) / rows
    alarm_rate = (weights @ _per_group(codes, y_pred, groups)) / rows
    # the trivial detectors of each replicate, once: (replicates, detectors) per metric
    trivial = [trivial_detectors(p, q) for p, q in zip(base_rate, alarm_rate, strict=True)]
    intervals = {}
    for name, values in draws.items():
        per_detector = [[detector[name] for detector in t.values()] for t in trivial]
        best_trivial = np.nanmax(np.asarray(per_detector, dtype=float), axis=1)
        intervals[name] = percentile_interval(values, level)
        intervals[f"{name}_margin"] = percentile_interval(values - best_trivial, level)
    return intervals


def paired_bootstrap(
    y_true: np.ndarray,
    first: tuple[np.ndarray, np.ndarray],
    second: tuple[np.ndarray, np.ndarray],
    groups: np.ndarray,
    *,
    replicates: int = 1000,
    level: float = 0.95,
    seed: int = artefacts.SEED,
) -> dict[str, tuple[float, float, float]]:
    """The margin of one detector over another, each given as (decisions, scores), on every
    :func:`binary_summary` metric: (margin on all data, interval low, interval high). Both
    are scored on the same resampled series in each replicate, so the interval is that of a
    paired difference, narrower than the two separate intervals suggest."""
    weights, codes = resample_weights(groups, replicates=replicates, seed=seed)
    weights = np.vstack([np.ones(weights.shape[1]), weights[_usable(weights, codes, y_true)]])
    a = weighted_binary_summary(y_true, *first, weights, codes)
    b = weighted_binary_summary(y_true, *second, weights, codes)
    return {
        name: (
            float(a[name][0] - b[name][0]),
            *percentile_interval(a[name][1:] - b[name][1:], level),
        )
        for name in a
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


def welch_test(first: Sequence[float], second: Sequence[float]) -> dict[str, float]:
    """Welch's two-sample t-test of the means of two groups of runs (seeds) with unequal
    variances: whether two recipes differ by more than their run-to-run noise allows.

    McNemar's test compares two single models on the same reviews and so covers only the
    noise of the test sample; retraining with another seed moves an accuracy as much as many
    recipe changes do, and only a test over seeds counts that noise. Two-sided; the degrees
    of freedom are Welch–Satterthwaite's.
    """
    from scipy.stats import ttest_ind

    a, b = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
    if min(len(a), len(b)) < 2:
        raise ValueError(f"a test over seeds needs two runs or more of each: {len(a)}, {len(b)}")
    difference = float(a.mean() - b.mean())
    if a.var() == 0 and b.var() == 0:  # no spread: equal means, or a difference beyond doubt
        t = 0.0 if difference == 0 else math.copysign(math.inf, difference)
        return {"difference": difference, "t": t, "df": float(len(a) + len(b) - 2),
                "p_value": float(difference == 0)}  # fmt: skip
    result = ttest_ind(a, b, equal_var=False)
    return {
        "difference": difference,
        "t": float(result.statistic),
        "df": float(result.df),
        "p_value": float(result.pvalue),
    }


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
