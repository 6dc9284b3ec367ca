"""Part III's reading of attention weights: the facts and sentences on small known maps."""

from __future__ import annotations

import numpy as np
import pandas as pd

from a2dl.text.attention_reading import AttentionReading


def reading(words: list[str], query_weights: np.ndarray) -> AttentionReading:
    n = len(words)
    return AttentionReading(
        review=pd.Series({"label": 1, "rating": 8}),
        words=words,
        p_positive=0.9,
        query_weights=query_weights,
        encoder_head=np.full((n, n), 1 / n),
    )


def test_near_even_weights_single_out_nothing():
    words = ["a", "fine", "film", "mpaa", "rated", "pg", "violence", "x", "y", "z"]
    weights = np.full((2, 10), 0.1)
    weights[:, 6] += 0.05  # "violence", inside the notice
    weights[:, 1] += 0.04  # "fine"
    weights[:, 0] += 0.03
    text = reading(words, weights)
    assert text.uniform == 0.1 and text.near_even
    assert text.top_words == ["violence", "fine", "a"]
    assert text.notice_words() == ["violence"]
    note = text.notice_note()
    assert note.startswith(
        "Of these, “violence” belongs to a rating notice of the Motion Picture Association of "
        "America (MPAA)"
    )
    assert note.endswith("do not single out words that decide the prediction.")
    assert text.spread_note().startswith("no query concentrates on a few words")
    assert text.encoder_peak == 0.1


def test_concentrated_weights_outside_a_notice():
    words = ["great", "acting", "and", "story", "<unk>", "end"]
    weights = np.array([[0.8, 0.1, 0.04, 0.03, 0.02, 0.01]])
    text = reading(words, weights)
    assert not text.near_even
    assert text.notice_words() == []
    assert text.notice_note() == "All three are words of the reviewer’s own text."
    assert text.spread_note() == "the largest weight is 4.8 times the even share"
