"""The on-disk cache of chapter evaluations (a2dl.cache): a value is reused only under the
same inputs, code and data folder, and a damaged entry is recomputed."""

from __future__ import annotations

import pytest

from a2dl import cache, paths


@pytest.fixture
def cache_on(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.CACHE_VARIABLE, "1")
    monkeypatch.setattr(cache, "cache_dir", lambda: tmp_path / "cache")
    monkeypatch.setattr(paths, "data_dir", lambda: tmp_path / "data")
    return tmp_path / "cache"


def counting(value):
    calls = []

    def compute():
        calls.append(1)
        return value

    return compute, calls


def test_same_inputs_are_computed_once(cache_on):
    compute, calls = counting({"accuracy": 0.9})
    assert cache.cached("result", compute, weights="abc") == {"accuracy": 0.9}
    assert cache.cached("result", compute, weights="abc") == {"accuracy": 0.9}
    assert len(calls) == 1


def test_other_inputs_code_or_data_recompute(cache_on, tmp_path, monkeypatch):
    compute, calls = counting(1)
    cache.cached("result", compute, weights="abc")
    cache.cached("result", compute, weights="retrained")
    assert len(calls) == 2
    monkeypatch.setattr(cache, "source_digest", lambda: "edited code")
    cache.cached("result", compute, weights="abc")
    assert len(calls) == 3
    monkeypatch.setattr(paths, "data_dir", lambda: tmp_path / "other data")
    cache.cached("result", compute, weights="abc")
    assert len(calls) == 4


def test_a_truncated_entry_is_recomputed_and_replaced(cache_on):
    compute, calls = counting([1, 2, 3])
    cache.cached("result", compute, weights="abc")
    (stored,) = cache_on.glob("result-*.pkl")
    stored.write_bytes(stored.read_bytes()[:5])
    assert cache.cached("result", compute, weights="abc") == [1, 2, 3]
    assert cache.cached("result", compute, weights="abc") == [1, 2, 3]
    assert len(calls) == 2


def test_switched_off_it_neither_reads_nor_writes(cache_on, monkeypatch):
    monkeypatch.setenv(cache.CACHE_VARIABLE, "0")
    compute, calls = counting(7)
    cache.cached("result", compute, weights="abc")
    cache.cached("result", compute, weights="abc")
    assert len(calls) == 2
    assert not cache_on.exists()


def test_source_digest_is_a_stable_sha256():
    digest = cache.source_digest()
    assert len(digest) == 64
    assert digest == cache.source_digest()


def test_file_digest_changes_with_the_bytes(tmp_path):
    weights = tmp_path / "w.pt"
    weights.write_bytes(b"one")
    first = cache.file_digest(weights)
    weights.write_bytes(b"two")
    assert cache.file_digest(weights) != first
