"""Every bad input a user can make: a clear error naming the file, from the API and the CLI.

Each test works on a small copy made here (the shared datasets are read-only)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nltk
import pytest
import torch

from a2dl import cli, paths
from a2dl.checkpoint import load_weights, save_history, save_weights
from a2dl.data import fetch, imdb, nab
from a2dl.data.stopwords import english_stopwords
from a2dl.data.verify import verify_data
from a2dl.errors import DataFileError, WeightsFileError
from a2dl.evaluation import EVALUATIONS, render
from a2dl.vision import experiment as vision_experiment
from a2dl.vision.convnets import ResNet, ResNetConfig
from a2dl.vision.data import cifar_splits


@pytest.fixture
def nab_copy(tmp_path: Path) -> Path:
    """A data folder holding a private copy of NAB."""
    shutil.copytree(nab.nab_root(), tmp_path / "nab")
    return tmp_path


@pytest.fixture
def weights_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """weights/ redirected to a temporary folder holding one small ResNet file."""
    folder = tmp_path / "weights"
    monkeypatch.setattr(paths, "weights_dir", lambda: folder)
    config = ResNetConfig(blocks_per_stage=1, widths=(4, 4, 4))
    save_weights(folder / "cifar10_resnet.pt", ResNet(config), config, architecture="resnet")
    return folder


def _cli(*arguments: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "a2dl", *arguments],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


def test_a_malformed_nab_line_is_named_with_file_and_line(nab_copy: Path):
    path = nab_copy / "nab" / "data" / "realKnownCause" / "nyc_taxi.csv"
    lines = path.read_text().splitlines()
    lines[9] = lines[9] + ",1,2,3"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataFileError, match=r"nyc_taxi\.csv, line 10 is not a NAB series"):
        nab.load_series("realKnownCause/nyc_taxi.csv", nab_copy)


def test_an_altered_nab_value_is_refused_by_name(nab_copy: Path):
    path = nab_copy / "nab" / "data" / "realKnownCause" / "nyc_taxi.csv"
    path.write_text(path.read_text().replace("10844", "10845", 1))
    with pytest.raises(DataFileError, match=r"nyc_taxi\.csv differs from NAB's file"):
        nab.load_series("realKnownCause/nyc_taxi.csv", nab_copy)
    assert "FAILED" in verify_data(nab_copy, progress=False)[0].line()


def _imdb_copy(tmp_path: Path) -> Path:
    """A data folder whose aclImdb holds links to the real reviews (cheap) and one real file
    per folder that the test may damage."""
    source = imdb.imdb_root()
    target = tmp_path / "imdb" / "aclImdb"
    for folder in imdb.LABELLED_FOLDERS:
        (target / folder).mkdir(parents=True)
        for file in (source / folder).iterdir():
            (target / folder / file.name).symlink_to(file)
    return tmp_path


def _replace(path: Path, payload: bytes) -> None:
    path.unlink()
    path.write_bytes(payload)


def test_a_review_that_is_not_utf8_is_named(tmp_path: Path):
    root = _imdb_copy(tmp_path)
    review = sorted((root / "imdb/aclImdb/train/pos").iterdir())[0]
    _replace(review, b"\xff\xfe not utf-8")
    with pytest.raises(DataFileError, match=rf"{review.name} is not UTF-8 text \(byte 0"):
        imdb.load_reviews(root)


def test_an_empty_review_is_refused(tmp_path: Path):
    root = _imdb_copy(tmp_path)
    review = sorted((root / "imdb/aclImdb/test/neg").iterdir())[0]
    _replace(review, b"  \n")
    with pytest.raises(DataFileError, match=rf"{review.name} is an empty review"):
        imdb.load_reviews(root)


def test_an_altered_or_extra_review_is_named(tmp_path: Path):
    root = _imdb_copy(tmp_path)
    review = sorted((root / "imdb/aclImdb/train/neg").iterdir())[0]
    _replace(review, review.read_bytes() + b" Edited.")
    with pytest.raises(DataFileError, match=rf"{review.name} differs from the review"):
        imdb.load_reviews(root)
    _replace(review, (imdb.imdb_root() / "train/neg" / review.name).read_bytes())
    (review.parent / "99999_1.txt").write_text("Not from IMDB.")
    with pytest.raises(DataFileError, match=r"train/neg/99999_1\.txt is not part of IMDB"):
        imdb.load_reviews(root)


def test_an_empty_data_folder_without_network_says_how_to_point_elsewhere(tmp_path: Path):
    result = _cli("evaluate", "vision-resnet", env={"A2_DATA_DIR": str(tmp_path)})
    # with no network here the download fails; the message names the folder and variable
    if result.returncode == 0:  # pragma: no cover - a machine with internet downloads it
        pytest.skip("CIFAR-10 was downloaded: this machine has internet")
    assert result.returncode == 2
    assert "A2_DATA_DIR" in result.stderr and str(tmp_path) in result.stderr
    assert "Traceback" not in result.stderr


def _one_line_status_2(result: subprocess.CompletedProcess) -> str:
    """The CLI's refusal of a bad input: status 2 and one line on stderr, never a traceback."""
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    return result.stderr


