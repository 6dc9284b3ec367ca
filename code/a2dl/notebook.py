"""Turn a chapter (.qmd) into a Jupyter notebook and execute it as Quarto would.

Quarto's Jupyter engine runs a chapter's ``{python}`` cells in order in one fresh kernel, with
every inline `` `{python} expr` `` expression evaluated at its place in the text, from the
project root (``execute-dir: project``). The chapter test and the submission's notebooks both
go through this module, so what CI executes is what the report executes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from a2dl import paths

FENCE_OPEN = re.compile(r"^(?P<ticks>`{3,})\s*(?P<info>.*)$")
PYTHON_INFO = re.compile(r"^\{python(?:[\s,][^}]*)?\}$")
INLINE_PYTHON = re.compile(r"`\{python\}\s+([^`]+?)`")
CELL_OPTION = re.compile(r"^#\|\s*([\w-]+)\s*:\s*(.*)$")
INLINE_KEY = "a2dl_inline"
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


class ChapterExecutionError(RuntimeError):
    """A cell of a chapter raised: the message names the chapter, the cell and the error."""


@dataclass(frozen=True)
class CodeCell:
    source: str
    options: dict[str, object]


def book_chapters(quarto_yml: Path | None = None) -> list[Path]:
    """Every .qmd file of the book, in reading order, as listed in ``_quarto.yml``."""
    config_path = quarto_yml or paths.repo_root() / "_quarto.yml"
    book = yaml.safe_load(config_path.read_text())["book"]

    def flatten(entries: list) -> list[str]:
        found: list[str] = []
        for entry in entries or []:
            if isinstance(entry, str):
                found.append(entry)
            elif isinstance(entry, dict):
                if isinstance(entry.get("part"), str) and entry["part"].endswith(".qmd"):
                    found.append(entry["part"])
                found.extend(flatten(entry.get("chapters", [])))
        return found

    listed = flatten(book.get("chapters", [])) + flatten(book.get("appendices", []))
    return [config_path.parent / name for name in listed if name.endswith(".qmd")]


def cell_options(source: str) -> dict[str, object]:
    options: dict[str, object] = {}
    for line in source.splitlines():
        match = CELL_OPTION.match(line)
        if not match:
            break
        value = yaml.safe_load(match.group(2)) if match.group(2) else None
        options[match.group(1)] = value
    return options


def _strip_front_matter(text: str) -> str:
    if text.startswith("---\n"):
        end = text.find("\n---", 4)
        if end != -1:
            return text[end + 4 :].lstrip("\n")
    return text


def parse_chapter(text: str) -> list[str | CodeCell]:
    """Split a chapter into markdown blocks (str) and Python cells, in document order.

    Fenced blocks that are not ``{python}`` (plain code, ``{dot}``, ...) stay markdown, and
    inline expressions inside them are not evaluated, as in Quarto.
    """
    blocks: list[str | CodeCell] = []
    markdown: list[str] = []
    lines = _strip_front_matter(text).splitlines()
    i = 0
    while i < len(lines):
        opening = FENCE_OPEN.match(lines[i])
        if not opening:
            markdown.append(lines[i])
            i += 1
            continue
        ticks, info = opening.group("ticks"), opening.group("info").strip()
        end = i + 1
        while end < len(lines) and not re.match(rf"^{ticks}`*\s*$", lines[end]):
            end += 1
        body = "\n".join(lines[i + 1 : end])
        if PYTHON_INFO.match(info):
            if "".join(markdown).strip():
                blocks.append("\n".join(markdown).strip("\n"))
            markdown = []
            blocks.append(CodeCell(source=body, options=cell_options(body)))
        else:
            markdown.extend(lines[i : end + 1])
        i = end + 1
    if "".join(markdown).strip():
        blocks.append("\n".join(markdown).strip("\n"))
    return blocks


def _inline_expressions(markdown: str) -> list[re.Match[str]]:
    """Inline expressions of a markdown block, skipping fenced code inside it."""
    found: list[re.Match[str]] = []
    in_fence = False
    for line in markdown.splitlines():
        if FENCE_OPEN.match(line):
            in_fence = not in_fence
            continue
        if not in_fence:
            found.extend(INLINE_PYTHON.finditer(line))
    return found


def chapter_notebook(chapter: Path) -> nbformat.NotebookNode:
    """The chapter as a notebook: markdown cells, code cells, and one cell per inline expression.

    Cells with ``#| eval: false`` are kept as code but not executed (tagged ``skip-execution``).
    """
    cells = []
    for block in parse_chapter(chapter.read_text(encoding="utf-8")):
        if isinstance(block, CodeCell):
            cell = new_code_cell(block.source)
            if block.options.get("eval") is False:
                cell.metadata["tags"] = ["skip-execution"]
            cells.append(cell)
            continue
        cells.append(new_markdown_cell(block))
        for match in _inline_expressions(block):
            inline = new_code_cell(match.group(1).strip())
            inline.metadata[INLINE_KEY] = match.group(0)
            cells.append(inline)
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    notebook.metadata["language_info"] = {"name": "python"}
    return notebook


def execute_notebook(
    notebook: nbformat.NotebookNode, *, name: str, cwd: Path | None = None, timeout: int = 900
) -> nbformat.NotebookNode:
    """Run every cell in order in a fresh ``python3`` kernel; raise on the first error."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(cwd or paths.repo_root())}},
        skip_cells_with_tag="skip-execution",
    )
    try:
        client.execute()
    except CellExecutionError as error:
        readable = ANSI_ESCAPE.sub("", str(error))
        raise ChapterExecutionError(f"{name}: a cell raised.\n{readable}") from error
    return notebook


def inline_text(cell: nbformat.NotebookNode) -> str:
    """The text Quarto puts in place of an inline expression: the value's Markdown display,
    else its plain display with a string's quotes stripped (escapes and all, as Quarto does)."""
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        if "text/markdown" in data:
            return data["text/markdown"]
        if "text/plain" in data:
            text = data["text/plain"]
            quoted = len(text) >= 2 and text[0] == text[-1] and text[0] in "'\""
            return text[1:-1] if quoted else text
    return ""


def fill_inline_values(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Write each inline expression's value into its markdown cell and drop the helper cells.

    The result reads like the rendered chapter: prose with numbers, not with code.
    """
    kept = []
    for cell in notebook.cells:
        written = cell.metadata.get(INLINE_KEY)
        if written is None:
            kept.append(cell)
            continue
        owner = next(c for c in reversed(kept) if c.cell_type == "markdown")
        owner.source = owner.source.replace(written, inline_text(cell), 1)
    notebook.cells = kept
    return notebook


def execute_chapter(chapter: Path, *, timeout: int = 900) -> nbformat.NotebookNode:
    """Execute one chapter exactly as Quarto would and return the executed notebook."""
    return execute_notebook(chapter_notebook(chapter), name=chapter.name, timeout=timeout)
