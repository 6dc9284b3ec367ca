"""``bench layout``: the rendered book measured against the report's page rules, which no test
can hold because CI does not render. Every figure and table sits on the page of its first
citation or the next, and no page is more than :data:`LARGEST_BLANK` blank except a chapter's
last. Reads the PDF with poppler's ``pdftotext`` and ``pdftoppm``."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import matplotlib.image
import numpy as np

from a2dl import paths
from a2dl.errors import InputError

CAPTION = re.compile(r"^\s*(Figure|Table) ([0-9A-Z]+\.[0-9]+):.*$", re.M)  # its first line
MENTION = re.compile(r"(Figure|Table) ([0-9A-Z]+\.[0-9]+)")
LARGEST_BLANK = 0.4  # of the text block's height
TEXT_BLOCK = (0.085, 0.925)  # of the page's height: below the running head, above the folio
INK = 0.9  # a row of pixels holds ink where one pixel is darker than this (white is 1)


@dataclass(frozen=True)
class Placement:
    """Where a float is first cited and where its caption is printed (1-based pages)."""

    name: str  # "Figure 3.2"
    cited: int | None  # None: never cited outside its own caption
    placed: int

    @property
    def beside_its_text(self) -> bool:
        return self.cited is not None and self.cited <= self.placed <= self.cited + 1


def placements(pages: list[str]) -> list[Placement]:
    """Each float's first citation and its caption's page, from the pages' text. A caption's
    first line is not a citation, neither of its own float nor of another."""
    placed: dict[str, int] = {}
    cited: dict[str, int] = {}
    for number, page in enumerate(pages, 1):
        for match in CAPTION.finditer(page):
            placed.setdefault(f"{match[1]} {match[2]}", number)
        for match in MENTION.finditer(CAPTION.sub("", page)):
            cited.setdefault(f"{match[1]} {match[2]}", number)
    return [Placement(name, cited.get(name), page) for name, page in placed.items()]


def blank_share(page: np.ndarray) -> float:
    """The tallest band of the text block with no ink in it, as a share of the block's height,
    for a greyscale page (rows × columns, white = 1)."""
    top, bottom = (round(edge * page.shape[0]) for edge in TEXT_BLOCK)
    inked = (page[top:bottom] < INK).any(axis=1)
    tallest = run = 0
    for has_ink in inked:
        run = 0 if has_ink else run + 1
        tallest = max(tallest, run)
    return tallest / (bottom - top)


def chapter_last_pages(pages: list[str]) -> set[int]:
    """Pages after which a new chapter, appendix or front-matter part begins: where the first
    word of the page's first line (a running head or an opener starts with the chapter's
    number or name) changes on the next page. The last page counts too."""
    keys = [
        next((line.split()[0] for line in page.splitlines() if line.strip()), "") for page in pages
    ]
    return {n for n in range(1, len(pages) + 1) if n == len(pages) or keys[n - 1] != keys[n]}


def _poppler(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        raise InputError(
            f"`{tool}` is not installed: the layout check reads the PDF with poppler's tools. "
            "Install them (Debian/Ubuntu: apt-get install poppler-utils; macOS: brew install "
            "poppler) and run it again."
        )
    return found


def page_texts(pdf: Path) -> list[str]:
    text = subprocess.run(
        [_poppler("pdftotext"), "-layout", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return text.split("\f")[:-1]  # the text ends with a form feed


def page_images(pdf: Path, dpi: int = 50) -> list[np.ndarray]:
    """Greyscale pages (white = 1)."""
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(
            [_poppler("pdftoppm"), "-gray", "-png", "-r", str(dpi), str(pdf), f"{folder}/p"],
            check=True,
        )
        files = sorted(Path(folder).glob("p-*.png"), key=lambda p: int(p.stem.split("-")[1]))
        images = [matplotlib.image.imread(path) for path in files]
        return [image[..., :3].mean(axis=2) if image.ndim == 3 else image for image in images]


def benchmark(pdf: Path | None = None) -> None:
    pdf = pdf or paths.repo_root() / paths.REPORT_PDF
    if not pdf.is_file():
        raise InputError(f"{pdf} does not exist: render the report first (make report).")
    texts = page_texts(pdf)
    found = placements(texts)
    astray = [p for p in found if not p.beside_its_text]
    for p in astray:
        where = "never cited" if p.cited is None else f"cited on p. {p.cited}"
        print(f"  {p.name}: {where}, printed on p. {p.placed}")
    print(f"{len(found) - len(astray)} of {len(found)} floats on their citation's page or the next")
    last = chapter_last_pages(texts)
    blank = [(n, blank_share(image)) for n, image in enumerate(page_images(pdf), 1)]
    over = [(n, share) for n, share in blank if share > LARGEST_BLANK and n not in last]
    for n, share in over:
        print(f"  p. {n}: a blank band of {share:.0%} of the text block")
    print(
        f"{len(over)} of {len(blank)} pages more than {LARGEST_BLANK:.0%} blank, a chapter's "
        f"last page aside (the most blank of the others: "
        f"{max(s for n, s in blank if n not in last):.0%})"
    )
