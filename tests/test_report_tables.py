"""Generated Markdown tables and numbers: what the chapters print must survive Markdown."""

from __future__ import annotations

import pandas as pd

from a2dl.report import (
    balanced_widths,
    compact_number,
    escape_markdown,
    markdown_table,
    more_or_less,
    readable_header,
    scientific,
    spoken_list,
)


def test_cell_text_with_markdown_or_html_is_shown_literally():
    frame = pd.DataFrame(
        {"step": ["tokenise", "raw"], "output": ["i | didn't", "<i>love</i> &amp;"]}
    )
    table = markdown_table(frame).data
    assert r"i \| didn\'t" in table and r"\<i\>love\</i\> \&amp;" in table
    assert table.splitlines()[2].count("|") - table.splitlines()[2].count(r"\|") == 3


def test_a_leading_plus_is_not_a_list_and_preformatted_numbers_are_kept():
    frame = pd.DataFrame({"detector": ["+ spatial check"], "lr": ["0.00019"]})
    table = markdown_table(frame).data
    assert r"\+ spatial check" in table and r"0\.00019" in table


def test_headers_read_as_words():
    assert readable_header("val_f1") == "validation F1"
    assert readable_header("test_roc_auc") == "test ROC-AUC"
    assert readable_header("f1") == "F1"
    assert readable_header("MMACs / image") == "MMACs / image"


def test_every_column_gets_room_for_its_longest_word():
    frame = pd.DataFrame({"ID": ["R2.14"], "text": ["word " * 60]})
    rule = balanced_widths(frame.to_markdown(index=False)).splitlines()[1]
    id_dashes, text_dashes = (len(part.strip(":")) for part in rule.strip("|").split("|"))
    assert id_dashes >= len("R2.14") + 3 and text_dashes == 40


def test_a_command_in_code_counts_as_one_word():
    command = "`train sentiment-pretrain`"  # the page never breaks inline code
    frame = pd.DataFrame({"command": [command], "text": ["word " * 60]})
    rule = balanced_widths(frame.to_markdown(index=False)).splitlines()[1]
    command_dashes = len(rule.strip("|").split("|")[0].strip(":"))
    assert command_dashes >= len(command)


def test_numbers_without_exponent_notation():
    assert compact_number(5.47e8) == "547M"
    assert compact_number(38_500.0) == "38.5k"
    assert compact_number(5_059.0) == "5.06k"  # one format down a column: 5.06k beside 39.2k
    assert compact_number(12.34) == "12.3"
    assert compact_number(4.41e-5) == "0.000044"
    assert compact_number(0.0) == "0"
    assert scientific(1.5e-7) == "1.5\u00a0×\u00a010⁻⁷"  # never split at a line end
    assert scientific(0.0) == "0"
    assert escape_markdown("a_b") == r"a\_b"


def test_p_values_print_three_decimals_or_a_bound():
    from a2dl.report import p_value

    assert p_value(0.7781) == "*p*\u00a0=\u00a00.778"  # non-breaking: never "p =" / "0.778"
    assert p_value(0.00002) == "*p*\u00a0<\u00a00.001"
    assert p_value(0.00002, label="") == "<\u00a00.001"
    assert p_value(0.05, label="") == "0.050"


def test_missing_values_print_as_a_dash_never_nan():
    import numpy as np
    import pandas as pd

    from a2dl.report import markdown_table

    frame = pd.DataFrame({"name": ["a", "b"], "delta": [np.nan, 1.25], "p": [None, "0.5"]})
    table = str(markdown_table(frame, floatfmt=("", "+.1f", "")).data)
    assert "nan" not in table.lower() and "None" not in table
    assert table.count("—") == 2 and "+1.2" in table


def test_numbers_written_as_text_align_right():
    frame = pd.DataFrame({"series": ["a", "b"], "share": ["8.6%", "10.6%"], "rows": ["5.06k", "—"]})
    rule = str(markdown_table(frame).data).splitlines()[1]
    cells = rule.strip("|").split("|")
    assert cells[0].startswith(":") and not cells[0].endswith(":")  # text stays left
    assert cells[1].endswith(":") and cells[2].endswith(":")


def test_bounds_and_ranges_align_right_like_numbers():
    frame = pd.DataFrame({"p": ["0.421", "<\u00a00.001"], "interval": ["0.501–0.643", "0.1–0.2"]})
    cells = str(markdown_table(frame).data).splitlines()[1].strip("|").split("|")
    assert all(cell.endswith(":") for cell in cells)


def test_numbers_beside_a_blank_total_cell_align_right():
    # a total row leaves the per-layer widths blank: the column still holds numbers
    frame = pd.DataFrame({"layer": ["a", "Total"], "in": [1000, ""], "name": ["x", ""]})
    rule = str(markdown_table(frame).data).splitlines()[1]
    cells = rule.strip("|").split("|")
    assert cells[1].endswith(":") and not cells[2].endswith(":")


