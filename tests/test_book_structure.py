"""What can be checked of the book without Quarto: cross-references, citations, captions,
the coverage appendix and each chapter's setup cell. A dangling ``@fig-…`` or an unknown
citation key would otherwise surface only when the report is rendered elsewhere."""

import re

import pytest

from a2dl.notebook import CodeCell, book_chapters, parse_chapter
from a2dl.paths import repo_root
from a2dl.report import coverage

CHAPTERS = book_chapters()
REFERENCE = re.compile(r"(?<![\w@])@((?:fig|tbl|eq|sec)-[\w-]*\w)")
CITATION = re.compile(r"(?<![\w@])@(?!(?:fig|tbl|eq|sec)-)([A-Za-z][\w:.-]*\w)")
DEFINED = re.compile(r"\{#((?:fig|tbl|eq|sec)-[\w-]+)[\s}]")
WRITTEN_EQUATION = re.compile(r"display_equation\(.*\"(eq-[\w-]+)\"\)")
REQUIREMENT_IDS = (
    [f"R0.{i}" for i in range(1, 9)]
    + [f"R1.{i}" for i in range(1, 5)]
    + [f"R2.{i}" for i in range(1, 17)]
    + [f"R3.{i}" for i in range(1, 7)]
    + [f"R4.{i}" for i in range(1, 16)]
    + ["RB.1", "RB.2", "RS.1"]
)


def _prose_and_options() -> dict[str, tuple[str, list[CodeCell]]]:
    found = {}
    for chapter in CHAPTERS:
        blocks = parse_chapter(chapter.read_text(encoding="utf-8"))
        prose = "\n".join(b for b in blocks if isinstance(b, str))
        cells = [b for b in blocks if isinstance(b, CodeCell)]
        found[chapter.name] = (prose, cells)
    return found


BOOK = _prose_and_options()


def _defined_labels() -> set[str]:
    labels = set()
    for prose, cells in BOOK.values():
        labels |= set(DEFINED.findall(prose))
        labels |= {str(c.options["label"]) for c in cells if "label" in c.options}
        labels |= {label for c in cells for label in WRITTEN_EQUATION.findall(c.source)}
    return labels


def _searchable_text(prose: str, cells: list[CodeCell]) -> str:
    captions = [str(v) for c in cells for k, v in c.options.items() if k.endswith("cap")]
    return "\n".join([prose, *captions])


def test_every_cross_reference_resolves():
    labels = _defined_labels()
    dangling = {
        (name, ref)
        for name, (prose, cells) in BOOK.items()
        for ref in REFERENCE.findall(_searchable_text(prose, cells))
        if ref not in labels
    }
    assert not dangling, f"references to labels that no chapter defines: {sorted(dangling)}"


def test_labels_are_unique():
    seen: dict[str, str] = {}
    for name, (prose, cells) in BOOK.items():
        for label in DEFINED.findall(prose) + [str(c.options.get("label")) for c in cells]:
            if label.startswith(("fig-", "tbl-", "eq-", "sec-")):
                assert label not in seen, f"{label} defined in {seen[label]} and {name}"
                seen[label] = name


def test_every_citation_is_in_the_bibliography():
    bib = (repo_root() / "references.bib").read_text(encoding="utf-8")
    keys = set(re.findall(r"@\w+\{([^,\s]+),", bib))
    unknown = {
        (name, key)
        for name, (prose, cells) in BOOK.items()
        for key in CITATION.findall(_searchable_text(prose, cells))
        if key not in keys
    }
    assert not unknown, f"citation keys missing from references.bib: {sorted(unknown)}"


def test_figures_and_tables_from_cells_have_captions():
    for name, (_, cells) in BOOK.items():
        for cell in cells:
            label = str(cell.options.get("label", ""))
            for prefix, caption in (("fig-", "fig-cap"), ("tbl-", "tbl-cap")):
                if label.startswith(prefix):
                    assert cell.options.get(caption), f"{name}: {label} has no {caption}"


