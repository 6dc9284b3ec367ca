"""The loaders on the real datasets of the data folder (CI: the shared copies)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from a2dl.data import cifar10, imdb, nab
from a2dl.data.fetch import DatasetError, sha256_of
from a2dl.data.stopwords import english_stopwords


def test_nab_manifest_matches_the_files_on_disk():
    root = nab.nab_root()
    for rel, expected in nab.manifest()["files"].items():
        assert sha256_of(root / rel) == expected["sha256"], rel


def test_nab_has_58_series_with_windows_and_three_profiles():
    names = nab.series_names()
    assert len(names) == 58
    windows = nab.load_windows()
    assert set(windows) == set(names)
    assert sum(len(w) for w in windows.values()) == 116
    series = nab.load_series("realKnownCause/nyc_taxi.csv")
    assert list(series.columns) == ["timestamp", "value"]
    assert series["timestamp"].is_monotonic_increasing
    profiles = nab.load_profiles()
    assert profiles["reward_low_FN_rate"]["fnWeight"] == 2.0


def test_imdb_has_50000_balanced_reviews():
    reviews = imdb.load_reviews()
    assert len(reviews) == 50_000
    assert reviews.groupby(["origin", "label"]).size().tolist() == [12_500] * 4
    assert reviews.loc[reviews.label == 1, "rating"].between(7, 10).all()
    assert reviews.loc[reviews.label == 0, "rating"].between(1, 4).all()


def test_cifar10_loads_60000_balanced_images():
    train_x, train_y, test_x, test_y, classes = cifar10.load_cifar10()
    assert train_x.shape == (50_000, 3, 32, 32) and train_x.dtype == np.uint8
    assert test_x.shape == (10_000, 3, 32, 32)
    assert np.bincount(train_y).tolist() == [5_000] * 10
    assert np.bincount(test_y).tolist() == [1_000] * 10
    assert classes[0] == "airplane" and len(classes) == 10


def _truncated(payload: bytes) -> bytes:
    return payload[:1000]


def _one_byte_altered(payload: bytes) -> bytes:
    middle = len(payload) // 2  # inside the pixel data: unpickling alone would not notice
    return payload[:middle] + bytes([payload[middle] ^ 0xFF]) + payload[middle + 1 :]


@pytest.mark.parametrize("damage", [_truncated, _one_byte_altered])
def test_damaged_cifar_batch_is_named_in_the_error(tmp_path, damage):
    source = cifar10.cifar10_root()
    copy = tmp_path / "cifar10" / "cifar-10-batches-py"
    copy.mkdir(parents=True)
    for name in cifar10.BATCH_MD5:
        (copy / name).symlink_to(source / name)
    (copy / "data_batch_3").unlink()
    (copy / "data_batch_3").write_bytes(damage((source / "data_batch_3").read_bytes()))
    with pytest.raises(DatasetError, match=r"data_batch_3 has MD5 .* expected 54ebc095"):
        cifar10.load_cifar10(tmp_path)
    shutil.rmtree(copy)


def test_english_stopwords_come_from_nltk():
    words = english_stopwords()
    assert {"the", "and", "not", "no"} <= words
    assert len(words) > 100
