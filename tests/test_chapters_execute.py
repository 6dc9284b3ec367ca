"""Every chapter of the book executes, cell by cell and inline expression by inline
expression, in a fresh Jupyter kernel from the project root, as Quarto runs it.

Chapters are discovered from ``_quarto.yml``, so a new chapter is covered without editing
this file. Data come from ``A2_DATA_DIR`` (CI points it at the shared datasets).
"""

import pytest

from a2dl.notebook import book_chapters, execute_chapter

CHAPTERS = book_chapters()


def test_the_book_lists_chapters():
    assert len(CHAPTERS) >= 7, "expected the preface, five parts and the appendices"
    missing = [str(c) for c in CHAPTERS if not c.is_file()]
    assert not missing, f"_quarto.yml lists chapters that do not exist: {missing}"


@pytest.mark.slow
@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.name for c in CHAPTERS])
def test_chapter_executes(chapter):
    notebook = execute_chapter(chapter, timeout=900)
    errors = [
        output
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert not errors
    for cell in notebook.cells:
        label = next(
            (
                line.split(":", 1)[1].strip()
                for line in cell.source.splitlines()
                if line.startswith("#| label:")
            ),
            "",
        )
        if cell.cell_type == "code" and label.startswith("fig-"):
            images = [
                o for o in cell.outputs if {"image/png", "image/svg+xml"} & set(o.get("data", {}))
            ]
            assert len(images) == 1, f"{chapter.name}: {label} shows {len(images)} images, not 1"
