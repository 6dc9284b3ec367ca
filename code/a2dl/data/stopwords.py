"""NLTK's English stop-word list, found in NLTK's data path or fetched into the data folder."""

from __future__ import annotations

from pathlib import Path

from a2dl import paths
from a2dl.data.fetch import DatasetError, check_data_folder

WORD_LIST = "corpora/stopwords/english"  # inside any folder of NLTK's data path


def english_stopwords(root: Path | None = None) -> frozenset[str]:
    """NLTK's English stop words.

    Looked up in NLTK's own search path (which honours ``NLTK_DATA``) and in
    ``<data folder>/nltk_data``; downloaded there with NLTK's downloader if found in neither.
    """
    import nltk

    local = (root or paths.data_dir()) / "nltk_data"
    if str(local) not in nltk.data.path:
        nltk.data.path.append(str(local))
    try:
        return _read_word_list()
    except LookupError:
        pass
    check_data_folder(local.parent, "NLTK's stop words (nltk_data/corpora/stopwords)")
    if not nltk.download("stopwords", download_dir=str(local), quiet=True):
        raise DatasetError(
            f"NLTK's 'stopwords' corpus is not in NLTK's data path nor in {local}, and "
            "downloading it failed. Connect to the internet, or set NLTK_DATA to a folder "
            "holding corpora/stopwords."
        )
    return _read_word_list()


def _read_word_list() -> frozenset[str]:
    """The list as NLTK's corpus reader reads it, so that NLTK's own checks on its data files
    apply; a file it refuses (NLTK 3.10 refuses hard-linked files) or cannot read becomes a
    :class:`DatasetError` naming the file and the fix, instead of a traceback. A missing
    corpus stays a ``LookupError``: the caller downloads it."""
    from nltk.corpus import stopwords

    try:
        return frozenset(stopwords.words("english"))
    except (OSError, UnicodeDecodeError) as error:
        raise DatasetError(_unreadable_message(error)) from error


def _unreadable_message(error: Exception) -> str:
    file = _located_word_list()
    also = "or set NLTK_DATA to another folder holding corpora/stopwords/english."
    if isinstance(error, PermissionError) and _hard_linked(file):
        return (
            f"NLTK refuses to read its English stop-word list {file}: the file is hard-linked, "
            "which NLTK 3.10 and later refuse as unsafe. Copy the nltk_data folder without "
            f"hard links (`cp -r`, not `cp -al`) and point NLTK_DATA at the copy, {also}"
        )
    reason = " ".join(str(error).split())  # one line, whatever NLTK's message holds
    return (
        f"NLTK could not read its English stop-word list {file}: {reason}. Restore it "
        f"(`python -m nltk.downloader -d <nltk_data folder> stopwords`), {also}"
    )


def _hard_linked(file: str) -> bool:
    try:
        return Path(file).stat().st_nlink > 1
    except OSError:
        return False


def _located_word_list() -> str:
    """Where NLTK finds the list, for the message; NLTK's name for it if NLTK cannot say."""
    import nltk

    try:
        return str(nltk.data.find(WORD_LIST))
    except (LookupError, OSError):
        return WORD_LIST