def test_a_data_folder_that_is_a_file_is_named_with_the_fix(tmp_path: Path):
    blocker = tmp_path / "datasets"
    blocker.write_text("a file where the data folder should be")
    printed = _one_line_status_2(
        _cli("evaluate", "vision-resnet", env={"A2_DATA_DIR": str(blocker)})
    )
    assert f"{blocker} is a file, not a folder" in printed and "Set A2_DATA_DIR" in printed


def test_an_unwritable_data_folder_is_refused_before_downloading(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "datasets"
    folder.mkdir(mode=0o555)
    if os.access(folder, os.W_OK):  # root writes anywhere: make the check see the mode bits
        access = os.access
        monkeypatch.setattr(
            os, "access", lambda path, mode, **kw: path != folder and access(path, mode, **kw)
        )
    monkeypatch.setenv("A2_DATA_DIR", str(folder))
    # past the process's cache of splits, so that the data folder is looked at
    monkeypatch.setattr(vision_experiment, "cifar_splits", cifar_splits.__wrapped__)
    downloads = []
    monkeypatch.setattr(fetch, "download", lambda *a, **kw: downloads.append(a))
    assert cli.main(["evaluate", "vision-resnet"]) == 2
    printed = capsys.readouterr().err
    assert printed.count("\n") == 1 and f"{folder} is not writable" in printed
    assert f"chmod u+w {folder}" in printed and downloads == []


def _nltk_data_with(tmp_path: Path, damage) -> Path:
    """A private copy of NLTK's stop words whose English list ``damage`` spoils."""
    english_stopwords()  # NLTK's data path now holds the project's copy too
    source = Path(nltk.data.find("corpora/stopwords"))
    folder = tmp_path / "nltk_data"
    shutil.copytree(source, folder / "corpora" / "stopwords")
    damage(folder / "corpora" / "stopwords" / "english")
    return folder


def _hard_link(file: Path) -> None:
    """What `cp -al` or a package manager that hard-links leaves: a second name for the file."""
    os.link(file, file.with_name("english-link"))


def _not_utf8(file: Path) -> None:
    file.write_bytes(b"the\n\xff\xfe\n")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (_hard_link, "the file is hard-linked, which NLTK 3.10 and later refuse"),
        (_not_utf8, "NLTK could not read its English stop-word list"),
    ],
    ids=["hard-linked", "not-utf8"],
)
def test_a_stop_word_list_that_nltk_cannot_read_is_named_with_the_fix(
    tmp_path: Path, damage, message
):
    if damage is _hard_link and not hasattr(nltk, "pathsec"):
        pytest.skip("NLTK before 3.10 reads hard-linked files")
    folder = _nltk_data_with(tmp_path, damage)
    printed = _one_line_status_2(_cli("evaluate", "sentiment", env={"NLTK_DATA": str(folder)}))
    english = folder / "corpora" / "stopwords" / "english"
    assert message in printed and str(english) in printed and "NLTK_DATA" in printed


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda b: b[: len(b) // 2], "is not a readable weights file: it is truncated"),
        (lambda b: b"just some text\n", "is not a readable weights file"),
    ],
    ids=["truncated", "text"],
)
def test_unreadable_weights_name_the_file_and_the_way_out(weights_folder: Path, damage, message):
    path = weights_folder / "cifar10_resnet.pt"
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(WeightsFileError, match=message) as caught:
        load_weights(path, ResNet, ResNetConfig)
    assert str(path) in str(caught.value)
    assert "git checkout -- weights/cifar10_resnet.pt" in str(caught.value)
    assert "python -m a2dl train vision-resnet" in str(caught.value)