def test_cells_that_draw_figures_are_labelled():
    drawing = re.compile(r"(plot_\w+\(|_graph\(|plt\.)")
    for name, (_, cells) in BOOK.items():
        for cell in cells:
            body = "\n".join(x for x in cell.source.splitlines() if not x.startswith("#|"))
            if drawing.search(body) and cell.options.get("include") is not False:
                assert str(cell.options.get("label", "")).startswith("fig-"), (
                    f"{name}: a cell that draws has no fig- label:\n{cell.source[:200]}"
                )


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.name for c in CHAPTERS])
def test_chapters_with_code_start_with_the_setup_call(chapter):
    _, cells = BOOK[chapter.name]
    if cells:
        assert "setup_chapter(" in cells[0].source, f"{chapter.name}: first cell must set up"
        assert cells[0].options.get("include") is False


SPEC = repo_root().parent / "shared" / "spec" / "REQUIREMENTS.md"


def _spec_ids() -> list[str]:
    """The requirement IDs of the specification where it lies beside the clone (CI), else the
    list above (a student's clone has no spec)."""
    if not SPEC.is_file():
        return REQUIREMENT_IDS
    return sorted(set(re.findall(r"^- (R[0-9BS]\.\d+) ", SPEC.read_text(), flags=re.MULTILINE)))


def test_coverage_lists_every_requirement_of_the_spec_once():
    rows = coverage()
    assert sorted(rows) == sorted(_spec_ids())
    assert sorted(rows) == sorted(REQUIREMENT_IDS)


def test_every_coverage_anchor_exists_and_nothing_is_left_unanswered():
    labels = _defined_labels()
    for rid, row in coverage().items():
        anchors = REFERENCE.findall(row["answered"])
        assert set(anchors) <= labels, f"{rid}: {sorted(set(anchors) - labels)} do not exist"
        assert "not yet answered" not in row["answered"].lower(), rid
        if rid.startswith(("R1", "R2", "R3", "R4", "RB")):
            assert anchors, f"{rid} names no section, table, figure or equation"


def test_the_coverage_appendix_is_generated_from_the_one_source():
    appendix = (repo_root() / "chapters" / "appendix-coverage.qmd").read_text(encoding="utf-8")
    assert "coverage_table()" in appendix
    assert not re.search(r"^\| R[0-9BS]\.\d+ \|", appendix, flags=re.MULTILINE)


def test_the_book_renders_to_the_pdf_and_to_an_html_book_from_one_source():
    import yaml

    config = yaml.safe_load((repo_root() / "_quarto.yml").read_text(encoding="utf-8"))
    assert {"typst", "html"} <= set(config["format"])
    assert config["execute"]["freeze"] == "auto"  # executed once, both formats read _freeze/
    # one chapter list serves both formats: no format narrows it
    assert all("chapters" not in options for options in config["format"].values())


def test_inline_expressions_open_and_close_on_one_line():
    """Quarto evaluates `{python} expr` only within one line; one that wraps is printed raw."""
    for name, (prose, _) in BOOK.items():
        for number, line in enumerate(prose.splitlines(), 1):
            for start in [m.start() for m in re.finditer(r"`\{python\}", line)]:
                assert "`" in line[start + 1 :], f"{name}, line {number}: inline code wraps"


@pytest.mark.parametrize("kind", ["fig", "tbl"])
def test_figures_and_tables_are_cited_and_numbered_in_the_order_first_cited(kind):
    # Typst numbers floats in the order they are defined; a reader meets them in the order the
    # text cites them. The two orders must agree, and a float nobody cites is a loose end.
    cited_anywhere = set()
    for _, (prose, cells) in BOOK.items():
        cited_anywhere |= set(REFERENCE.findall(_searchable_text(prose, cells)))
    for chapter in CHAPTERS:
        first_cited: list[str] = []
        defined: list[str] = []
        for block in parse_chapter(chapter.read_text(encoding="utf-8")):
            if isinstance(block, CodeCell):
                label = str(block.options.get("label", ""))
                if label.startswith(f"{kind}-"):
                    defined.append(label)
                text = "\n".join(str(v) for k, v in block.options.items() if k.endswith("cap"))
            else:
                text = block
            for ref in REFERENCE.findall(text):  # a label cited twice in one block counts once
                if ref.startswith(f"{kind}-") and ref not in first_cited:
                    first_cited.append(ref)
        uncited = [label for label in defined if label not in cited_anywhere]
        assert not uncited, f"{chapter.name}: never cited: {uncited}"
        in_reading_order = [ref for ref in first_cited if ref in defined]
        assert in_reading_order == defined, (
            f"{chapter.name}: numbered {defined} but first cited {in_reading_order}"
        )
