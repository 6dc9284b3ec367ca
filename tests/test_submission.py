"""The submission archive from small fixtures: exact listing, executed notebooks, no data,
and each check failing with its message and no partial archive."""

from __future__ import annotations

import io
import os
import time
import zipfile
from pathlib import Path

import nbformat
import pytest

from a2dl.submission import BonusFiles, PartFiles, SubmissionError, build_archive

CHAPTER = (
    "# Part\n\n```{python}\nvalue = 6 * 7\nprint(value)\n```\n\nThe answer is `{python} value`.\n"
)


AUTHORS = """book:
  author:
    - name: "Ada Lovelace"
      email: adalovel@buffalo.edu
    - name: "Alan Turing"
      email: aturing@buffalo.edu
"""
PLACEHOLDERS = """book:
  author:
    - name: "Student One"
      email: ubit1@buffalo.edu
    - name: "Student Two"
      email: ubit2@buffalo.edu
"""


def _project(tmp_path: Path, chapter: str = CHAPTER) -> tuple[Path, list[PartFiles]]:
    root = tmp_path / "project"
    (root / "chapters").mkdir(parents=True)
    (root / "weights").mkdir()
    (root / "_quarto.yml").write_text(AUTHORS)
    parts = []
    for number in (2, 4):
        (root / "chapters" / f"0{number}.qmd").write_text(chapter)
        (root / "weights" / f"part{number}.pt").write_bytes(b"weights")
        parts.append(
            PartFiles(number, Path(f"chapters/0{number}.qmd"), Path(f"weights/part{number}.pt"))
        )
    (root / "_book").mkdir()
    pdf = root / "_book" / "assignment2-report.pdf"
    pdf.write_bytes(b"%PDF-1.7 report")
    later = time.time() + 5
    os.utime(pdf, (later, later))
    return root, parts


def _archives(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".zip" in p.name)


def test_submission_archive_has_exactly_the_course_files(tmp_path):
    root, parts = _project(tmp_path)
    target = build_archive(
        "submission", "abc_xyz9", root=root, out_dir=tmp_path / "out", parts=parts
    )
    assert target.name == "abc_xyz9_assignment2.zip"
    with zipfile.ZipFile(target) as archive:
        assert sorted(archive.namelist()) == [
            "abc_xyz9_assignment2_part_2.ipynb",
            "abc_xyz9_assignment2_part_2.pt",
            "abc_xyz9_assignment2_part_4.ipynb",
            "abc_xyz9_assignment2_part_4.pt",
            "abc_xyz9_assignment2_report.pdf",
            "dataset_assignment2_part4.txt",
        ]
        notebook = nbformat.reads(archive.read("abc_xyz9_assignment2_part_2.ipynb"), as_version=4)
        assert "ai.stanford.edu" in archive.read("dataset_assignment2_part4.txt").decode()
        assert not [
            n for n in archive.namelist() if n.endswith((".csv", ".txt")) and "dataset" not in n
        ]
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert any("42" in o.get("text", "") for o in outputs), "the notebook carries its outputs"
    assert "The answer is 42." in notebook.cells[-1].source


def test_checkpoint_archive_holds_parts_one_to_three(tmp_path):
    root, parts = _project(tmp_path)
    target = build_archive("checkpoint", "abc", root=root, out_dir=tmp_path, parts=parts[:1])
    with zipfile.ZipFile(target) as archive:
        assert sorted(archive.namelist()) == [
            "abc_assignment2_part_2.ipynb",
            "abc_assignment2_part_2.pt",
            "abc_assignment2_report.pdf",
        ]
    assert target.name == "abc_assignment2_checkpoint.zip"


@pytest.mark.parametrize("names", ["", "ABC", "a_b_c", "abc-def", "abc_"])
def test_bad_names_are_refused(tmp_path, names):
    root, parts = _project(tmp_path)
    with pytest.raises(SubmissionError, match="lowercase letters and digits"):
        build_archive("submission", names, root=root, out_dir=tmp_path, parts=parts)
    assert _archives(tmp_path) == []


def test_missing_or_stale_pdf_is_refused(tmp_path):
    root, parts = _project(tmp_path)
    chapter = root / "chapters" / "02.qmd"
    later = time.time() + 60
    os.utime(chapter, (later, later))
    with pytest.raises(
        SubmissionError, match=r"older than chapters/02.qmd: render the report again"
    ):
        build_archive("submission", "abc", root=root, out_dir=tmp_path, parts=parts)
    (root / "_book" / "assignment2-report.pdf").unlink()
    with pytest.raises(SubmissionError, match="does not exist: render the report first"):
        build_archive("submission", "abc", root=root, out_dir=tmp_path, parts=parts)
    assert _archives(tmp_path) == []


