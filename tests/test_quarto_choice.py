"""Which Quarto `make report` uses: fake `quarto` executables that print a version."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from a2dl import quarto_choice
from a2dl.quarto_choice import QuartoChoiceError, choose


def fake_quarto(folder: Path, version: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    executable = folder / "quarto"
    executable.write_text(f"#!/bin/sh\necho {version}\n")
    executable.chmod(0o755)
    return executable


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    return tmp_path / "venv"  # holds no quarto unless a test puts one there


def test_a_new_enough_quarto_on_the_path_is_chosen(tmp_path, venv, monkeypatch):
    executable = fake_quarto(tmp_path / "bin", "1.10.18")
    monkeypatch.setenv("PATH", str(executable.parent))
    assert choose(None, venv, (1, 9), install=False) == (str(executable), (1, 10, 18), "the PATH")


def test_an_old_quarto_on_the_path_is_refused_with_its_version(tmp_path, venv, monkeypatch):
    monkeypatch.setenv("PATH", str(fake_quarto(tmp_path / "bin", "1.4.550").parent))
    with pytest.raises(QuartoChoiceError, match=r"is Quarto 1\.4\.550, older than 1\.9"):
        choose(None, venv, (1, 9), install=False)


def test_quarto_variable_wins_over_the_path(tmp_path, venv, monkeypatch):
    monkeypatch.setenv("PATH", str(fake_quarto(tmp_path / "bin", "1.10.18").parent))
    explicit = fake_quarto(tmp_path / "mine", "1.9.1")
    assert choose(str(explicit), venv, (1, 9), install=False)[:2] == (str(explicit), (1, 9, 1))
    old = fake_quarto(tmp_path / "old", "1.3.0")
    with pytest.raises(QuartoChoiceError, match=r"QUARTO=.* is Quarto 1\.3\.0; .* 1\.9 or newer"):
        choose(str(old), venv, (1, 9), install=False)


def test_the_venv_quarto_is_the_last_resort(tmp_path, venv, monkeypatch):
    monkeypatch.setenv("PATH", str(fake_quarto(tmp_path / "bin", "1.2.0").parent))
    inside = fake_quarto(venv / "bin", "1.9.5")
    executable, _, source = choose(None, venv, (1, 9), install=False)
    assert executable == str(inside) and "pip's quarto-cli" in source and "1.2.0" in source


def test_a_failed_pip_install_names_the_download_and_both_ways_out(tmp_path, monkeypatch):
    venv = tmp_path / "venv"
    python = venv / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("#!/bin/sh\necho 'ValueError: nothing to open' >&2\nexit 1\n")
    python.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(QuartoChoiceError) as caught:
        choose(None, venv, (1, 9))
    message = str(caught.value)
    assert "downloads the Quarto binary" in message and "nothing to open" in message
    assert "install Quarto" in message and "QUARTO=/path/to/bin/quarto" in message


def test_the_command_prints_the_choice_in_one_line(tmp_path):
    executable = fake_quarto(tmp_path / "bin", "1.10.18")
    result = subprocess.run(
        [sys.executable, "-m", "a2dl.quarto_choice", "--venv", str(tmp_path / "v"), "--no-install"],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": f"{executable.parent}:/usr/bin:/bin", "QUARTO": ""},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(executable)
    assert result.stderr.strip() == f"Quarto 1.10.18 from the PATH: {executable}"


def test_the_required_version_is_read_from_the_book():
    assert quarto_choice.required_version() >= (1, 9)


def test_make_preview_uses_the_venv_and_the_quarto_that_report_uses():
    makefile = (quarto_choice.ROOT / "Makefile").read_text()
    report = makefile.split("\nreport:")[1].split("\n\n")[0]
    preview = makefile.split("\npreview:")[1].split("\n\n")[0]
    for recipe in (report, preview):
        assert "$(CHOOSE_QUARTO)" in recipe and 'QUARTO_PYTHON="$(CURDIR)/$(PY)"' in recipe
