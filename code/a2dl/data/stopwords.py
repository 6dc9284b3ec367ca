"""NLTK's English stop-word list, found in NLTK's data path or fetched into the data folder."""

from __future__ import annotations

from pathlib import Path

from a2dl import paths
from a2dl.data.fetch import DatasetError


def english_stopwords(root: Path | None = None) -> frozenset[str]:
    """NLTK's English stop words.

    Looked up in NLTK's own search path (which honours ``NLTK_DATA``) and in
    ``<data folder>/nltk_data``; downloaded there with NLTK's downloader if found in neither.
    """
    import nltk
    from nltk.corpus import stopwords

    local = (root or paths.data_dir()) / "nltk_data"
    if str(local) not in nltk.data.path:
        nltk.data.path.append(str(local))
    try:
        return frozenset(stopwords.words("english"))
    except LookupError:
        pass
    if not nltk.download("stopwords", download_dir=str(local), quiet=True):
        raise DatasetError(
            f"NLTK's 'stopwords' corpus is not in NLTK's data path nor in {local}, and "
            "downloading it failed. Connect to the internet, or set NLTK_DATA to a folder "
            "holding corpora/stopwords."
        )
    return frozenset(stopwords.words("english"))
