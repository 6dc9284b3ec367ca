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


def labelled_windows_per_split(corpus: tuple[PreparedSeries, ...]) -> pd.Series:
    """How many NAB anomaly windows begin in each split."""
    counts = {"train": 0, "validation": 0, "test": 0}
    for series in corpus:
        starts = np.flatnonzero(np.diff(series.labels.astype(int), prepend=0) == 1)
        for start in starts:
            split = (
                "train"
                if start < series.validation_start
                else "validation"
                if start < series.test_start
                else "test"
            )
            counts[split] += 1
    return pd.Series(counts)