def test_nowrap_columns_break_names_only_before_their_parenthetical():
    frame = pd.DataFrame({"model": ["VGG-11 (½ width, BN)", "ResNet-20"], "note": ["a b", "c"]})
    lines = str(markdown_table(frame, nowrap=("model",)).data).splitlines()
    first = lines[2].strip("|").split("|")[0].strip()
    assert first.split(" ") == ["VGG\u201111", "(½\u00a0width,\u00a0BN)"]
    assert "-" not in lines[3].strip("|").split("|")[0]  # ResNet‑20 never breaks at its hyphen
    # the column is sized to the longer of the two unbreakable parts
    assert lines[1].strip("|").split("|")[0].count("-") >= len("(½ width, BN)")


def test_spoken_list_joins_as_prose():
    assert spoken_list(["A"]) == "A"
    assert spoken_list(["A", "B"]) == "A and B"
    assert spoken_list(iter(["A", "B", "C"])) == "A, B and C"


def test_comparisons_follow_the_printed_rounding():
    assert more_or_less(63.24, 60.66) == "above"
    assert more_or_less(60.5, 60.66) == "below"
    assert more_or_less(60.66, 60.69) == "level with"  # both print as 60.7


def test_one_number_style():
    from a2dl.report import count, percent, points, small_number, tex_count

    # rates and accuracies: per cent with one decimal; differences in points
    assert (
        percent(0.9061) == "90.6%" and percent(0.5) == "50.0%" and percent(0.91245, 2) == "91.25%"
    )
    assert points(0.9167 - 0.7526) == "16.4"
    # counts: thousands separators, in maths as in prose
    assert count(50_000) == "50,000" and count(1000.0) == "1,000" and count(32) == "32"
    assert tex_count(1000) == r"\text{1,000}"
    # one scientific notation: no trailing zeros in the mantissa, so one value reads one way
    assert scientific(5e-4) == scientific(5e-4, 0) == "5\u00a0×\u00a010⁻⁴"
    assert scientific(1.19e-7) == "1.2\u00a0×\u00a010⁻⁷"
    assert scientific(1e-7) == "1\u00a0×\u00a010⁻⁷"
    # hyperparameters: plain from 0.01 up, scientific below
    assert small_number(0.1) == "0.1" and small_number(0.05) == "0.05"
    assert small_number(0.0988) == "0.099" and small_number(0.1035) == "0.1"
    assert small_number(0.009) == "9\u00a0×\u00a010⁻³"
    assert small_number(0.000561) == "5.6\u00a0×\u00a010⁻⁴"
    assert small_number(5e-4) == scientific(5e-4) and small_number(0) == "0"
    assert small_number(1234.0) == "1,234"


def test_shares_read_as_prose_says_them():
    from a2dl.report import share_of

    assert f"reduce it to {share_of(0.5)} its width" == "reduce it to half its width"
    assert share_of(0.25) == "a quarter of" and share_of(0.6) == "0.6 of"


def test_written_scientific_numbers_align_right_in_tables():
    frame = pd.DataFrame({"lr": [scientific(5e-4), "0.1"], "name": ["a", "b"]})  # no-break spaces
    header, rule, *_ = markdown_table(frame).data.splitlines()
    assert rule.split("|")[1].strip().endswith(":")  # right-aligned like numbers
    assert not rule.split("|")[2].strip().endswith(":")


def test_command_tables_list_every_entry_of_the_cli(tmp_path):
    from a2dl import cli
    from a2dl.report import command_table

    table = command_table(cli.EXPERIMENTS, "python -m a2dl train")
    assert table["command"].tolist() == [f"`python -m a2dl train {n}`" for n in cli.EXPERIMENTS]
    shown = markdown_table(table, markdown_columns=("command", "what it does")).data
    assert "`python -m a2dl train sentiment-pretrain`" in shown  # code, not escaped backticks


def test_the_artefact_table_merges_rows_that_differ_only_in_a_model_name(tmp_path):
    from a2dl.report import artefact_table

    for name in ("nab_dense.pt", "nab_lstm.pt", "nab_selection.json", "cifar10_vit.pt"):
        (tmp_path / name).write_bytes(b"x" * 1000)
    table = artefact_table(tmp_path).set_index("command")
    anomaly = table.loc["`train anomaly`"]
    assert anomaly["writes"] == "`nab_<model>.pt`, `nab_selection.json`"  # histories implied
    assert anomaly["reads"] == "NAB" and anomaly["MB"] == "< 0.1"
    vision = table.loc["`train vision-<name>`"]
    assert vision["writes"] == "`cifar10_<name>.pt`"
    assert vision["MB"] == "< 0.1"
    assert "`nab_streaming_<model>.pt`" in table.loc["`train nab-detector`", "reads"]
    assert "`bench report`" not in table.index  # writes nothing


def test_names_in_nowrap_columns_break_only_where_they_may():
    from a2dl.report import NO_BREAK_SPACE, NON_BREAKING_HYPHEN, _unbroken

    assert _unbroken("VGG-11 (½ width, BN)") == (
        f"VGG{NON_BREAKING_HYPHEN}11 (½{NO_BREAK_SPACE}width,{NO_BREAK_SPACE}BN)"
    )
    long = _unbroken("EfficientNet-B0 (½ width, no dropout or stochastic depth)")
    assert long.startswith(f"EfficientNet{NON_BREAKING_HYPHEN}B0 (½ width, no dropout")
    assert _unbroken("SGD, Nesterov 0.9") == f"SGD,{NO_BREAK_SPACE}Nesterov{NO_BREAK_SPACE}0.9"
