"""Review cleaning as small named steps, each testable alone, composed by :func:`clean_review`.

Order matters: HTML goes first (``<br />`` would otherwise leave a stray "br" token), then
case and accents are folded so that punctuation removal sees plain ASCII, then tokens are
cut, and stop words are dropped last, when whole words exist. Negations are kept: "not good"
and "good" must not become the same review.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable

from nltk.tokenize import RegexpTokenizer

HTML_TAG = re.compile(r"<[^>]+>")
NOT_WORD_CHARACTER = re.compile(r"[^a-z0-9' ]+")
SPACES = re.compile(r"\s+")
# Words of letters/digits, keeping the negation clitic: "don't" stays one token, while
# "movie's" gives "movie" and "s" (a stop word).
TOKENIZER = RegexpTokenizer(r"[a-z0-9]+(?:'t)?")
ALWAYS_KEPT = frozenset({"no", "not", "nor"})


def strip_html(text: str) -> str:
    """Replace tags such as ``<br />`` by spaces and decode entities (``&amp;`` -> ``&``)."""
    return html.unescape(HTML_TAG.sub(" ", text))


def lowercase(text: str) -> str:
    return text.lower()


def fold_to_ascii(text: str) -> str:
    """Drop accents ("café" -> "cafe") and any character with no ASCII form."""
    decomposed = unicodedata.normalize("NFKD", text)
    return decomposed.encode("ascii", "ignore").decode("ascii")


def remove_punctuation(text: str) -> str:
    """Keep letters, digits, apostrophes and single spaces; everything else becomes a space."""
    return SPACES.sub(" ", NOT_WORD_CHARACTER.sub(" ", text.replace("`", "'"))).strip()


def tokenize(text: str) -> list[str]:
    """NLTK's ``RegexpTokenizer``: no model to download, and fast on 50,000 reviews."""
    return TOKENIZER.tokenize(text)


def negations(stopwords: Iterable[str]) -> frozenset[str]:
    """Stop words that carry negation: no, not, nor, the n't forms and their bare stems.

    NLTK lists "don't" and also "don" (what "don't" leaves when its apostrophe is removed).
    """
    words = frozenset(stopwords)
    contracted = {w for w in words if w.endswith("n't")}
    stems = {w for w in words if f"{w}'t" in contracted}
    return ALWAYS_KEPT | contracted | stems


def remove_stopwords(tokens: list[str], stopwords: frozenset[str]) -> list[str]:
    return [token for token in tokens if token not in stopwords]


def stopwords_to_remove(stopwords: Iterable[str], *, keep_negations: bool = True) -> frozenset[str]:
    words = frozenset(stopwords)
    return words - negations(words) if keep_negations else words


def normalise(text: str) -> str:
    """The character-level steps: HTML, case, accents, punctuation."""
    return remove_punctuation(fold_to_ascii(lowercase(strip_html(text))))


def clean_review(text: str, stopwords: frozenset[str] = frozenset()) -> list[str]:
    """Tokens of one review. An empty or all-punctuation review gives an empty list."""
    return remove_stopwords(tokenize(normalise(text)), stopwords)
