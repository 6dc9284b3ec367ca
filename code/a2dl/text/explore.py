"""Descriptive statistics of the IMDB reviews for the Part IV chapter."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from a2dl.data.imdb import load_reviews


def duplicate_count() -> int:
    """Extra copies of identical review texts in the 50,000 labelled reviews."""
    reviews = load_reviews()
    return int(len(reviews) - reviews["text"].nunique())


def split_balance(frame: pd.DataFrame) -> pd.DataFrame:
    """Reviews per split and class, with the share of positives."""
    table = frame.groupby("split", observed=True)["label"].agg(reviews="size", positive="sum")
    table["negative"] = table["reviews"] - table["positive"]
    table["positive share"] = table["positive"] / table["reviews"]
    return table.reset_index()[["split", "reviews", "negative", "positive", "positive share"]]


def token_counts(documents: pd.Series) -> Counter:
    return Counter(token for document in documents for token in document)


def polar_words(frame: pd.DataFrame, *, top: int = 12, min_count: int = 100) -> pd.DataFrame:
    """Words whose smoothed log-odds of appearing in positive vs negative reviews are extreme.

    Counts come from the training split only; +1 smoothing keeps rare words from dominating.
    """
    train = frame[frame["split"] == "train"]
    positive = token_counts(train.loc[train["label"] == 1, "tokens"])
    negative = token_counts(train.loc[train["label"] == 0, "tokens"])
    words = [w for w in positive.keys() | negative.keys() if positive[w] + negative[w] >= min_count]
    pos_total, neg_total = sum(positive.values()), sum(negative.values())
    log_odds = pd.Series(
        {
            w: np.log((positive[w] + 1) / (pos_total + 1))
            - np.log((negative[w] + 1) / (neg_total + 1))
            for w in words
        }
    ).sort_values()
    chosen = pd.concat([log_odds.head(top), log_odds.tail(top)])
    return pd.DataFrame({"word": chosen.index, "log_odds": chosen.to_numpy()})
