"""One call at the top of every chapter, so that each chapter renders on its own."""

from __future__ import annotations

import math
import os
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
import torch
import yaml
from IPython.display import Markdown

from a2dl import artefacts, paths
from a2dl.numberstyle import (  # noqa: F401  (the chapters import the formatters from here too)
    count,
    percent,
    points,
    scientific,
    share_of,
    small_number,
    tex_count,
)

DEFAULT_SEED = artefacts.SEED


@dataclass(frozen=True)
class ChapterContext:
    """What a chapter needs to know about its surroundings."""

    root: Path
    data: Path
    weights: Path
    figures: Path
    seed: int


def authors() -> list[dict[str, str]]:
    """The book's authors as set once in ``_quarto.yml``."""
    config = yaml.safe_load((paths.repo_root() / "_quarto.yml").read_text(encoding="utf-8"))
    return config["book"]["author"]


def ubit_names() -> str:
    """``ubit1_ubit2``: the authors' UBIT names (e-mail before '@'), as the course names files."""
    return "_".join(author["email"].split("@")[0] for author in authors())


MARKDOWN_SPECIALS = "\\`*_{}[]<>#+-.!|$@&~^'\""  # quotes too: no smart quotes in shown text
# Words that a header made from a code name should show as the report writes them.
HEADER_WORDS = {
    "val": "validation",
    "loss": "loss",
    "f1": "F1",
    "roc": "ROC",
    "pr": "PR",
    "auc": "AUC",
    "mse": "MSE",
    "nab": "NAB",
    "macs": "MACs",
    "fp": "FP",
    "fn": "FN",
}


def escape_markdown(text: str) -> str:
    """``text`` shown literally in Markdown: every punctuation mark that Markdown or raw HTML
    could read as syntax is backslash-escaped (a ``|`` would end a table cell, ``<i>`` would
    vanish as HTML, ``&amp;`` would become ``&``)."""
    return "".join(f"\\{c}" if c in MARKDOWN_SPECIALS else c for c in text)


def readable_header(name: str) -> str:
    """``val_f1`` → ``validation F1``; a header that is already prose is kept as it is."""
    if "_" not in name:
        return HEADER_WORDS.get(name, name) if name.islower() else name
    words = [HEADER_WORDS.get(word.lower(), word) for word in name.split("_")]
    joined = " ".join(words)
    return joined.replace("ROC AUC", "ROC-AUC").replace("PR AUC", "PR-AUC")


def compact_number(value: float) -> str:
    """Three significant digits without exponent notation: 547M, 38.5k, 12.3, 0.0441, 0."""
    if value != value:  # NaN
        return "—"
    magnitude = abs(value)
    for limit, unit, suffix in ((1e9, 1e9, "G"), (1e6, 1e6, "M"), (1e3, 1e3, "k")):
        if magnitude >= limit:
            return f"{value / unit:.3g}{suffix}"
    if magnitude >= 0.01 or value == 0:
        return f"{value:.3g}"
    return f"{value:.6f}".rstrip("0")


