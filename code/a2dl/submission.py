"""The course's upload, built from the rendered report: ``make submission NAMES=ubit1_ubit2``.

Everything is checked before anything is written, and the archive is written under a
temporary name and renamed when complete, so a failed build never leaves a partial archive.
Names follow the assignment's "ASSIGNMENT STEPS".
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from a2dl import artefacts, paths
from a2dl.data.imdb import DATASET_PAGE
from a2dl.notebook import ChapterExecutionError, execute_chapter, fill_inline_values

NAMES_PATTERN = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)?$")


class SubmissionError(RuntimeError):
    """Something the course asks for is missing or stale; the message names the fix."""


@dataclass(frozen=True)
class PartFiles:
    """Where a part's chapter and best weights live, relative to the project root."""

    number: int
    chapter: Path
    weights: Path


@dataclass(frozen=True)
class BonusFiles:
    """The bonus archive's sources: its chapter (shipped as an executed notebook), the weights
    and histories it reads, and the package code the notebook imports."""

    chapter: Path
    weights: tuple[Path, ...]
    code: tuple[Path, ...] = (Path("pyproject.toml"), Path("code/a2dl"))


def default_bonus(root: Path) -> BonusFiles:
    weights = tuple(Path("weights") / name for name in artefacts.vision_files())
    return BonusFiles(Path("chapters/05-bonus-vision.qmd"), weights)


def default_parts(root: Path) -> dict[str, list[PartFiles]]:
    """The course's parts: Part II's best autoencoder and Part IV's Transformer."""
    import json

    selection = root / "weights" / "nab_selection.json"
    best = json.loads(selection.read_text())["best"] if selection.is_file() else "missing"
    part2 = PartFiles(
        2,
        Path("chapters/02-anomaly-detection.qmd"),
        Path("weights") / artefacts.weights_name(f"nab_{best}"),
    )
    part4 = PartFiles(
        4,
        Path("chapters/04-sentiment-transformer.qmd"),
        Path("weights") / artefacts.weights_name("imdb_transformer"),
    )
    return {"submission": [part2, part4], "checkpoint": [part2]}


# The authors that _quarto.yml ships with, for the students to replace: the title page must
# never go out with them, nor an archive be named after them.
PLACEHOLDER_NAMES = frozenset({"Student One", "Student Two"})
PLACEHOLDER_UBIT = re.compile(r"^ubit\d*$")


def check_authors(root: Path) -> list[dict[str, str]]:
    """The book's authors from ``_quarto.yml``, refused while any is missing or still a
    placeholder (a name such as "Student One", an e-mail such as ubit1@buffalo.edu)."""
    import yaml

    config = yaml.safe_load((root / "_quarto.yml").read_text(encoding="utf-8")) or {}
    authors = (config.get("book") or {}).get("author") or []
    if isinstance(authors, dict | str):
        authors = [authors]
    placeholders = [
        author
        for author in authors
        if not isinstance(author, dict)
        or str(author.get("name", "")).strip() in PLACEHOLDER_NAMES
        or PLACEHOLDER_UBIT.match(str(author.get("email", "")).split("@")[0])
    ]
    if not authors or placeholders:
        raise SubmissionError(
            "_quarto.yml still names the placeholder authors (Student One, ubit1): set your "
            "names and UBIT e-mails under book: author: in _quarto.yml, then make report."
        )
    return authors


def check_names(names: str) -> str:
    if not NAMES_PATTERN.match(names or ""):
        raise SubmissionError(
            f"NAMES={names!r} is not valid: use your UBIT name, or two joined by an underscore, "
            "in lowercase letters and digits, e.g. make submission NAMES=avereshc_atharvap"
        )
    return names


def check_report(root: Path, parts: list[PartFiles], extra: tuple[Path, ...] = ()) -> Path:
    """The rendered PDF exists and is newer than every chapter, the book config and weights."""
    pdf = root / paths.REPORT_PDF
    if not pdf.is_file():
        raise SubmissionError(
            f"{paths.REPORT_PDF} does not exist: render the report first (make report)."
        )
    sources = [root / "_quarto.yml", *(root / "chapters").glob("*.qmd"), root / "index.qmd"]
    sources += [root / part.weights for part in parts] + [root / path for path in extra]
    stale = [s for s in sources if s.is_file() and s.stat().st_mtime > pdf.stat().st_mtime]
    if stale:
        names = ", ".join(str(s.relative_to(root)) for s in stale)
        raise SubmissionError(
            f"{paths.REPORT_PDF} is older than {names}: render the report again (make report)."
        )
    return pdf


