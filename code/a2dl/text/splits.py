"""The IMDB reviews pooled, de-duplicated and re-split 70/15/15, stratified, with a fixed seed.

The original 25k/25k split is pooled because the assignment asks for a train / validation /
test split of one dataset; exact duplicate texts are dropped first so that no review can sit
in two splits at once (the original holds 418 extra copies, some across its own splits).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

from a2dl import artefacts
from a2dl.data.imdb import load_reviews

FRACTIONS = {"train": 0.70, "validation": 0.15, "test": 0.15}
SPLIT_SEED = artefacts.SEED


def imdb_splits(root: Path | None = None, *, seed: int = SPLIT_SEED) -> pd.DataFrame:
    """All unique labelled reviews with a ``split`` column (train / validation / test)."""
    reviews = load_reviews(root).drop_duplicates("text", keep="first").reset_index(drop=True)
    held_out = FRACTIONS["validation"] + FRACTIONS["test"]
    train, rest = train_test_split(
        reviews.index, test_size=held_out, stratify=reviews["label"], random_state=seed
    )
    validation, test = train_test_split(
        rest,
        test_size=FRACTIONS["test"] / held_out,
        stratify=reviews.loc[rest, "label"],
        random_state=seed,
    )
    split = pd.Series("train", index=reviews.index)
    split[validation] = "validation"
    split[test] = "test"
    return reviews.assign(split=split.astype(pd.CategoricalDtype(list(FRACTIONS))))