def spoken_list(items: Iterable[str]) -> str:
    """Items as prose lists them: "A", "A and B", "A, B and C"."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def more_or_less(value: float, reference: float, digits: int = 1) -> str:
    """Where ``value`` stands against ``reference`` as the text prints both (rounded to
    ``digits`` decimals): "above", "below" or "level with"."""
    shown, against = round(value, digits), round(reference, digits)
    return "above" if shown > against else "below" if shown < against else "level with"


def p_value(value: float, label: str = "*p*") -> str:
    """A p-value as the report's prose prints it, in Markdown: "*p* = 0.123" (an italic p, as
    in the equations), or "*p* < 0.001" below that; with an empty ``label`` the value alone
    ("0.123", "< 0.001"), for a table's column. The spaces are non-breaking, so that a line
    never ends at "p =" with the value on the next."""
    space = "\u00a0"
    shown = f"<{space}0.001" if value < 0.001 else f"{value:.3f}"
    if not label:
        return shown
    return f"{label}{space}{shown}" if value < 0.001 else f"{label}{space}={space}{shown}"


def markdown_table(
    frame: pd.DataFrame,
    *,
    index: bool = False,
    floatfmt: str | tuple[str, ...] = ",.3f",
    markdown_columns: tuple[str, ...] = (),
    nowrap: tuple[str, ...] = (),
) -> Markdown:
    """A frame as a Markdown table, which Quarto turns into a numbered Typst table.

    Text cells are shown literally (escaped) unless their column is in ``markdown_columns``;
    code-style headers become words (:func:`readable_header`); missing values print as "—".
    ``floatfmt`` is one format for every column or a tuple with one per column. Cells of the
    ``nowrap`` columns (names such as "VGG-11 (½ width, BN)") never break inside a word group:
    their spaces and hyphens become non-breaking, except the space before a parenthesis, so a
    name breaks, if at all, into itself and its parenthetical, and the column is sized to the
    longer of the two."""
    shown = frame.reset_index() if index else frame.copy()
    for column in nowrap:
        shown[column] = shown[column].map(lambda v: _unbroken(v) if isinstance(v, str) else v)
    for column in shown.columns:
        if column not in markdown_columns and not pd.api.types.is_numeric_dtype(shown[column]):
            shown[column] = (
                shown[column]
                .map(lambda v: escape_markdown(v) if isinstance(v, str) else v)
                .astype(object)
            )
    # a header never breaks at its hyphen ("CPU-/min"): headers hold no commands to copy
    shown.columns = [
        escape_markdown(readable_header(str(c))).replace("-", NON_BREAKING_HYPHEN)
        for c in shown.columns
    ]
    numeric_columns = [pd.api.types.is_numeric_dtype(shown[c]) for c in shown.columns]
    shown = shown.astype(object).where(shown.notna(), None)  # NaN too prints as missing
    # numbers already written as text (percentages, 38.5k) align right like the numbers
    align = [
        "right" if numeric or _reads_as_number(shown[c]) else "left"
        for c, numeric in zip(shown.columns, numeric_columns, strict=True)
    ]
    text = shown.to_markdown(
        index=False, floatfmt=floatfmt, intfmt=",", missingval="—", colalign=align
    )
    return Markdown(balanced_widths(text))


NON_BREAKING_HYPHEN = "\u2011"
NO_BREAK_SPACE = "\u00a0"
LONGEST_UNBROKEN = 24  # characters: a longer parenthetical may break at its spaces


def _unbroken(name: str) -> str:
    """A name that a table cell never breaks inside a word group (:func:`markdown_table`'s
    ``nowrap``): its spaces and hyphens become non-breaking, except the space before its
    parenthetical, so that "VGG-11 (½ width, BN)" breaks, if at all, into its name and
    "(½ width, BN)". A parenthetical longer than :data:`LONGEST_UNBROKEN` keeps its spaces, so
    that "(½ width, no dropout or stochastic depth)" wraps over lines of its column rather
    than widen the column to its whole length."""
    base, opened, rest = name.partition(" (")
    base = base.replace(" ", NO_BREAK_SPACE).replace("-", NON_BREAKING_HYPHEN)
    if not opened:
        return base
    aside = "(" + rest.replace("-", NON_BREAKING_HYPHEN)
    if len(aside) <= LONGEST_UNBROKEN:
        aside = aside.replace(" ", NO_BREAK_SPACE)
    return f"{base} {aside}"


# a written number: signed, with a unit (12.3%, 38.5k), a bound (< 0.001) or a range (0.50–0.64)
_NUMBER = r"[−+-]?[\d.,]+ ?(?:%|k|M|G|[ \u00a0]×[ \u00a0]10[⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+)?"
NUMBER_TEXT = re.compile(rf"^(?:[<>][ \u00a0])?{_NUMBER}(?:–{_NUMBER})?$|^—$")


def _reads_as_number(column: pd.Series) -> bool:
    """True for a column whose every cell is a number or a written one (12.3%, 38.5k, —),
    blank cells aside (a total row leaves the per-layer widths empty)."""
    values = [v for v in column if v is not None and not (isinstance(v, str) and not v.strip())]
    return bool(values) and all(
        (isinstance(v, int | float) and not isinstance(v, bool))
        or (isinstance(v, str) and NUMBER_TEXT.match(v.replace("\\", "")))
        for v in values
    )


CELL_SEPARATOR = re.compile(r"(?<!\\)\|")
WIDEST_COLUMN = 40  # characters: a long text column wraps rather than crowd the others out
WORD_MARGIN = 3  # characters beyond a column's longest word, so neighbouring headers never touch


UNBROKEN_WORD = re.compile(r"`[^`]*`|[^ ]+")  # a code span whole, else up to a space
CODE_WIDTH = 1.15  # a character of inline code prints this much wider than one of text


def _printed_length(word: str) -> int:
    """A word's length in characters of the table's text font: code is set in a wider font."""
    return math.ceil(len(word) * CODE_WIDTH) if word.startswith("`") else len(word)


def balanced_widths(table: str) -> str:
    """A pipe table whose separator dashes give each column room for its longest word.

    When a table is wider than the page, Quarto sizes its columns in proportion to these
    dashes; as written by tabulate they follow the longest cell, so a column of short IDs or
    numbers next to a long text column gets too little room and its content overprints the
    next column. Here each column gets at least its longest word (plus a margin) and at most
    :data:`WIDEST_COLUMN`, or its longest cell if that is shorter.
    """
    lines = table.splitlines()
    rows = [CELL_SEPARATOR.split(line.strip().strip("|")) for line in lines]
    separator = rows[1]
    cells = list(zip(*[row for i, row in enumerate(rows) if i != 1], strict=True))
    dashes = []
    for column, rule in zip(cells, separator, strict=True):
        # a line breaks at ordinary spaces only: a name joined by no-break spaces is one word,
        # and so is inline code, which the page never breaks (_format/typst-show.typ)
        words = [_printed_length(w) for cell in column for w in UNBROKEN_WORD.findall(cell)] or [1]
        longest = max(len(cell.strip()) for cell in column)
        width = max(max(words) + WORD_MARGIN, min(longest, WIDEST_COLUMN), 3)
        rule = rule.strip()
        left, right = rule.startswith(":"), rule.endswith(":")
        dashes.append((":" if left else "") + "-" * width + (":" if right else ""))
    lines[1] = "|" + "|".join(dashes) + "|"
    return "\n".join(lines)


def command_table(entries: dict[str, tuple[str, str]], command: str) -> pd.DataFrame:
    """One row per entry of one of the CLI's tables (``a2dl.cli.EXPERIMENTS``, ``BENCHMARKS``,
    ``a2dl.evaluation.EVALUATIONS``): the command that runs it, as code, and what it does, in
    Markdown (the descriptions quote other commands in backticks). Show it with
    ``markdown_table(..., markdown_columns=("command", "what it does"))``."""
    return pd.DataFrame(
        {
            "command": [f"`{command} {name}`" for name in entries],
            "what it does": [about for _, about in entries.values()],
        }
    )


def artefact_table(folder: Path | None = None) -> pd.DataFrame:
    """The table of artefacts (:mod:`a2dl.artefacts`) as the appendix shows it: per command
    (what follows ``python -m a2dl``), the files it writes under ``weights/`` and what it reads,
    with the written files' size in MB. Commands that differ only in a model's name share a row
    (``<name>``, ``<model>``)."""
    folder = folder or paths.weights_dir()
    rows: dict[str, dict[str, object]] = {}
    for artefact in artefacts.ARTEFACTS:
        if not artefact.writes:
            continue
        command = _generic(f"{artefact.verb} {artefact.name}")  # after `python -m a2dl`
        row = rows.setdefault(command, {"writes": [], "reads": [], "MB": 0.0})
        row["MB"] += (
            sum((folder / f).stat().st_size for f in artefact.writes if (folder / f).is_file())
            / 1e6
        )
        for key in ("writes", "reads"):
            for name in map(_generic, getattr(artefact, key)):
                if name not in row[key]:
                    row[key].append(name)
    return pd.DataFrame(
        [
            {
                "command": f"`{command}`",
                "writes": ", ".join(f"`{f}`" for f in _weights_only(row["writes"])),
                "reads": ", ".join(
                    f"`{f}`" if "." in f else f for f in _weights_only(row["reads"])
                ),
                "MB": f"{row['MB']:.1f}" if row["MB"] >= 0.05 else "< 0.1",
            }
            for command, row in rows.items()
        ]
    )


def _weights_only(names: list[str]) -> list[str]:
    """The names without the per-epoch history of a listed weights file: every ``x.pt`` has
    its ``x.history.json`` (the appendix says so once), and the long names overflowed the
    table's columns."""
    return [n for n in names if n.removesuffix(".history.json") + ".pt" not in names]


