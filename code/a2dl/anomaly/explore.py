"""Descriptive statistics of the NAB corpus for the Part II chapter."""

from __future__ import annotations

import numpy as np
import pandas as pd

from a2dl.anomaly.windows import PreparedSeries


def series_statistics(corpus: tuple[PreparedSeries, ...]) -> pd.DataFrame:
    """One row per series: size, sampling, gaps, missing values, range, labelled share."""
    rows = []
    for series in corpus:
        intervals = series.timestamps.diff().dt.total_seconds().dropna()
        typical = float(intervals.median())
        rows.append(
            {
                "category": series.category,
                "series": series.name.split("/")[1].removesuffix(".csv"),
                "rows": len(series.values),
                "interval (min)": typical / 60,
                "irregular intervals": float((intervals != typical).mean()),
                "missing values": int(np.isnan(series.values).sum()),
                "min": float(np.nanmin(series.values)),
                "max": float(np.nanmax(series.values)),
                "in anomaly windows": float(series.labels.mean()),
            }
        )
    return pd.DataFrame(rows)


def category_statistics(per_series: pd.DataFrame) -> pd.DataFrame:
    grouped = per_series.groupby("category")
    return pd.DataFrame(
        {
            "series": grouped.size(),
            "rows": grouped["rows"].sum(),
            "median interval (min)": grouped["interval (min)"].median(),
            "irregular intervals": grouped["irregular intervals"].mean(),
            "missing values": grouped["missing values"].sum(),
            "in anomaly windows": grouped.apply(
                lambda g: float((g["in anomaly windows"] * g["rows"]).sum() / g["rows"].sum()),
                include_groups=False,
            ),
        }
    ).reset_index()


def series_listing(per_series: pd.DataFrame) -> pd.DataFrame:
    """:func:`series_statistics` as the appendix prints it: shares as percentages, ranges and
    intervals in compact numbers, full series names."""
    from a2dl.report import compact_number, percent

    shown = per_series.drop(columns="missing values").assign(
        **{
            "irregular intervals": per_series["irregular intervals"].map(percent),
            "in anomaly windows": per_series["in anomaly windows"].map(percent),
            "min": per_series["min"].map(compact_number),
            "max": per_series["max"].map(compact_number),
            "interval (min)": per_series["interval (min)"].map(compact_number),
        }
    )
    return shown.rename(
        columns={"interval (min)": "interval (minutes)", "min": "lowest", "max": "highest"}
    )


def labelled_windows_per_split(corpus: tuple[PreparedSeries, ...]) -> pd.Series:
    """How many NAB anomaly windows begin in each split."""
    return _per_split(
        corpus, lambda s: np.flatnonzero(np.diff(s.labels.astype(int), prepend=0) == 1)
    )


def instants_per_split(corpus: tuple[PreparedSeries, ...]) -> pd.Series:
    """How many labelled anomaly instants fall in each split."""
    return _per_split(corpus, lambda s: np.flatnonzero(s.instants))


def _per_split(corpus: tuple[PreparedSeries, ...], rows_of) -> pd.Series:
    """How many of the rows that ``rows_of(series)`` returns fall in each split."""
    counts = {"train": 0, "validation": 0, "test": 0}
    for series in corpus:
        for row in rows_of(series):
            split = (
                "train"
                if row < series.validation_start
                else "validation"
                if row < series.test_start
                else "test"
            )
            counts[split] += 1
    return pd.Series(counts)
