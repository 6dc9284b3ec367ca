"""The one evaluation path for classifiers: from true labels and predicted probabilities to
every number and curve the report shows (Part II's detector, Part IV, the bonus)."""

from __future__ import annotations

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
        metrics = {
            "loss": log_loss(self.y_true, self.proba, labels=labels),
            "accuracy": accuracy_score(self.y_true, self.y_pred),
            "balanced_accuracy": balanced_accuracy_score(self.y_true, self.y_pred),
        }
        if self.classes == 2:
            precision, recall, f1, _ = precision_recall_fscore_support(
                self.y_true, self.y_pred, average="binary", pos_label=positive, zero_division=0
            )
            score = self.proba[:, positive]
            metrics |= {
                "precision": precision,
                "recall": recall,
                "f1": f1,
                "roc_auc": roc_auc_score(self.y_true == positive, score),
                "pr_auc": average_precision_score(self.y_true == positive, score),
            }
        else:
            precision, recall, f1, _ = precision_recall_fscore_support(
                self.y_true, self.y_pred, average="macro", zero_division=0
            )
            metrics |= {"macro_precision": precision, "macro_recall": recall, "macro_f1": f1}
        return {key: float(value) for key, value in metrics.items()}

    def confusion(self) -> np.ndarray:
        return confusion_matrix(self.y_true, self.y_pred, labels=list(range(self.classes)))

    def roc(self, *, positive: int = 1) -> tuple[np.ndarray, np.ndarray]:
        fpr, tpr, _ = roc_curve(self.y_true == positive, self.proba[:, positive])
        return fpr, tpr
