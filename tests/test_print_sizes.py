"""Figures read at the size they are printed: no text below 7 pt once the page has scaled the
image to the text width, legends inside the figure's width, and series colours that stay
apart for colour-blind readers. Built from small synthetic inputs, so no data are needed."""

from __future__ import annotations

import re
import shutil
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from a2dl import plots
from a2dl.report import plotting_style
from a2dl.vision import registry

TITLES = [entry.title for entry in registry.MODELS.values()]  # the longest legend entries


@pytest.fixture(autouse=True)
def _style() -> None:
    plotting_style()


def _history(epochs: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = {"epoch": np.arange(1, epochs + 1)}
    for split in ("train", "val"):
        frame[f"{split}_loss"] = np.linspace(2, 0.5, epochs) + rng.random(epochs) * 0.1
        frame[f"{split}_accuracy"] = np.linspace(0.3, 0.9, epochs)
    return pd.DataFrame(frame)


def _range_test(optimizer: str) -> dict:
    lrs = np.geomspace(1e-5, 1, 50)
    return {"lr": lrs, "smoothed_loss": 2.3 - np.sin(np.linspace(0, 3, 50)), "optimizer": optimizer}


def _nab_series(name: str = "realKnownCause/machine_temperature_system_failure.csv"):
    """A stand-in for a prepared NAB series: the attributes the Part II figures read."""
    rows = 600
    labels = np.zeros(rows, dtype=bool)
    labels[400:450] = True
    instants = np.zeros(rows, dtype=bool)
    instants[520] = True
    values = np.sin(np.linspace(0, 30, rows))
    return SimpleNamespace(
        name=name,
        timestamps=pd.Series(pd.date_range("2014-01-01", periods=rows, freq="5min")),
        values=values,
        scaled=values,
        labels=labels,
        instants=instants,
        validation_start=360,
        test_start=480,
    )


def _scores(series) -> tuple[np.ndarray, np.ndarray]:
    ends = np.arange(series.test_start + 63, len(series.values), 4)
    return ends, np.linspace(0.1, 3.0, len(ends))


NAB_NAMES = [
    "realKnownCause/ec2_request_latency_system_failure",
    "realAWSCloudwatch/ec2_disk_write_bytes_1ef3de",
] * 8

FIGURES = {
    "NAB series with windows (Fig. 2.2)": lambda: plots.plot_series_with_windows(
        [_nab_series() for _ in range(4)]
    ),
    "irregular sampling (Fig. 2.1)": lambda: plots.plot_irregularity(
        pd.DataFrame(
            {
                "category": [n.split("/")[0] for n in NAB_NAMES[:15]],
                "series": [n.split("/")[1] for n in NAB_NAMES[:15]],
                "irregular intervals": np.linspace(0.6, 0.0, 15),
            }
        )
    ),
    "inside and outside windows (Part II)": lambda: plots.plot_inside_outside(
        pd.DataFrame(
            {
                "category": np.repeat(["realKnownCause", "realAWSCloudwatch"], 50),
                "scaled": np.random.default_rng(0).normal(size=100),
                "window": np.tile(["inside", "outside"], 50),
            }
        )
    ),
    "detector on series (Part II)": lambda: plots.plot_detector_on_series(
        [("works", s, *_scores(s)) for s in (_nab_series(), _nab_series())], threshold=1.0
    ),
    "review statistics (Fig. 4.1)": lambda: plots.plot_review_statistics(
        pd.Series(np.arange(1, 401) * 3),
        pd.Series(np.tile([0, 1], 200)),
        pd.Series(1000 / np.arange(1, 2001)),
        vocabulary_size=1000,
    ),
    "polar words (Fig. 4.3)": lambda: plots.plot_polar_words(
        pd.DataFrame(
            {"word": [f"unwatchable{i}" for i in range(24)], "log_odds": np.linspace(-4, 3, 24)}
        )
    ),
    "confusion and ROC curves (Part IV)": lambda: plots.plot_confusion_and_roc(
        np.array([[3368, 337], [405, 3328]]),
        ["negative", "positive"],
        {
            name: (np.linspace(0, 1, 20), np.linspace(0, 1, 20) ** 0.3, 0.964)
            for name in ("Transformer", "TF-IDF + logistic regression")
        },
    ),
    "two-class confusion (Parts II, IV)": lambda: plots.plot_confusion(
        np.array([[9000, 400], [150, 350]]), ["normal", "anomalous"]
    ),
    "saturation (Fig. 3.1)": lambda: plots.plot_saturation(
        pd.DataFrame(
            [
                {"scaling": s, "d_k": d, "entropy": 0.5, "jacobian_norm": 0.3}
                for s in ("without 1/√d_k", "with 1/√d_k")
                for d in (4, 16, 64)
            ]
        )
    ),
    "attention map (Figs. 3.3, 3.4)": lambda: plots.plot_attention_map(
        np.full((40, 40), 1 / 40), [f"word{i}" for i in range(40)], queries=["q"] * 40
    ),
    "range tests (Fig. 5.1)": lambda: plots.plot_lr_range(
        {t: _range_test("sgd") for t in TITLES}, {t: 1e-2 for t in TITLES}
    ),
    "training curves (Fig. 5.2)": lambda: plots.plot_training_curves(
        {t: _history() for t in TITLES}
    ),
    "cost and accuracy (Fig. 5.3)": lambda: plots.plot_cost_accuracy(
        pd.DataFrame(
            {
                "model": TITLES,
                "epochs": [23, 50, 42, 69],
                "images_per_second": [442.0, 1370.0, 723.0, 3541.0],
                "test_accuracy": [0.75, 0.91, 0.92, 0.80],
            }
        )
    ),
    "confusion (Fig. 5.4)": lambda: plots.plot_confusion(
        np.full((10, 10), 100) + np.eye(10, dtype=int) * 800,
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"],
        title=TITLES[1],
    ),
    "position similarity (Fig. 5.5)": lambda: plots.plot_position_similarity(
        np.random.default_rng(0).normal(size=(64, 16)), 8
    ),
}


@pytest.mark.parametrize("name", list(FIGURES))
def test_no_text_prints_below_seven_points(name):
    fig = FIGURES[name]()
    assert plots.printed_text_size(fig) >= plots.SMALLEST_TEXT - 1e-9


@pytest.mark.parametrize("name", ["range tests (Fig. 5.1)", "training curves (Fig. 5.2)"])
def test_legends_of_long_model_names_stay_inside_the_figure(name):
    fig = FIGURES[name]()
    renderer = plots._renderer(fig)
    (legend,) = fig.legends
    assert legend.get_window_extent(renderer).width <= fig.bbox.width


def test_the_series_colours_of_a_comparison_stay_apart_for_colour_blind_readers():
    # Machado et al. (2009) simulation matrices at full severity, applied in linear RGB
    deficiencies = {
        "protanopia": [[0.152, 1.053, -0.205], [0.115, 0.786, 0.099], [-0.004, -0.048, 1.052]],
        "deuteranopia": [[0.367, 0.861, -0.228], [0.280, 0.673, 0.047], [-0.012, 0.043, 0.969]],
        "tritanopia": [[1.256, -0.077, -0.179], [-0.078, 0.931, 0.148], [0.005, 0.691, 0.304]],
    }

    def linear(colour: str) -> np.ndarray:
        c = np.array([int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])
        return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)

    def lab(rgb: np.ndarray) -> np.ndarray:
        rgb = np.clip(rgb, 0, 1)
        xyz = np.array(
            [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]
        )
        t = xyz @ rgb / np.array([0.95047, 1.0, 1.08883])
        f = np.where(t > 0.008856, np.cbrt(t), 7.787 * t + 16 / 116)
        return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])

    colours = plots.SERIES_COLOURS[: len(registry.MODELS)]  # one per bonus network
    for name, matrix in deficiencies.items():
        seen = [lab(np.array(matrix) @ linear(c)) for c in colours]
        closest = min(np.linalg.norm(a - b) for i, a in enumerate(seen) for b in seen[i + 1 :])
        assert closest > 15, f"two series colours nearly merge under {name} (ΔE {closest:.1f})"


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
@pytest.mark.parametrize("name", ["autoencoder_graph", "self_attention_graph"])
def test_graphs_print_at_full_size_within_the_text_width(name):
    from a2dl import graphs

    svg = getattr(graphs, name)()._repr_svg_()
    width = float(re.search(r'<svg[^>]*width="([\d.]+)pt"', svg)[1])
    scale = float(re.search(r"scale\(([\d.]+) ", svg)[1])
    texts = re.findall(r'<text[^>]*font-size="([\d.]+)"[^>]*>([^<]*)</text>', svg)
    smallest = min(float(size) for size, content in texts if content.strip())
    assert width <= plots.TEXT_WIDTH * 72, "wider than the text: the page would shrink it"
    assert smallest * scale >= plots.SMALLEST_TEXT, f"{smallest} pt text drawn at {scale:.2f}"


