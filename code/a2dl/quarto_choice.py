"""Which Quarto renders the report: ``QUARTO=…`` if given, else a ``quarto`` on the PATH that is
new enough for ``quarto-required`` in ``_quarto.yml``, else pip's ``quarto-cli`` in the venv.

``make report`` and ``make preview`` run ``python -m a2dl.quarto_choice``: it prints the chosen
executable on stdout and one line on stderr saying which Quarto it is and why; a Quarto that
is too old, or a pip install that cannot fetch Quarto, stops here with what to do, before any
chapter executes. Standard library only: it must run before the package's dependencies.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PIP_SPEC = "quarto-cli>=1.9"


class QuartoChoiceError(RuntimeError):
    """No usable Quarto; the message says what to do."""


def required_version(config: Path = ROOT / "_quarto.yml") -> tuple[int, ...]:
    """The minimum version in ``quarto-required: ">=X.Y"``."""
    match = re.search(r'^quarto-required:\s*["\']?>=\s*([\d.]+)', config.read_text(), re.M)
    if not match:
        raise QuartoChoiceError(f'{config} has no quarto-required: ">=X.Y" line.')
    return parse_version(match.group(1))


def parse_version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def shown(version: tuple[int, ...]) -> str:
    return ".".join(map(str, version))


def version_of(executable: str) -> tuple[int, ...]:
    try:
        printed = subprocess.run(
            [executable, "--version"], capture_output=True, text=True, timeout=60, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError) as error:
        raise QuartoChoiceError(f"{executable} --version failed: {error}") from error
    version = parse_version(printed)
    if not version:
        raise QuartoChoiceError(f"{executable} --version printed no version: {printed!r}")
    return version


def install_into_venv(venv: Path) -> Path:
    """pip's quarto-cli in ``venv``; its build downloads Quarto, which can fail offline."""
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", PIP_SPEC],
        capture_output=True,
        text=True,
    )
    executable = venv / "bin" / "quarto"
    if result.returncode != 0 or not executable.is_file():
        raise QuartoChoiceError(
            "No Quarto found, and pip could not install quarto-cli into "
            f"{venv}: that package downloads the Quarto binary from GitHub while it installs, "
            "and the download failed (pip said: "
            f"{(result.stderr.strip().splitlines() or ['nothing'])[-1][:200]}).\n"
            "Either install Quarto (https://quarto.org/docs/get-started/, or conda-forge, or "
            "the one bundled with RStudio or Positron) so that `quarto` is on the PATH, or "
            "point at one: make report QUARTO=/path/to/bin/quarto"
        )
    return executable


def choose(
    explicit: str | None, venv: Path, required: tuple[int, ...], *, install: bool = True
) -> tuple[str, tuple[int, ...], str]:
    """(executable, version, where it came from), or :class:`QuartoChoiceError`."""
    if explicit:
        version = version_of(explicit)
        if version < required:
            raise QuartoChoiceError(
                f"QUARTO={explicit} is Quarto {shown(version)}; this report needs "
                f"{shown(required)} or newer (quarto-required in _quarto.yml)."
            )
        return explicit, version, "QUARTO="
    venv_quarto = venv / "bin" / "quarto"
    on_path = shutil.which("quarto")
    too_old = None
    if on_path and Path(on_path).resolve() != venv_quarto.resolve():
        version = version_of(on_path)
        if version >= required:
            return on_path, version, "the PATH"
        too_old = f"{on_path} is Quarto {shown(version)}, older than {shown(required)}"
    if venv_quarto.is_file() or install:
        executable = str(venv_quarto if venv_quarto.is_file() else install_into_venv(venv))
        version = version_of(executable)
        if version < required:
            raise QuartoChoiceError(
                f"{executable} is Quarto {shown(version)}; this report needs {shown(required)}"
                f" or newer: `{venv}/bin/python -m pip install -U '{PIP_SPEC}'`."
            )
        note = f" ({too_old})" if too_old else ""
        return executable, version, f"pip's quarto-cli in {venv}{note}"
    raise QuartoChoiceError(
        (too_old + ". " if too_old else "No Quarto on the PATH. ")
        + f"Install Quarto {shown(required)} or newer, or point at one with QUARTO=."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, default=ROOT / ".venv")
    parser.add_argument("--no-install", action="store_true", help="never pip-install quarto-cli")
    args = parser.parse_args(argv)
    try:
        executable, version, source = choose(
            os.environ.get("QUARTO") or None,
            args.venv,
            required_version(),
            install=not args.no_install,
        )
    except QuartoChoiceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"Quarto {shown(version)} from {source}: {executable}", file=sys.stderr)
    print(executable)
    return 0


if __name__ == "__main__":
    sys.exit(main())
