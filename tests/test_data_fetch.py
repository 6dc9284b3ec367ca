"""The download path, for real: a local HTTP server on 127.0.0.1 serves archives built from
small fixtures. Good archives unpack; bad ones fail loudly and leave nothing behind."""

from __future__ import annotations

import hashlib
import io
import socket
import tarfile
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from a2dl.data import imdb, nab
from a2dl.data.fetch import DatasetError, RemoteFile


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """(base URL, folder it serves)."""
    served = tmp_path / "served"
    served.mkdir()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(served)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", served
    httpd.shutdown()
    httpd.server_close()


def _imdb_fixture_archive() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, text in {
            "aclImdb/train/pos/0_9.txt": "A wonderful film.",
            "aclImdb/train/neg/0_1.txt": "Dull.<br /><br />Avoid.",
            "aclImdb/test/pos/0_10.txt": "Loved it",
            "aclImdb/test/neg/0_2.txt": "Hated it",
        }.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _remote(url: str, payload: bytes) -> RemoteFile:
    return RemoteFile(url=url, sha256=hashlib.sha256(payload).hexdigest(), size=len(payload))


def _leftovers(data_root: Path) -> list[Path]:
    return [p for p in data_root.rglob("*") if p.is_file() or p.name.startswith(".")]


def test_good_archive_is_downloaded_verified_and_unpacked(server, tmp_path):
    base, served = server
    payload = _imdb_fixture_archive()
    (served / "aclImdb_v1.tar.gz").write_bytes(payload)
    data_root = tmp_path / "data"

    root = imdb.imdb_root(data_root, source=_remote(f"{base}/aclImdb_v1.tar.gz", payload))

    assert root == data_root / "imdb" / "aclImdb"
    reviews = imdb.load_reviews(data_root, verify=False)  # a fixture, not IMDB's reviews
    assert sorted(reviews["file"]) == [
        "test/neg/0_2.txt",
        "test/pos/0_10.txt",
        "train/neg/0_1.txt",
        "train/pos/0_9.txt",
    ]
    assert reviews.set_index("file").loc["train/neg/0_1.txt", "rating"] == 1
    assert not list((data_root / "imdb").glob("*.tar.gz")), "the archive is removed after unpacking"
    assert not [p for p in (data_root / "imdb").iterdir() if p.name.startswith(".")]


def test_present_dataset_is_used_without_any_download(tmp_path):
    for folder in imdb.LABELLED_FOLDERS:
        (tmp_path / "imdb" / "aclImdb" / folder).mkdir(parents=True)
    unreachable = RemoteFile("http://127.0.0.1:9/never.tar.gz", "0" * 64, 1)
    assert imdb.imdb_root(tmp_path, source=unreachable).is_dir()


def test_truncated_archive_is_rejected_and_leaves_nothing(server, tmp_path):
    base, served = server
    payload = _imdb_fixture_archive()
    (served / "aclImdb_v1.tar.gz").write_bytes(payload[: len(payload) // 2])
    data_root = tmp_path / "data"

    with pytest.raises(DatasetError) as caught:
        imdb.imdb_root(data_root, source=_remote(f"{base}/aclImdb_v1.tar.gz", payload))

    message = str(caught.value)
    assert "aclImdb_v1.tar.gz" in message and f"expected {len(payload):,} bytes" in message
    assert "run the command again" in message
    assert not (data_root / "imdb" / "aclImdb").exists()
    assert _leftovers(data_root) == []


def test_checksum_mismatch_is_rejected_and_leaves_nothing(server, tmp_path):
    base, served = server
    payload = _imdb_fixture_archive()
    altered = bytes([payload[0] ^ 0xFF]) + payload[1:]
    (served / "aclImdb_v1.tar.gz").write_bytes(altered)
    data_root = tmp_path / "data"

    with pytest.raises(DatasetError) as caught:
        imdb.imdb_root(data_root, source=_remote(f"{base}/aclImdb_v1.tar.gz", payload))

    message = str(caught.value)
    assert hashlib.sha256(payload).hexdigest() in message
    assert hashlib.sha256(altered).hexdigest() in message
    assert _leftovers(data_root) == []


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_missing_dataset_without_network_names_the_folder_and_the_variable(tmp_path):
    url = f"http://127.0.0.1:{_closed_port()}/aclImdb_v1.tar.gz"
    with pytest.raises(DatasetError) as caught:
        imdb.imdb_root(tmp_path, source=RemoteFile(url, "0" * 64, 10))
    message = str(caught.value)
    assert str(tmp_path / "imdb" / "aclImdb") in message
    assert "A2_DATA_DIR" in message and "imdb/aclImdb" in message
    assert _leftovers(tmp_path) == []


def test_nab_files_are_fetched_one_by_one_and_each_is_checked(server, tmp_path, monkeypatch):
    base, served = server
    files = {
        "data/cat/a.csv": b"timestamp,value\n2020-01-01 00:00:00,1\n",
        "labels/combined_windows.json": b'{"cat/a.csv": []}',
    }
    for rel, content in files.items():
        (served / rel).parent.mkdir(parents=True, exist_ok=True)
        (served / rel).write_bytes(content)
    fake = {
        "repository": "x/y",
        "commit": "0" * 40,
        "files": {
            rel: {"sha256": hashlib.sha256(c).hexdigest(), "size": len(c)}
            for rel, c in files.items()
        },
    }
    monkeypatch.setattr(nab, "manifest", lambda: fake)

    root = nab.nab_root(tmp_path, base_url=base)
    assert (root / "data/cat/a.csv").read_bytes() == files["data/cat/a.csv"]
    assert nab.series_names() == ["cat/a.csv"]

    # One altered file among several: nothing of the dataset is kept.
    (served / "data/cat/a.csv").write_bytes(b"timestamp,value\n2020-01-01 00:00:00,2\n")
    other = tmp_path / "other"
    with pytest.raises(DatasetError, match="data/cat/a.csv"):
        nab.nab_root(other, base_url=base)
    assert _leftovers(other) == []
