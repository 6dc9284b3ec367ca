"""Every plotted figure of the report comes from a function here that returns a matplotlib
Figure (the Graphviz graphs come from :mod:`a2dl.graphs`).

Chapters only call these; the look is set once by :func:`a2dl.report.plotting_style`.
Figures are built without pyplot, so that no global figure is left open: a chapter cell that
returns one displays it exactly once (pyplot's inline backend would show it a second time).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

# Colours that stay apart in print and for colour-blind readers (Okabe–Ito): one per model of a
# comparison, in order; RED marks what captions call red (anomaly windows, cut-offs). The first
# four are the Okabe–Ito colours that stay furthest apart (CIELAB ΔE ≥ 17) under simulated
# protanopia, deuteranopia and tritanopia (Machado et al. 2009) and differ in lightness, so
# that they also differ in grey: blue, orange, black, reddish purple. (Blue and bluish green,
# first and third before, nearly merge for deuteranopes.)
SERIES_COLOURS = ("#0072B2", "#E69F00", "#000000", "#CC79A7", "#56B4E9", "#D55E00")
SERIES_MARKERS = ("o", "s", "^", "D", "v", "P")
RED = "#C62828"
# legend text in points at the printed size (figures are drawn about 6.4 in wide; wider than
# TEXT_WIDTH once cropped to their ink, they print shrunk: printed_text_size checks)
LEGEND_SIZE = 8
# the smallest text a figure may print, in points, and the width it prints at (inches)
SMALLEST_TEXT = 7.0
TEXT_WIDTH = 6.14  # the text block of the rendered book (US letter, orange-book margins)


def _label_log_axis(axis, low: float, high: float) -> None:
    """A log axis labelled at its decades, and also at 2 and 5 times them when it spans under
    two decades, where the decades alone leave one label or none. Minor labels elsewhere
    would overlap."""
    if np.log10(high / low) < 2:
        axis.set_minor_locator(LogLocator(subs=(2.0, 5.0)))
        for set_formatter in (axis.set_major_formatter, axis.set_minor_formatter):
            set_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    else:
        axis.set_minor_formatter(NullFormatter())


def percent_axis(axis) -> None:
    """Ticks of a share (0 to 1) written as per cent, the way the text and tables write it:
    0.955 reads 95.5. The axis label says "(%)"."""
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{100 * value:.4g}"))
    axis.set_label_text(f"{axis.get_label_text()} (%)")


def _renderer(fig: Figure):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = fig.canvas if hasattr(fig.canvas, "get_renderer") else FigureCanvasAgg(fig)
    return canvas.get_renderer()


def legend_below(fig: Figure, handles: list, *, gap: float = 0.02):
    """One legend for the whole figure, below its axes, in as few rows as fit the figure's
    width, filled evenly (seven entries in rows of four and three, never six and one): a
    legend wider than the figure would widen the saved image (``bbox: tight``), and the page
    would then shrink all of its text. The axes make room for it."""
    renderer = _renderer(fig)
    for columns in dict.fromkeys(
        math.ceil(len(handles) / rows) for rows in range(1, len(handles) + 1)
    ):
        legend = fig.legend(
            handles=handles,
            loc="lower center",
            ncol=columns,
            frameon=False,
            fontsize=LEGEND_SIZE,
            borderaxespad=0.2,
        )
        if legend.get_window_extent(renderer).width <= 0.98 * fig.bbox.width or columns == 1:
            break
        legend.remove()
    height = legend.get_window_extent(renderer).height / fig.bbox.height
    fig.tight_layout(rect=(0, height + gap, 1, 1))
    return legend


def printed_text_size(fig: Figure, text_width: float = TEXT_WIDTH) -> float:
    """The smallest text of ``fig`` in points as printed: its font size times the factor by
    which the page shrinks the saved image (``bbox: tight``) to fit ``text_width`` inches."""
    renderer = _renderer(fig)
    fig.draw(renderer)
    width = fig.get_tightbbox(renderer).width + 2 * 0.1  # inches, with savefig's padding
    scale = min(1.0, text_width / width)
    sizes = [
        text.get_fontsize()
        for text in fig.findobj(Text)
        if text.get_visible() and text.get_text().strip() and text.get_window_extent(renderer).width
    ]
    return min(sizes) * scale


def plot_saturation(frame: pd.DataFrame) -> Figure:
    """Attention entropy and softmax-gradient size against d_k, with and without scaling."""
    fig = Figure(figsize=(6.4, 2.7))
    axes = fig.subplots(1, 2, sharex=True)
    panels = (
        ("entropy", "normalised entropy of the weights\n(1 = uniform, 0 = one-hot)"),
        ("jacobian_norm", "size of the softmax gradient\n$\\|\\mathrm{diag}(a) - a a^\\top\\|_F$"),
    )
    for ax, (column, label) in zip(axes, panels, strict=True):
        sns.lineplot(
            frame,
            x="d_k",
            y=column,
            hue="scaling",
            style="scaling",
            markers=True,
            dashes=False,
            ax=ax,
            legend=ax is axes[0],
        )
        ax.set_xscale("log", base=2)
        ax.set_xlabel("key dimension $d_k$")
        ax.set_ylabel(label)
        ax.set_ylim(bottom=0)
    handles, labels = axes[0].get_legend_handles_labels()
    axes[0].get_legend().remove()
    for handle, label in zip(handles, labels, strict=True):
        handle.set_label(label)
    legend_below(fig, handles)
    return fig


def plot_attention_map(
    weights: np.ndarray, tokens: list[str], *, title: str = "", queries: list[str] | None = None
) -> Figure:
    """Attention weights (queries × tokens) as a heat map with the tokens on the x axis.

    The colour scale starts at zero, so that a shade is proportional to a weight (a scale from
    the smallest weight would make a nearly even row look selective); a line on the colour bar
    marks the even share 1/tokens that every weight would have under uniform attention."""
    weights = np.atleast_2d(weights)
    height = min(max(2.2, 0.9 + 0.2 * weights.shape[0]), 6.4)
    fig = Figure(figsize=(6.4, height))
    ax = fig.subplots()
    sns.heatmap(
        weights,
        ax=ax,
        cmap="magma_r",
        vmin=0,
        cbar_kws={"label": "attention weight"},
        xticklabels=tokens,
        yticklabels=queries or False,
    )
    colorbar = ax.collections[0].colorbar
    even = 1 / weights.shape[1]
    colorbar.ax.axhline(even, color=SERIES_COLOURS[0], lw=3.5)  # the captions call it blue
    ax.set_xticklabels(tokens, rotation=90, fontsize=SMALLEST_TEXT + 1)
    if queries:
        ax.set_yticklabels(queries, rotation=0, fontsize=SMALLEST_TEXT + 1)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_review_statistics(
    words: pd.Series,
    labels: pd.Series,
    counts: pd.Series,
    *,
    vocabulary_size: int | None = None,
    cut: int = 1000,
) -> Figure:
    """Two views of the reviews side by side: length in words per class (left), and token
    frequency against rank on log–log axes with Zipf's line and the vocabulary cut-off
    (right). One figure, because the text reads them together."""
    fig = Figure(figsize=(6.4, 2.7))
    lengths, zipf = fig.subplots(1, 2)
    frame = pd.DataFrame(
        {"words": words.clip(upper=cut), "class": labels.map({0: "negative", 1: "positive"})}
    )
    sns.histplot(frame, x="words", hue="class", bins=60, element="step", stat="count", ax=lengths)
    lengths.set_xlabel(f"words per review (longer counted at {cut:,})")
    lengths.set_ylabel("reviews")
    ranked = np.sort(counts.to_numpy())[::-1]
    ranks = np.arange(1, len(ranked) + 1)
    zipf.loglog(ranks, ranked, lw=1.2)
    zipf.loglog(ranks, ranked[0] / ranks, ls="--", lw=0.8, color="grey", label="f ∝ 1/rank")
    if vocabulary_size:
        zipf.axvline(vocabulary_size, color=RED, lw=0.8, label=f"cut-off ({vocabulary_size:,})")
    zipf.set_xlabel("rank of the token")
    zipf.set_ylabel("occurrences (training split)")
    zipf.legend(fontsize=LEGEND_SIZE)
    fig.tight_layout()
    return fig


def plot_polar_words(table: pd.DataFrame) -> Figure:
    """Horizontal bars of log-odds: negative words to the left, positive to the right."""
    fig = Figure(figsize=(6.4, 3.8))
    ax = fig.subplots()
    colours = np.where(table["log_odds"] > 0, "C2", "C3")
    ax.barh(table["word"], table["log_odds"], color=colours)
    ax.axvline(0, color="black", lw=0.6)
    ax.set_xlabel("log-odds of appearing in a positive rather than a negative review")
    ax.tick_params(axis="y", labelsize=SMALLEST_TEXT + 1)
    fig.tight_layout()
    return fig


def plot_training_curves(
    histories: dict[str, pd.DataFrame],
    *,
    metrics: tuple[str, ...] = ("loss", "accuracy"),
    best_epochs: dict[str, int] | None = None,
    split_labels: tuple[str, str] = ("training", "validation"),
) -> Figure:
    """Training (dashed) and validation (solid) curves per epoch: one panel per metric, one
    colour per model; with several models the legend goes below the panels.
    ``split_labels`` names the two curves in the legend."""
    fig = Figure(figsize=(6.4, 2.8 if len(histories) == 1 else 3.3))
    axes = fig.subplots(1, len(metrics), squeeze=False)
    for ax, metric in zip(axes[0], metrics, strict=True):
        for i, (name, history) in enumerate(histories.items()):
            for split, style in (("train", "--"), ("val", "-")):
                colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
                ax.plot(history["epoch"], history[f"{split}_{metric}"], color=colour, ls=style)
            if best_epochs and name in best_epochs:
                ax.axvline(best_epochs[name], color=SERIES_COLOURS[i % 6], lw=0.6, ls=":")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        if "accuracy" in metric:
            percent_axis(ax.yaxis)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    styles = [
        Line2D([], [], color="grey", ls="--", label=split_labels[0]),
        Line2D([], [], color="grey", ls="-", label=split_labels[1]),
    ]
    if len(histories) == 1:
        axes[0][0].legend(handles=styles, fontsize=LEGEND_SIZE)
        fig.tight_layout()
        return fig
    models = [
        Line2D([], [], color=SERIES_COLOURS[i % len(SERIES_COLOURS)], label=name)
        for i, name in enumerate(histories)
    ]
    legend_below(fig, models + styles)
    return fig


def _draw_confusion(ax, matrix: np.ndarray, labels: list[str], *, title: str = "") -> None:
    """Counts with the share of each true class in brackets; with many classes, the share of
    each true class alone (in per cent), so that the cells stay legible."""
    many = len(labels) > 4
    shares = matrix / matrix.sum(axis=1, keepdims=True)
    annotations = np.array(
        [
            [
                f"{share * 100:.0f}" if many else f"{count:,}\n({share:.1%})"
                for count, share in zip(row, srow, strict=True)
            ]
            for row, srow in zip(matrix, shares, strict=True)
        ]
    )
    sns.heatmap(
        shares,
        annot=annotations,
        fmt="",
        cmap="Blues",
        cbar=False,
        ax=ax,
        xticklabels=labels,
        yticklabels=labels,
        vmin=0,
        vmax=1,
    )
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)


def plot_confusion(matrix: np.ndarray, labels: list[str], *, title: str = "") -> Figure:
    """A confusion matrix (see :func:`_draw_confusion`)."""
    fig = Figure(figsize=(4.4, 3.7) if len(labels) > 4 else (2.9, 2.5))
    _draw_confusion(fig.subplots(), matrix, labels, title=title)
    fig.tight_layout()
    return fig


def plot_confusion_and_roc(
    matrix: np.ndarray,
    labels: list[str],
    curves: dict[str, tuple[np.ndarray, np.ndarray, float]],
) -> Figure:
    """A classifier's test confusion matrix (left) and its ROC curve beside others' (right):
    curves maps a name to (false-positive rates, true-positive rates, AUC). One figure,
    because the text reads them together."""
    fig = Figure(figsize=(6.4, 3.2))
    confusion, roc = fig.subplots(1, 2, gridspec_kw={"width_ratios": (1, 1.1)})
    _draw_confusion(confusion, matrix, labels)
    for name, (fpr, tpr, auc) in curves.items():
        roc.plot(fpr, tpr, label=f"{name} (AUC {auc:.3f})")
    roc.plot([0, 1], [0, 1], ls=":", color="grey", lw=0.8)
    roc.set_xlabel("false-positive rate")
    roc.set_ylabel("true-positive rate")
    roc.set_aspect("equal")
    fig.tight_layout()
    legend_below(fig, roc.get_legend_handles_labels()[0])  # below the axes, never over a curve
    return fig


def plot_series_with_windows(series_list: list, *, columns: int = 2) -> Figure:
    """Small multiples of NAB series with their labelled anomaly windows shaded."""
    rows = -(-len(series_list) // columns)
    fig = Figure(figsize=(5.8, 1.6 * rows))
    axes = fig.subplots(rows, columns, squeeze=False)
    for ax, series in zip(axes.flat, series_list, strict=False):
        ax.plot(series.timestamps, series.values, lw=0.5, color="C0")
        inside = series.labels.astype(int)
        edges = np.flatnonzero(np.diff(np.concatenate([[0], inside, [0]])))
        for start, stop in zip(edges[::2], edges[1::2], strict=True):
            ax.axvspan(
                series.timestamps.iloc[start],
                series.timestamps.iloc[stop - 1],
                color=RED,
                alpha=0.25,
                lw=0,
            )
        for boundary in (series.validation_start, series.test_start):
            ax.axvline(series.timestamps.iloc[boundary], color="black", lw=0.6, ls=":")
        ax.set_title(series.name.removesuffix(".csv"), fontsize=SMALLEST_TEXT + 1)
        ax.tick_params(labelsize=SMALLEST_TEXT)
        ax.xaxis.set_major_locator(MaxNLocator(3))
    for ax in list(axes.flat)[len(series_list) :]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def plot_inside_outside(frame: pd.DataFrame) -> Figure:
    """Scaled values inside versus outside anomaly windows, per category (frame: category,
    scaled, window)."""
    fig = Figure(figsize=(6.4, 3.0))
    ax = fig.subplots()
    sns.boxplot(
        frame,
        x="scaled",
        y="category",
        hue="window",
        fliersize=0.5,
        linewidth=0.6,
        ax=ax,
        whis=(1, 99),
    )
    ax.set_xlabel("value scaled by the series’ train median and inter-quartile range (clipped)")
    ax.set_ylabel("")
    ax.tick_params(axis="y", labelsize=SMALLEST_TEXT + 1)
    handles = ax.get_legend_handles_labels()[0]
    ax.get_legend().remove()
    fig.tight_layout()
    legend_below(fig, handles)  # below the axes, never over a whisker
    return fig


def plot_irregularity(per_series: pd.DataFrame) -> Figure:
    """Share of sampling intervals that differ from each series' typical interval."""
    ordered = per_series.sort_values("irregular intervals", ascending=False).head(15)
    fig = Figure(figsize=(6.4, 3.6))
    ax = fig.subplots()
    ax.barh(
        ordered["category"] + "/" + ordered["series"], ordered["irregular intervals"], color="C1"
    )
    ax.invert_yaxis()
    ax.set_xlabel("intervals that differ from the series’ median interval")
    percent_axis(ax.xaxis)
    ax.tick_params(axis="y", labelsize=SMALLEST_TEXT + 1)
    fig.tight_layout()
    return fig


