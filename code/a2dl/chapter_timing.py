"""``bench report``: where the report's render time goes. Each chapter is executed in a fresh
kernel, as Quarto does, and the time of every cell is read from the kernel's own timestamps;
the render budget is spent in a few cells, and this names them."""

from __future__ import annotations

import time
from datetime import datetime

import nbformat

from a2dl.notebook import book_chapters, execute_chapter

SLOWEST_SHOWN = 10


def cell_seconds(cell: nbformat.NotebookNode) -> float:
    """Seconds from the kernel starting the cell to its reply (nbclient records both)."""
    execution = cell.metadata.get("execution", {})
    started, replied = execution.get("iopub.execute_input"), execution.get("shell.execute_reply")
    if not (started and replied):
        return 0.0
    return (datetime.fromisoformat(replied) - datetime.fromisoformat(started)).total_seconds()


def cell_name(cell: nbformat.NotebookNode) -> str:
    """The cell's ``#| label:``, else its first line: how a reader finds it in the chapter."""
    lines = cell.source.splitlines() or [""]
    for line in lines:
        if line.startswith("#| label:"):
            return line.removeprefix("#| label:").strip()
    return lines[0][:50]


def benchmark() -> None:
    rows: list[tuple[float, str, str]] = []
    total = 0.0
    for chapter in book_chapters():
        started = time.perf_counter()
        notebook = execute_chapter(chapter)
        seconds = time.perf_counter() - started
        total += seconds
        print(f"{chapter.name:40s} {seconds:6.1f} s (kernel start and cells)")
        rows += [
            (cell_seconds(cell), chapter.name, cell_name(cell))
            for cell in notebook.cells
            if cell.cell_type == "code"
        ]
    print(f"{'all chapters':40s} {total:6.1f} s; the slowest cells:")
    for seconds, chapter, name in sorted(rows, reverse=True)[:SLOWEST_SHOWN]:
        print(f"  {seconds:6.1f} s  {chapter}: {name}")
