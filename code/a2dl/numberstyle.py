"""The report's one number style, in one place (and light: no torch, no IPython).

Every number a chapter prints goes through one of these, so that one quantity always reads one
way, in prose, tables, equations and figures alike:

- rates and accuracies are percentages with one decimal (:func:`percent`), and differences of
  them percentage points with one decimal (:func:`points`);
- counts carry thousands separators (:func:`count`; :func:`tex_count` inside maths);
- small values are written in one scientific notation (:func:`scientific`), and
  hyperparameters switch to it below 0.01 (:func:`small_number`).
"""

from __future__ import annotations

SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def scientific(value: float, digits: int = 1) -> str:
    """1.5 × 10⁻⁷ rather than Python's 1.5e-07 (joined by no-break spaces), with the
    mantissa's trailing zeros dropped (5 × 10⁻⁴, never 5.0 × 10⁻⁴); exactly zero stays 0."""
    if value == 0:
        return "0"
    mantissa, exponent = f"{value:.{digits}e}".split("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    # no-break spaces: the number never splits at the line's end ("1.5 ×" / "10⁻⁷")
    return f"{mantissa}\u00a0×\u00a010{str(int(exponent)).translate(SUPERSCRIPTS)}"


def small_number(value: float, significant: int = 2) -> str:
    """A hyperparameter such as a learning rate or a weight decay: plain decimals from 0.01 up
    (0.1, 0.05, 0.099), :func:`scientific` below (9 × 10⁻³, 5.6 × 10⁻⁴), ``significant``
    digits at most and no trailing zeros. One value always prints one way."""
    if value == 0:
        return "0"
    if abs(value) < 0.01:
        return scientific(value, significant - 1)
    if abs(value) >= 100:
        return count(value)
    return f"{float(f'{value:.{significant}g}'):g}"


def percent(value: float, digits: int = 1) -> str:
    """A fraction as a percentage with one decimal: 0.9061 → 90.6%."""
    return f"{value:.{digits}%}"


def points(value: float, digits: int = 1) -> str:
    """A difference of two fractions in percentage points, without the unit: 0.0106 → 1.1."""
    return f"{value * 100:.{digits}f}"


def count(value: float) -> str:
    """A count with thousands separators: 50000 → 50,000."""
    return f"{round(value):,}"


def tex_count(value: float) -> str:
    """A count inside LaTeX maths, as the prose writes it: \\text{1,000} (a bare 1,000 in
    maths would be read as a list, and 1000 would differ from the prose's 1,000)."""
    return rf"\text{{{count(value)}}}"


SPOKEN_FRACTIONS = {0.25: "a quarter of", 0.5: "half", 0.75: "three quarters of"}


def share_of(value: float) -> str:
    """A simple fraction as prose says it before "its width": "half", "a quarter of"; any
    other share as a decimal with "of" ("0.6 of"), so the sentence reads either way."""
    return SPOKEN_FRACTIONS.get(value, f"{value:g} of")
