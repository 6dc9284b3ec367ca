"""Part III's reading of a trained Transformer: the attention weights of the Part IV model on one
test review, and what they do and do not show.

The chapter formats these facts; the sentences that depend on them (how far the weights are
from even, whether the most-read words belong to a quoted rating notice) are built and tested
here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from a2dl.report import spoken_list

SHORT_REVIEW = (25, 40)  # tokens after cleaning: short enough to label every cell of a map
CONCENTRATED = 3.0  # a weight this many times the even share counts as concentrated
NOTICE_WORDS = frozenset({"mpaa", "rated"})  # where a quoted rating notice starts
NOTICE_TOKENS = 15  # its reasons follow within a dozen or so tokens
UNKNOWN = "<unk>"  # stands for any rare word, so it is no evidence of the notice


@dataclass(frozen=True)
class AttentionReading:
    review: pd.Series  # the test review: text, label, rating
    words: list[str]  # its tokens as the model sees them
    p_positive: float
    query_weights: np.ndarray  # (queries, tokens): the last decoder layer, mean over heads
    encoder_head: np.ndarray  # (tokens, tokens): the first encoder layer's first head

    @property
    def uniform(self) -> float:
        """Every token's weight under attention spread evenly."""
        return 1 / len(self.words)

    @property
    def top_positions(self) -> list[int]:
        """The three tokens with the largest weight averaged over the queries."""
        return [int(i) for i in self.query_weights.mean(axis=0).argsort()[::-1][:3]]

    @property
    def top_words(self) -> list[str]:
        return [self.words[i] for i in self.top_positions]

    @property
    def encoder_peak(self) -> float:
        """A row's largest encoder weight, on average."""
        return float(self.encoder_head.max(axis=1).mean())

    @property
    def near_even(self) -> bool:
        """No query weight reaches :data:`CONCENTRATED` times the even share."""
        return float(self.query_weights.max()) < CONCENTRATED * self.uniform

    def spread_note(self) -> str:
        ratio = float(self.query_weights.max()) / self.uniform
        if self.near_even:
            return (
                f"no query concentrates on a few words (the largest weight is {ratio:.1f} "
                "times the even share)"
            )
        return f"the largest weight is {ratio:.1f} times the even share"

    def notice_words(self) -> list[str]:
        """The most-read words that belong to a quoted rating notice ("MPAA rating: PG-13 for
        thematic elements, language …"), which is not the reviewer's own opinion."""
        notice = next((i for i, w in enumerate(self.words) if w in NOTICE_WORDS), None)
        if notice is None:
            return []
        return [
            self.words[i]
            for i in self.top_positions
            if notice <= i <= notice + NOTICE_TOKENS and self.words[i] != UNKNOWN
        ]

    def notice_note(self) -> str:
        quoted = self.notice_words()
        if quoted:
            note = (
                f"Of these, {spoken_list(f'“{w}”' for w in quoted)} "
                f"{'belongs' if len(quoted) == 1 else 'belong'} to a rating notice of the "
                "Motion Picture Association of America (MPAA) quoted in the review (the reasons "
                "given for a film’s rating), not to the reviewer’s opinion."
            )
        else:
            note = "All three are words of the reviewer’s own text."
        if self.near_even:
            note += " Differences this small do not single out words that decide the prediction."
        return note


def read_attention() -> AttentionReading:
    """The trained Part IV model on the first short review of the test split."""
    from a2dl.data.stopwords import english_stopwords
    from a2dl.text import experiment as sentiment
    from a2dl.text.cleaning import clean_review, stopwords_to_remove
    from a2dl.text.model import attention_weights
    from a2dl.text.splits import imdb_splits

    classifier, vocab, _, _ = sentiment.load_sentiment_model()
    removed = stopwords_to_remove(english_stopwords())  # the cleaning Part IV trained with
    test = imdb_splits().query("split == 'test'")
    tokens = test["text"].map(lambda text: clean_review(text, removed))
    shortest, longest = SHORT_REVIEW
    review = test[tokens.map(len).between(shortest, longest)].iloc[0]
    ids = vocab.encode(clean_review(review["text"], removed), classifier.config.max_len)
    batch = torch.tensor([ids])
    maps = attention_weights(classifier, batch)
    return AttentionReading(
        review=review,
        words=vocab.decode(ids),
        p_positive=float(classifier.predict_proba(batch)[0, 1]),
        query_weights=maps["decoder"].mean(dim=0).numpy(),
        encoder_head=maps["encoder"][0].numpy(),
    )