def test_a_legend_below_fills_its_rows_evenly():
    from collections import Counter

    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    fig = Figure(figsize=(6.4, 2.5))  # Part II's five models and two line styles
    fig.subplots()
    names = ["dense", "Conv1D", "LSTM", "variational", "linear", "training", "validation"]
    handles = [Line2D([], [], label=name) for name in names]
    legend = plots.legend_below(fig, handles)
    fig.canvas.draw()  # lays the entries out
    renderer = fig.canvas.get_renderer()
    rows = Counter(round(t.get_window_extent(renderer).y0) for t in legend.get_texts())
    assert len(rows) > 1, "the seven entries do not fit one row: the test needs two"
    assert max(rows.values()) - min(rows.values()) <= 1, f"uneven rows: {sorted(rows.values())}"
    assert legend.get_window_extent(renderer).width <= fig.bbox.width


def test_shares_on_an_axis_read_as_per_cent():
    from matplotlib.figure import Figure

    fig = Figure()
    ax = fig.subplots()
    ax.plot([0, 1], [0.955, 0.98])
    ax.set_ylabel("accuracy")
    plots.percent_axis(ax.yaxis)
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert "95.5" in labels and ("97.5" in labels or "98" in labels), labels
    assert ax.get_ylabel() == "accuracy (%)"


def test_a_log_axis_within_two_decades_has_more_than_one_label():
    from matplotlib.figure import Figure

    fig = Figure()
    ax = fig.subplots()
    ax.semilogy([0, 1], [0.3, 3.0])
    plots._label_log_axis(ax.yaxis, *ax.get_ylim())
    fig.canvas.draw()
    labels = [
        t.get_text() for t in ax.get_yticklabels(minor=False) + ax.get_yticklabels(minor=True)
    ]
    shown = [label for label in labels if label]
    assert len(shown) >= 3, shown