def plot_position_similarity(embeddings: np.ndarray, side: int) -> Figure:
    """For each patch position (one small map per position, laid out as in the image), the
    cosine similarity of its learned position embedding to every other position's."""
    unit = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    similarity = unit @ unit.T
    fig = Figure(figsize=(3.6, 3.8))
    axes = fig.subplots(side, side)
    for index, ax in enumerate(axes.flat):
        image = ax.imshow(similarity[index].reshape(side, side), cmap="viridis", vmin=-1, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.subplots_adjust(left=0.02, right=0.86, top=0.98, bottom=0.02, wspace=0.08, hspace=0.08)
    bar = fig.add_axes((0.89, 0.2, 0.025, 0.6))
    fig.colorbar(image, cax=bar, label="cosine similarity")
    return fig


def plot_cost_accuracy(table: pd.DataFrame, threads: int = 2) -> Figure:
    """Test accuracy against the epochs one training budget bought and against inference speed,
    one point per model (``model``, ``epochs``, ``images_per_second``, ``test_accuracy``). With
    the budget equal for all, its epochs, not its minutes, tell the networks apart."""
    fig = Figure(figsize=(6.4, 2.3))
    axes = fig.subplots(1, 2, sharey=True)
    panels = (
        ("epochs", "training epochs within the budget"),
        ("images_per_second", f"inference (images/s, {threads} CPU threads)"),
    )
    for ax, (column, label) in zip(axes, panels, strict=True):
        for i, row in enumerate(table.itertuples()):
            colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
            marker = SERIES_MARKERS[i % len(SERIES_MARKERS)]
            ax.scatter(
                getattr(row, column), row.test_accuracy * 100, color=colour, marker=marker, s=30
            )
        ax.set_xlabel(label)
        ax.set_xlim(0, table[column].max() * 1.15)  # from zero, with room for the largest dot
        ax.margins(y=0.15)
        ax.xaxis.set_major_locator(MaxNLocator(5))
    axes[0].set_ylabel("test accuracy (%)")
    models = [
        Line2D(
            [],
            [],
            ls="",
            marker=SERIES_MARKERS[i % len(SERIES_MARKERS)],
            color=SERIES_COLOURS[i % len(SERIES_COLOURS)],
            label=m,
        )
        for i, m in enumerate(table["model"])
    ]
    legend_below(fig, models)
    return fig


def plot_lr_range(tests: dict[str, dict], chosen: dict[str, float]) -> Figure:
    """Smoothed training loss against the learning rate of each range test (log axis), with
    the peak each recipe uses (``chosen``, by the same keys) marked by a dot on its curve."""
    fig = Figure(figsize=(6.4, 2.3))
    ax = fig.subplots()
    for i, (title, test) in enumerate(tests.items()):
        colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        lrs, loss = np.asarray(test["lr"]), np.asarray(test["smoothed_loss"])
        optimiser = {"sgd": "SGD", "adamw": "AdamW"}[test["optimizer"]]
        marker = SERIES_MARKERS[i % len(SERIES_MARKERS)]
        ax.plot(lrs, loss, color=colour, lw=1, label=f"{title}: {optimiser}")
        peak = chosen[title]
        ax.plot(peak, np.interp(np.log(peak), np.log(lrs), loss), marker, color=colour, ms=5)
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("smoothed training loss")
    ax.set_ylim(top=max(test["smoothed_loss"][0] for test in tests.values()) + 0.4)
    # below the axes: inside, any corner covers the start or the blow-up of some curve
    handles = [
        Line2D(
            [],
            [],
            color=SERIES_COLOURS[i % len(SERIES_COLOURS)],
            marker=SERIES_MARKERS[i % len(SERIES_MARKERS)],
            ms=5,
            lw=1,
            label=line.get_label(),
        )
        for i, line in enumerate(ax.get_lines()[::2])
    ]
    legend_below(fig, handles)
    return fig


def plot_detector_on_series(
    panels: list[tuple[str, object, np.ndarray, np.ndarray]], threshold: float
) -> Figure:
    """A detector at work on whole series, one column each: the scaled values over the test
    part with the labelled anomaly instants (top), and the detector's relative score per
    window with the threshold and the windows it flags (bottom). ``panels`` holds, per
    series, its heading, its PreparedSeries, the window ends and their scores."""
    fig = Figure(figsize=(6.0, 3.4))
    axes = fig.subplots(2, len(panels), squeeze=False, sharex="col")
    for column, (heading, series, ends, scores) in enumerate(panels):
        top, bottom = axes[0, column], axes[1, column]
        rows = np.arange(series.test_start, len(series.values))
        top.plot(rows, series.scaled[rows], lw=0.6, color=SERIES_COLOURS[0])
        bottom.semilogy(ends, np.maximum(scores, 1e-3), lw=0.6, color="black")
        bottom.axhline(threshold, color=SERIES_COLOURS[1], lw=0.9, ls="--", label="threshold")
        flagged = scores >= threshold
        bottom.plot(ends[flagged], scores[flagged], "o", ms=2, color=SERIES_COLOURS[1],
                    label="flagged window")  # fmt: skip
        for instant in np.flatnonzero(series.instants[series.test_start :]) + series.test_start:
            for ax in (top, bottom):
                ax.axvline(instant, color=RED, lw=1.0, alpha=0.8)
        top.set_title(heading, fontsize=SMALLEST_TEXT + 1)
        top.set_ylabel("scaled value" if column == 0 else "")
        bottom.set_ylabel("relative score" if column == 0 else "")
        bottom.set_xlabel("row of the series")
        _label_log_axis(bottom.yaxis, *bottom.get_ylim())
        for ax in (top, bottom):
            ax.tick_params(which="both", labelsize=SMALLEST_TEXT)  # minor log labels too
            ax.xaxis.set_major_locator(MaxNLocator(4))
    handles = [Line2D([], [], color=RED, lw=1.0, label="labelled anomaly instant")]
    handles += axes[1, 0].get_legend_handles_labels()[0]
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=LEGEND_SIZE, frameon=False)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig
