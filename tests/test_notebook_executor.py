"""The qmd → notebook conversion that both the chapter test and the submission rely on."""

from pathlib import Path

import pytest

from a2dl.notebook import (
    ChapterExecutionError,
    CodeCell,
    book_chapters,
    chapter_notebook,
    execute_notebook,
    fill_inline_values,
    parse_chapter,
)

CHAPTER = """---
title: x
---
# Title

```{python}
#| label: fig-a
#| eval: true
a = 2
```

Text with `{python} a * 21` inline and `{python}   "x" + "y"`.

```bash
echo `{python} not_evaluated`
```

```{python}
#| eval: false
raise RuntimeError("never run")
```
"""


def test_parse_keeps_order_options_and_non_python_fences():
    blocks = parse_chapter(CHAPTER)
    kinds = [type(b).__name__ for b in blocks]
    assert kinds == ["str", "CodeCell", "str", "CodeCell"]
    assert blocks[1].options == {"label": "fig-a", "eval": True}
    assert "echo `{python} not_evaluated`" in blocks[2]
    assert isinstance(blocks[3], CodeCell) and blocks[3].options["eval"] is False
    assert not blocks[0].startswith("---")


def test_inline_expressions_become_cells_and_values_fill_the_prose(tmp_path: Path):
    chapter = tmp_path / "c.qmd"
    chapter.write_text(CHAPTER)
    notebook = chapter_notebook(chapter)
    sources = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    assert sources == [
        "#| label: fig-a\n#| eval: true\na = 2",
        "a * 21",
        '"x" + "y"',
        '#| eval: false\nraise RuntimeError("never run")',
    ]
    executed = execute_notebook(notebook, name="c.qmd", cwd=tmp_path, timeout=120)
    filled = fill_inline_values(executed)
    prose = "\n".join(c.source for c in filled.cells if c.cell_type == "markdown")
    assert "Text with 42 inline and xy." in prose
    assert "`{python} not_evaluated`" in prose


def test_inline_strings_reach_the_prose_verbatim_only_as_markdown(tmp_path: Path):
    # Quarto prints a plain string's repr: a non-breaking space would read "\\xa0".
    chapter = tmp_path / "c.qmd"
    chapter.write_text(
        "```{python}\nvalue = 'p\\u00a0=\\u00a00.4 <unk> (-4, 1-2)'\n```\n\n"
        "Plain `{python} value`.\n\n"
        "```{python}\nfrom a2dl.report import inline_strings_as_markdown\n"
        "inline_strings_as_markdown()\n```\n\nMarkdown `{python} value`.\n"
    )
    executed = execute_notebook(chapter_notebook(chapter), name="c.qmd", cwd=tmp_path, timeout=120)
    prose = "\n".join(c.source for c in fill_inline_values(executed).cells)
    assert "Plain p\\xa0=\\xa00.4 <unk> (-4, 1-2)." in prose
    # a signed number gets a true minus (Typst would not make one after "("); a range does not
    assert "Markdown p\u00a0=\u00a00.4 &lt;unk&gt; (−4, 1-2)." in prose


def test_a_raising_cell_names_the_chapter(tmp_path: Path):
    chapter = tmp_path / "broken.qmd"
    chapter.write_text("```{python}\n1 / 0\n```\n")
    with pytest.raises(
        ChapterExecutionError,
        match=r"(?s)broken.qmd: a cell raised.*ZeroDivisionError: division by zero",
    ):
        execute_notebook(chapter_notebook(chapter), name="broken.qmd", cwd=tmp_path, timeout=120)


def test_book_chapters_follow_quarto_yml(tmp_path: Path):
    (tmp_path / "_quarto.yml").write_text(
        "book:\n  chapters:\n    - index.qmd\n    - part: p.qmd\n      chapters: [a.qmd, b.qmd]\n"
        "  appendices: [z.qmd]\n"
    )
    names = [p.name for p in book_chapters(tmp_path / "_quarto.yml")]
    assert names == ["index.qmd", "p.qmd", "a.qmd", "b.qmd", "z.qmd"]


def test_figure_export_takes_the_svg_of_each_fig_cell():
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    from a2dl.figures import labelled_svgs

    drawn = new_code_cell("#| label: fig-a\n#| fig-cap: 'A.'\nplot()")
    drawn.outputs = [new_output("display_data", data={"image/svg+xml": "<svg>a</svg>"})]
    table = new_code_cell("#| label: tbl-b\ntable()")
    table.outputs = [new_output("display_data", data={"image/svg+xml": "<svg>b</svg>"})]
    unlabelled = new_code_cell("plot()")
    unlabelled.outputs = [new_output("display_data", data={"image/svg+xml": "<svg>c</svg>"})]
    notebook = new_notebook(cells=[drawn, table, unlabelled])
    assert labelled_svgs(notebook) == {"fig-a": "<svg>a</svg>"}


def test_cell_timing_and_name_come_from_the_executed_cell():
    from nbformat.v4 import new_code_cell

    from a2dl.chapter_timing import cell_name, cell_seconds

    cell = new_code_cell("#| label: fig-x\n#| fig-cap: a figure\nplot()")
    assert cell_seconds(cell) == 0.0  # never executed
    cell.metadata["execution"] = {
        "iopub.execute_input": "2026-12-02T10:00:00.500000Z",
        "shell.execute_reply": "2026-12-02T10:00:03.000000Z",
    }
    assert cell_seconds(cell) == 2.5
    assert cell_name(cell) == "fig-x"
    assert cell_name(new_code_cell("x = 1\ny = 2")) == "x = 1"