_MODEL_NAMES = re.compile(
    rf"(?<=_)({'|'.join(artefacts.ANOMALY_MODELS)})(?=\.)"
    rf"|(?<=[_-])({'|'.join(artefacts.VISION_MODELS)})(?=\.|$)"
)


def _generic(text: str) -> str:
    """A command or file name with its model's name replaced by ``<model>`` (Part II) or
    ``<name>`` (the bonus networks)."""
    return _MODEL_NAMES.sub(lambda m: "<model>" if m.group(1) else "<name>", text)


def coverage_table(path: Path | None = None) -> Markdown:
    """The coverage appendix from its one source, ``chapters/_coverage.yml``."""
    rows = coverage(path)
    frame = pd.DataFrame(
        [(rid, row["requirement"], row["answered"]) for rid, row in rows.items()],
        columns=["ID", "Requirement", "Where it is answered"],
    )
    return markdown_table(frame, markdown_columns=("Requirement", "Where it is answered"))


def coverage(path: Path | None = None) -> dict[str, dict[str, str]]:
    path = path or paths.repo_root() / "chapters" / "_coverage.yml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def display_equation(lines: list[str], label: str) -> Markdown:
    """A numbered display equation (aligned on ``&``) written by a cell, so that every number
    in it comes from the computation; show it from a cell with ``output: asis``."""
    body = " \\\\\n".join(lines)
    return Markdown(f"$$\n\\begin{{aligned}}\n{body}\n\\end{{aligned}}\n$$ {{#{label}}}")


