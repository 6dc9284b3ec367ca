"""The page-rule measures of ``bench layout`` on pages whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from a2dl.errors import InputError
from a2dl.layout_check import benchmark, blank_share, chapter_last_pages, placements


def test_a_float_counts_from_its_first_citation_not_from_its_own_caption():
    pages = [
        "As Figure 1.1 shows, and Table 1.1 lists.",
        "Figure 1.1: A figure whose caption names Table 1.2.",
        "",
        "Table 1.1: Printed two pages after its citation.",
        "Table 1.2: Named only in another float's caption.",
    ]
    found = {p.name: p for p in placements(pages)}
    assert (found["Figure 1.1"].cited, found["Figure 1.1"].placed) == (1, 2)
    assert found["Figure 1.1"].beside_its_text
    assert (found["Table 1.1"].cited, found["Table 1.1"].placed) == (1, 4)
    assert not found["Table 1.1"].beside_its_text
    assert found["Table 1.2"].cited is None and not found["Table 1.2"].beside_its_text


def test_appendix_floats_are_found_like_chapter_floats():
    found = placements(["See Table B.2.", "Table B.2: Commands."])
    assert [(p.name, p.beside_its_text) for p in found] == [("Table B.2", True)]


def test_blank_share_is_the_tallest_empty_band_of_the_text_block():
    page = np.ones((1000, 100))
    assert blank_share(page) == 1.0
    page[100:200, 10] = 0.0  # ink in rows 100-199, then blank to the block's end at 925
    assert blank_share(page) == pytest.approx((925 - 200) / (925 - 85))
    page[500, 50] = 0.5  # one dark pixel splits the band
    assert blank_share(page) == pytest.approx((925 - 501) / (925 - 85))


def test_a_chapters_last_page_is_the_one_before_a_new_running_head():
    pages = [
        "   1 Theory\nopener text",
        "1 Theory      1.2 Section\nbody",
        "   2 Practice\nopener",
        "2 Practice    2.1 Section\nbody",
    ]
    assert chapter_last_pages(pages) == {2, 4}


def test_a_missing_pdf_is_named_with_what_to_do(tmp_path):
    with pytest.raises(InputError, match=r"does not exist: render the report first"):
        benchmark(tmp_path / "missing.pdf")