def test_a_changed_byte_in_a_tensor_is_refused(weights_folder: Path):
    """Refused, not loaded: PyTorch stores tensors uncompressed and does not check them, so
    without the stored SHA-256 the altered value would load silently."""
    path = weights_folder / "cifar10_resnet.pt"
    payload = torch.load(path, weights_only=True)
    marker = payload["state_dict"]["head.weight"].reshape(-1)[:4].numpy().tobytes()
    raw = bytearray(path.read_bytes())
    at = raw.find(marker)
    assert at > 0
    raw[at] ^= 0x01
    path.write_bytes(bytes(raw))
    with pytest.raises(WeightsFileError, match="has been altered since it was written"):
        load_weights(path, ResNet, ResNetConfig)


def test_the_cli_prints_one_line_and_status_2_for_bad_weights(weights_folder: Path, capsys):
    path = weights_folder / "cifar10_resnet.pt"
    path.write_bytes(b"not weights")
    assert cli.main(["evaluate", "vision-resnet"]) == 2
    printed = capsys.readouterr().err
    assert printed.startswith(f"error: {path} is not a readable weights file")
    assert printed.count("\n") == 1


def test_cli_bad_input_has_no_traceback(tmp_path: Path):
    data = tmp_path / "data"
    shutil.copytree(nab.nab_root(), data / "nab")
    labels = data / "nab" / "labels" / "combined_windows.json"
    labels.write_text(labels.read_text().replace("[", "[ ", 1))
    result = _cli("verify-data", env={"A2_DATA_DIR": str(data)})
    assert result.returncode == 1
    assert "NAB       FAILED" in result.stdout and "combined_windows.json" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_training_refuses_an_unwritable_weights_folder_before_it_starts(
    tmp_path, monkeypatch, capsys
):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where weights/ should be")  # unwritable even for root
    monkeypatch.setattr(paths, "weights_dir", lambda: blocker / "weights")
    started = []
    monkeypatch.setitem(cli.EXPERIMENTS, "vision-resnet", ("builtins:print", "stub"))
    monkeypatch.setattr(cli, "_resolve", lambda target: started.append)
    assert cli.main(["train", "vision-resnet", "--device", "cpu"]) == 2
    assert "Cannot write to" in capsys.readouterr().err
    assert started == []  # refused before any training began


def test_an_interrupted_training_keeps_the_old_weights_and_history(weights_folder, monkeypatch):
    path = weights_folder / "cifar10_resnet.pt"
    history = weights_folder / "cifar10_resnet.history.json"
    save_history(history, [{"epoch": 1}])
    before = path.read_bytes(), history.read_bytes()

    def interrupted_save(payload, target):  # Ctrl-C half-way through writing the file
        Path(target).write_bytes(b"half a file")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", interrupted_save)
    config = ResNetConfig(blocks_per_stage=1, widths=(4, 4, 4))
    with pytest.raises(KeyboardInterrupt):
        save_weights(path, ResNet(config), config)
    assert (path.read_bytes(), history.read_bytes()) == before
    assert [p.name for p in weights_folder.iterdir() if p.name.startswith(".")] == []


def test_evaluate_twice_prints_identical_json(weights_folder: Path, capsys):
    """A tiny ResNet in place of the trained one: the same code path in seconds."""
    printed = []
    for _ in range(2):
        assert cli.main(["evaluate", "vision-resnet", "--json"]) == 0
        printed.append(capsys.readouterr().out)
    assert printed[0] == printed[1]
    assert json.loads(printed[0])["split"] == "test"
    metrics = json.loads(printed[0])["metrics"]
    assert {"loss", "accuracy", "balanced_accuracy", "macro_f1"} <= set(metrics)
    assert 0 <= metrics["accuracy"] <= 1


@pytest.mark.parametrize("experiment", list(EVALUATIONS))
def test_evaluate_json_names_the_split_its_metrics_are_from(experiment: str):
    printed = json.loads(render(experiment, {"accuracy": 0.5}, as_json=True))
    expected = "all files" if experiment == "nab" else "test"
    assert printed == {"experiment": experiment, "split": expected, "metrics": {"accuracy": 0.5}}
