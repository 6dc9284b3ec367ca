"""Every chapter of the book executes, cell by cell and inline expression by inline
expression, in a fresh Jupyter kernel from the project root, as Quarto runs it.

Chapters are discovered from ``_quarto.yml``, so a new chapter is covered without editing
this file. Data come from ``A2_DATA_DIR`` (CI points it at the shared datasets).
"""

import re

import pytest

from a2dl.notebook import INLINE_KEY, book_chapters, execute_chapter, inline_text

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
    escaped = [
        text
        for cell in notebook.cells
        if cell.metadata.get(INLINE_KEY)
        and re.search(r"\\(x[0-9a-f]{2}|u[0-9a-f]{4}|')", text := inline_text(cell))
    ]
    assert not escaped, f"{chapter.name}: inline values print Python escapes: {escaped[:3]}"
    # Quarto prints the expression itself, `{python} ...`, where its value is empty
    empty = [c.source for c in notebook.cells if c.metadata.get(INLINE_KEY) and not inline_text(c)]
    assert not empty, f"{chapter.name}: inline expressions with an empty value: {empty}"
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
