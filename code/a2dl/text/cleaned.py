"""The IMDB reviews cleaned for the models: the one place where the cleaning recipe (which
stop words go) is built, below every experiment that reads the cleaned text.

The recipe of every model is "keep negations": NLTK's English stop words are removed except
the negations, because "not good" must not become "good". The other two policies exist for
the baseline's comparison of what that choice is worth.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

import pandas as pd

from a2dl.cache import cached
from a2dl.data.stopwords import english_stopwords
from a2dl.text.cleaning import clean_review, stopwords_to_remove
from a2dl.text.splits import imdb_splits

STOPWORD_POLICIES = ("keep negations", "remove all", "keep all")
RECIPE = STOPWORD_POLICIES[0]


def removed_words(policy: str = RECIPE) -> frozenset[str]:
    """The words a policy removes."""
    if policy not in STOPWORD_POLICIES:
        raise ValueError(f"unknown stop-word policy {policy!r}: use one of {STOPWORD_POLICIES}")
    if policy == "keep all":
        return frozenset()
    return stopwords_to_remove(english_stopwords(), keep_negations=policy == "keep negations")


def clean_texts(texts: Iterable[str], policy: str = RECIPE) -> list[list[str]]:
    """Reviews cleaned and tokenised as the models read them."""
    removed = removed_words(policy)
    return [clean_review(text, removed) for text in texts]


@cache
def cleaned_splits(policy: str = RECIPE) -> pd.DataFrame:
    """The split reviews with a ``tokens`` column; kept between renders by
    :mod:`a2dl.cache`, since cleaning 50,000 reviews takes half a minute."""

    def clean() -> pd.DataFrame:
        frame = imdb_splits()
        return frame.assign(tokens=clean_texts(frame["text"], policy))

    return cached("imdb-cleaned", clean, removed=sorted(removed_words(policy)))
