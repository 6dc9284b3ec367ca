"""Part IV's classical baseline: TF-IDF of word 1–2-grams and logistic regression, under each
stop-word policy (``python -m a2dl train sentiment-baseline``), and the same model as the
Transformer's teacher, cross-fitted so that no review is scored by a model fitted on it."""

from __future__ import annotations

import hashlib
import json
import time

import numpy as np
import pandas as pd

from a2dl import artefacts
from a2dl.cache import cached
from a2dl.checkpoint import read_json
from a2dl.files import write_json
from a2dl.metrics import ClassificationResult
from a2dl.text.cleaned import STOPWORD_POLICIES, cleaned_splits
from a2dl.text.splits import SPLIT_SEED

BASELINE = "imdb_baseline.json"
TEACHER_FOLDS = 5


def cross_fitted_baseline(frame: pd.DataFrame) -> np.ndarray:
    """The baseline's class probabilities for each training review, (reviews, 2), each from a
    model fitted on the other folds: a teacher fitted on a review itself would only repeat
    its label. Kept between runs by :mod:`a2dl.cache`."""
    from sklearn.model_selection import StratifiedKFold

    train = frame[frame["split"] == "train"].reset_index(drop=True)

    def fit_folds() -> np.ndarray:
        proba = np.zeros((len(train), 2))
        folds = StratifiedKFold(TEACHER_FOLDS, shuffle=True, random_state=SPLIT_SEED)
        for fitted, held in folds.split(train, train["label"]):
            pipeline = fit_baseline(train.iloc[fitted].assign(split="train"))
            proba[held] = pipeline.predict_proba(train["tokens"].iloc[held])
        return proba

    return cached("imdb-teacher", fit_folds, folds=TEACHER_FOLDS, reviews=reviews_digest(train))


def reviews_digest(reviews: pd.DataFrame) -> str:
    """SHA-256 of the reviews' tokens and labels in order: a cache key that changes whenever
    what the teacher reads does (their number alone would not)."""
    digest = hashlib.sha256()
    for tokens, label in zip(reviews["tokens"], reviews["label"], strict=True):
        digest.update(json.dumps([tokens, int(label)]).encode())
    return digest.hexdigest()


def teacher_accuracy(frame: pd.DataFrame) -> float:
    """The share of training reviews whose cross-fitted teacher probability is on the side
    of their label."""
    labels = frame.loc[frame["split"] == "train", "label"].to_numpy()
    return float(np.mean((cross_fitted_baseline(frame)[:, 1] >= 0.5) == labels))


def fit_baseline(frame: pd.DataFrame):
    """TF-IDF of word 1–2-grams and logistic regression, on the same split and cleaning."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    train = frame[frame["split"] == "train"]
    pipeline = make_pipeline(
        TfidfVectorizer(
            analyzer=lambda tokens: (
                tokens + [" ".join(p) for p in zip(tokens, tokens[1:], strict=False)]
            ),
            min_df=2,
            max_features=200_000,
            sublinear_tf=True,
        ),
        LogisticRegression(C=4.0, max_iter=2000),
    )
    return pipeline.fit(train["tokens"], train["label"])


def baseline(*, progress: bool = True) -> None:
    """``train sentiment-baseline``: TF-IDF + logistic regression under each stop-word policy."""
    rows = []
    for policy in STOPWORD_POLICIES:
        frame = cleaned_splits(policy)
        started = time.perf_counter()
        pipeline = fit_baseline(frame)
        seconds = time.perf_counter() - started
        row = {"stopwords": policy, "train_seconds": seconds}
        for split in ("train", "validation", "test"):
            part = frame[frame["split"] == split]
            proba = pipeline.predict_proba(part["tokens"])
            result = ClassificationResult(part["label"].to_numpy(), proba)
            row |= {f"{split}_{k}": v for k, v in result.summary().items()}
        # kept so that the chapter can draw the baseline's ROC curve without refitting it
        row["test_p_positive"] = [round(float(p), 6) for p in proba[:, 1]]
        rows.append(row)
        if progress:
            print(f"{policy}: val {row['validation_accuracy']:.4f} test {row['test_accuracy']:.4f}")
    write_json(artefacts.record_path(BASELINE), rows)


def load_baseline() -> pd.DataFrame:
    return pd.DataFrame(read_json(artefacts.record_path(BASELINE)))
