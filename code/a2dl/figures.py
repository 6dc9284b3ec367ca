"""``make figures``: every figure of the report as a vector file in ``figures/``.

Each chapter is executed as Quarto executes it (:mod:`a2dl.notebook`), with matplotlib's inline
output switched to SVG after the chapter's setup cell; the output of every cell labelled
``fig-…`` is written to ``figures/<label>.svg`` (Graphviz graphs are SVG already). Nothing is
trained: like the render, this loads the shipped weights.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell

from a2dl import paths
from a2dl.notebook import book_chapters, cell_options, chapter_notebook, execute_notebook

SVG = "image/svg+xml"
VECTOR_OUTPUT = "%config InlineBackend.figure_formats = ['svg']"


def labelled_svgs(notebook: nbformat.NotebookNode) -> dict[str, str]:
    """label → SVG text of every executed ``fig-`` cell that displayed one."""
    found = {}
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        label = str(cell_options(cell.source).get("label", ""))
        if not label.startswith("fig-"):
            continue
        for output in cell.get("outputs", []):
            if SVG in output.get("data", {}):
                found[label] = output["data"][SVG]
                break
    return found


def export_figures(out: Path | None = None, *, progress: bool = True) -> list[Path]:
    out = out or paths.figures_dir()
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for chapter in book_chapters():
        notebook = chapter_notebook(chapter)
        code = [i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"]
        if not code:
            continue
        notebook.cells.insert(code[0] + 1, new_code_cell(VECTOR_OUTPUT))
        executed = execute_notebook(notebook, name=chapter.name)
        for label, svg in labelled_svgs(executed).items():
            target = out / f"{label}.svg"
            target.write_text(svg, encoding="utf-8")
            written.append(target)
        if progress:
            print(f"{chapter.name}: {len(labelled_svgs(executed))} figures")
    return written