def check_parts(root: Path, parts: list[PartFiles]) -> None:
    for part in parts:
        for needed in (part.chapter, part.weights):
            if not (root / needed).is_file():
                raise SubmissionError(
                    f"Part {part.number} needs {needed}, which does not exist: "
                    + (
                        "train it (python -m a2dl train --help)."
                        if needed.suffix == ".pt"
                        else "restore the chapter."
                    )
                )


def bonus_members(root: Path, names: str, bonus: BonusFiles) -> dict[str, bytes]:
    """The files of ``<names>_assignment2_bonus.zip``: the executed notebook, the weights it
    evaluates and the code it imports, so that the folder runs on its own."""
    missing = [p for p in (bonus.chapter, *bonus.weights) if not (root / p).is_file()]
    if missing:
        raise SubmissionError(
            f"The bonus needs {', '.join(map(str, missing))}, which do not exist: train the "
            "models (make weights, or python -m a2dl train vision; then bench vision)."
        )
    notebook = executed_notebook(root / bonus.chapter)
    members = {f"{names}_assignment2_bonus.ipynb": nbformat.writes(notebook).encode()}
    for path in bonus.weights:
        members[path.as_posix()] = (root / path).read_bytes()
    for source in bonus.code:
        files = [root / source] if (root / source).is_file() else (root / source).rglob("*")
        for file in sorted(files):
            if file.is_file() and file.suffix in (".py", ".json", ".toml"):
                members[file.relative_to(root).as_posix()] = file.read_bytes()
    return members


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, payload in members.items():
            archive.writestr(name, payload)
    return buffer.getvalue()


def executed_notebook(chapter: Path) -> nbformat.NotebookNode:
    """The chapter executed by the chapter test's executor, inline values written into prose."""
    try:
        return fill_inline_values(execute_chapter(chapter))
    except ChapterExecutionError as error:
        raise SubmissionError(
            f"A cell of {chapter.name} raised, so its notebook would be "
            f"incomplete; fix the chapter first.\n{error}"
        ) from error


def build_archive(
    kind: str,
    names: str,
    *,
    root: Path | None = None,
    out_dir: Path | None = None,
    parts: list[PartFiles] | None = None,
    bonus: BonusFiles | None = None,
) -> Path:
    """Check everything, then write ``<names>_assignment2[_checkpoint].zip`` atomically.

    ``parts`` and ``bonus`` default to the project's own (the bonus only in the final
    submission); passing ``parts`` alone builds an archive without a bonus.
    """
    root = root or paths.repo_root()
    check_authors(root)
    names = check_names(names)
    if parts is None:
        parts = default_parts(root)[kind]
        bonus = default_bonus(root) if kind == "submission" else None
    check_parts(root, parts)
    pdf = check_report(root, parts, extra=bonus.weights if bonus else ())
    members: dict[str, bytes] = {f"{names}_assignment2_report.pdf": pdf.read_bytes()}
    for part in parts:
        notebook = executed_notebook(root / part.chapter)
        members[f"{names}_assignment2_part_{part.number}.ipynb"] = nbformat.writes(
            notebook
        ).encode()
        members[f"{names}_assignment2_part_{part.number}.pt"] = (root / part.weights).read_bytes()
    if kind == "submission":
        members["dataset_assignment2_part4.txt"] = f"{DATASET_PAGE}\n".encode()
    if bonus is not None:
        members[f"{names}_assignment2_bonus.zip"] = zip_bytes(bonus_members(root, names, bonus))
    suffix = "_checkpoint" if kind == "checkpoint" else ""
    target = (out_dir or root) / f"{names}_assignment2{suffix}.zip"
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(handle)
    try:
        Path(temporary).write_bytes(zip_bytes(members))
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target