def test_missing_weights_are_refused(tmp_path):
    root, parts = _project(tmp_path)
    (root / "weights" / "part4.pt").unlink()
    with pytest.raises(SubmissionError, match=r"Part 4 needs weights/part4.pt.*train it"):
        build_archive("submission", "abc", root=root, out_dir=tmp_path, parts=parts)
    assert _archives(tmp_path) == []


def test_a_raising_cell_stops_the_build_without_a_partial_archive(tmp_path):
    root, parts = _project(tmp_path, chapter="```{python}\nraise RuntimeError('boom')\n```\n")
    with pytest.raises(SubmissionError, match=r"(?s)A cell of 02.qmd raised.*boom"):
        build_archive("submission", "abc", root=root, out_dir=tmp_path, parts=parts)
    assert _archives(tmp_path) == []


def _bonus(root: Path) -> BonusFiles:
    (root / "chapters" / "05.qmd").write_text(CHAPTER)
    (root / "weights" / "cifar10_vit.pt").write_bytes(b"vit weights")
    (root / "code" / "pkg").mkdir(parents=True)
    (root / "code" / "pkg" / "model.py").write_text("WIDTH = 128\n")
    (root / "code" / "pkg" / "notes.md").write_text("not code")
    (root / "pyproject.toml").write_text("[project]\nname = 'pkg'\n")
    return BonusFiles(
        Path("chapters/05.qmd"),
        (Path("weights/cifar10_vit.pt"),),
        code=(Path("pyproject.toml"), Path("code/pkg")),
    )


def test_the_bonus_is_its_own_zip_inside_the_submission(tmp_path):
    root, parts = _project(tmp_path)
    bonus = _bonus(root)
    target = build_archive(
        "submission", "abc", root=root, out_dir=tmp_path, parts=parts, bonus=bonus
    )
    with zipfile.ZipFile(target) as archive:
        assert "abc_assignment2_bonus.zip" in archive.namelist()
        inner = zipfile.ZipFile(io.BytesIO(archive.read("abc_assignment2_bonus.zip")))
    assert sorted(inner.namelist()) == [
        "abc_assignment2_bonus.ipynb",
        "code/pkg/model.py",
        "pyproject.toml",
        "weights/cifar10_vit.pt",
    ]
    notebook = nbformat.reads(inner.read("abc_assignment2_bonus.ipynb"), as_version=4)
    assert "The answer is 42." in notebook.cells[-1].source


def test_missing_bonus_weights_are_refused_without_a_partial_archive(tmp_path):
    root, parts = _project(tmp_path)
    bonus = _bonus(root)
    (root / "weights" / "cifar10_vit.pt").unlink()
    with pytest.raises(SubmissionError, match=r"bonus needs weights/cifar10_vit.pt.*train"):
        build_archive("submission", "abc", root=root, out_dir=tmp_path, parts=parts, bonus=bonus)
    assert _archives(tmp_path) == []


@pytest.mark.parametrize("kind", ["submission", "checkpoint"])
@pytest.mark.parametrize(
    "authors",
    [
        PLACEHOLDERS,
        PLACEHOLDERS.replace("Student One", "Ada Lovelace"),  # one placeholder left
        AUTHORS.replace("aturing@", "ubit2@"),  # a placeholder e-mail under a real name
        "book: {}\n",  # no authors at all
    ],
)
def test_placeholder_authors_are_refused_with_where_to_set_them(tmp_path, kind, authors):
    root, parts = _project(tmp_path)
    (root / "_quarto.yml").write_text(authors)
    with pytest.raises(SubmissionError) as refused:
        build_archive(kind, "abc", root=root, out_dir=tmp_path, parts=parts[:1])
    message = str(refused.value)
    assert "\n" not in message and "placeholder authors" in message
    assert "book: author: in _quarto.yml" in message
    assert _archives(tmp_path) == []


def test_the_command_refuses_placeholder_authors_in_one_line(tmp_path, monkeypatch, capsys):
    from a2dl import cli, paths

    root, _ = _project(tmp_path)
    (root / "_quarto.yml").write_text(PLACEHOLDERS)
    monkeypatch.setattr(paths, "repo_root", lambda: root)
    assert cli.main(["checkpoint"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "set your names" in error and "_quarto.yml" in error