def seed_everything(seed: int = DEFAULT_SEED) -> None:
    """Seed Python, NumPy and PyTorch so that re-running an evaluation gives the same numbers."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def plotting_style() -> None:
    """One look for every figure: print-friendly, vector output, readable at column width."""
    import seaborn as sns

    sns.set_theme(context="paper", style="whitegrid", palette="colorblind")
    mpl.rcParams.update(
        {
            "figure.figsize": (6.4, 3.6),
            # the PDF embeds each figure as the PNG a chapter displays, drawn at the figure's
            # dpi: 300 prints sharp (150 printed soft)
            "figure.dpi": 300,
            "savefig.dpi": 300,
            "savefig.bbox": "tight",
            "axes.titlesize": 10,
            "axes.labelsize": 9,
            "legend.fontsize": 8,
            "font.size": 9,
        }
    )


def inline_figures() -> None:
    """Inside a Jupyter kernel, display returned Figures inline, as Quarto's kernel setup does.

    The chapter test runs the chapters in a plain kernel; this makes it display figures the
    way the rendered report does, so that the test can check each figure appears once.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None and hasattr(shell, "kernel"):
        shell.run_line_magic("matplotlib", "inline")


SIGNING_HYPHEN = re.compile(r"(?<![\w.\-])-(?=\d)")  # "-4" or "(-4", not "1-2" or "x-1"


def inline_strings_as_markdown() -> None:
    """Give ``str`` values a Markdown display, so that inline expressions print them verbatim.

    Quarto inserts an inline value's Markdown display if it has one, else its ``text/plain``
    display with the quotes stripped. For a string that is ``repr``, in which characters such
    as the non-breaking space of :func:`p_value` appear as ``\\xa0`` escapes. Angle brackets
    are escaped, so that a token such as ``<unk>`` is printed rather than taken for HTML. A
    hyphen that signs a number is written as a minus sign: Typst makes one of it after a space
    but not after a bracket, so "(-4 reviews)" would print with a hyphen.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None:
        shell.display_formatter.formatters["text/markdown"].for_type(
            str,
            lambda text: SIGNING_HYPHEN.sub("−", text.replace("<", "&lt;").replace(">", "&gt;")),
        )


def setup_chapter(seed: int = DEFAULT_SEED, threads: int | None = None) -> ChapterContext:
    """Seed, style and locate: the hidden first cell of every chapter calls this.

    Chapter cells run from the project root (``execute-dir: project``); the working directory
    is set here as well so that a chapter executed by other means behaves the same.
    """
    root = paths.repo_root()
    os.chdir(root)
    seed_everything(seed)
    inline_figures()
    inline_strings_as_markdown()
    plotting_style()
    if threads is not None:
        torch.set_num_threads(threads)
    return ChapterContext(
        root=root,
        data=paths.data_dir(),
        weights=paths.weights_dir(),
        figures=paths.figures_dir(),
        seed=seed,
    )
