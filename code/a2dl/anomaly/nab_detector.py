"""The streaming detector scored as NAB scores it: its constants chosen by two-fold
cross-validation over files, the effect of each lever, and NAB's results format.

NAB has no held-out part: entrants tune on the whole corpus and report that score. We report
it too, beside the honest one: the files are split in two halves (stratified by category),
the constants are chosen on one half and scored on the other, and the reverse, with the
detector flagging exactly the rows it alerts on (no threshold fitted to the scored files);
the two held-out halves together give the score on the scoreboard.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from a2dl import artefacts
from a2dl.anomaly.nab_scoring import (
    PROFILE_NAMES,
    Profile,
    ScoredFile,
    best_threshold,
    nab_results_frame,
    normalised,
    raw_score,
    results_path,
    row_rewards,
)
from a2dl.anomaly.streaming import (
    REFIT_EVERY,
    REFIT_ROWS,
    SOURCES,
    DetectorConstants,
    anomaly_scores,
    load_streaming,
    stream_errors,
)
from a2dl.artefacts import DEEP_ANOMALY_MODELS
from a2dl.cache import cached, file_digest
from a2dl.checkpoint import read_json, save_history

TUNING = "nab_detector.json"
ALL_LENGTHS = (64, 16)
# The constants tried; every combination is scored (864 in all).
GRID: dict[str, tuple] = {
    "lengths": ((64,), (64, 16)),
    "average_rows": (1, 5),
    "history": (1000, 3000, 8640),
    "tolerance": (None, 0.02, 0.05, 0.1),
    "alert_level": (0.999, 0.9999),
    "refractory_rows": (50, 100, 200),
    "source": SOURCES,
}
# The detector without the autoencoder: the spatial (range) check alone, its tolerance and
# refractory period chosen the same way, so that the autoencoder's own contribution is a number.
RANGE_CHECK_GRID: dict[str, tuple] = {
    "lengths": ((),),
    "average_rows": (1,),
    "history": (1000,),
    "tolerance": (0.0, 0.02, 0.05, 0.1),
    "alert_level": (0.999,),
    "refractory_rows": (50, 100, 200),
    "source": ("chosen",),
}
# Each lever added to the previous row (the first row is the detector before this work).
LEVERS: tuple[tuple[str, dict], ...] = (
    ("likelihood of the window error alone", {}),
    ("… and a range check (5% tolerance)", {"tolerance": 0.05}),
    ("… and a refractory period of 100 rows, not 200", {"refractory_rows": 100}),
    ("… and the error of the last 16 rows averaged in", {"lengths": (64, 16)}),
    ("… and a 5-row moving average of the error (Numenta)", {"average_rows": 5}),
    (
        f"… and fine-tuning every {REFIT_EVERY:,} rows on the last {REFIT_ROWS:,}",
        {"source": "refit"},
    ),
    ("… or, instead, the mean likelihood of the four architectures", {"source": "ensemble"}),
)


@dataclass(frozen=True)
class StreamedCorpus:
    """What scoring needs, computed once from the saved per-file autoencoders."""

    names: list[str]
    timestamps: list[pd.Series]
    values: list[np.ndarray]
    errors: dict[str, list[list[dict[int, np.ndarray]]]]  # by source, file, then model
    files: list[ScoredFile]

    def scores(self, constants: DetectorConstants, indices=None) -> list[np.ndarray]:
        indices = range(len(self.names)) if indices is None else indices
        errors = self.errors[constants.source]
        return [anomaly_scores(self.values[i], errors[i], constants) for i in indices]


@cache
def streamed_corpus() -> StreamedCorpus:
    from a2dl.anomaly.experiment import corpus, load_selection
    from a2dl.data import nab

    series = corpus()
    names = [s.name for s in series]
    values = [s.values for s in series]

    def errors_of(stem: str) -> list[dict[int, np.ndarray]]:
        """Every row's errors under the detectors ``stem``: minutes of inference on a CPU, so
        kept between renders by :mod:`a2dl.cache`, keyed by the weights file."""

        def compute() -> list[dict[int, np.ndarray]]:
            detectors, trained_on = load_streaming(stem)
            if trained_on != names:
                raise ValueError(f"{stem} was trained on another list of NAB files")
            return stream_errors(detectors, values, ALL_LENGTHS)

        weights = file_digest(artefacts.weights_path(stem))
        return cached("nab-stream-errors", compute, weights=weights, lengths=ALL_LENGTHS)

    by_model = {a: errors_of(artefacts.streaming_stem(a)) for a in DEEP_ANOMALY_MODELS}
    chosen = load_selection()["best"]
    windows = nab.load_windows()
    return StreamedCorpus(
        names=names,
        timestamps=[s.timestamps for s in series],
        values=values,
        errors={
            "chosen": [[e] for e in by_model[chosen]],
            "refit": [[e] for e in errors_of(artefacts.STREAMING_REFIT)],
            "ensemble": [list(files) for files in zip(*by_model.values(), strict=True)],
        },
        files=[row_rewards(s.timestamps, windows[s.name]) for s in series],
    )


@cache
def profiles() -> dict[str, Profile]:
    from a2dl.data import nab

    return {name: Profile.from_cost_matrix(name, m) for name, m in nab.load_profiles().items()}


def corpus_scores(scores: list[np.ndarray], files: list[ScoredFile]) -> dict[str, float]:
    """Normalised NAB score per profile, each at its own best threshold (NAB's protocol)."""
    return {
        name: normalised(best_threshold(scores, files, profile)[1], files, profile)
        for name, profile in profiles().items()
    }


def folds(names: list[str], seed: int = artefacts.SEED) -> list[list[int]]:
    """Two halves of the files: each category's files, shuffled (seeded), are dealt out one
    at a time to whichever half is smaller, so both halves hold every kind of series."""
    rng = np.random.default_rng(seed)
    halves: list[list[int]] = [[], []]
    for category in sorted({name.split("/")[0] for name in names}):
        members = [i for i, name in enumerate(names) if name.startswith(category + "/")]
        for index in rng.permutation(members):
            halves[int(len(halves[0]) > len(halves[1]))].append(int(index))
    return [sorted(half) for half in halves]


def grid(space: dict[str, tuple] = GRID) -> list[DetectorConstants]:
    keys = list(space)
    return [
        DetectorConstants(**dict(zip(keys, combo, strict=True)))
        for combo in itertools.product(*space.values())
    ]


def alert_raw(
    corpus: StreamedCorpus, constants: DetectorConstants, indices: list[int]
) -> dict[str, float]:
    """Raw NAB score per profile of the files ``indices`` when the detector flags exactly the
    rows it alerts on (score at least its alert level): no threshold is fitted to the files."""
    scores = corpus.scores(constants, indices)
    return {
        name: sum(
            raw_score(score >= constants.alert_level, corpus.files[i], profile)
            for score, i in zip(scores, indices, strict=True)
        )
        for name, profile in profiles().items()
    }


def tune(
    corpus: StreamedCorpus, indices: list[int], space: dict[str, tuple] = GRID
) -> tuple[DetectorConstants, float]:
    """The grid's constants with the best standard-profile score on the files ``indices``.
    Every lever can be off in the grid (no spatial check, one error length, no moving
    average), so choosing the constants on one half also chooses the levers there."""
    files = [corpus.files[i] for i in indices]
    standard = profiles()["standard"]
    scored = [
        (normalised(alert_raw(corpus, constants, indices)["standard"], files, standard), constants)
        for constants in grid(space)
    ]
    best_score, best = max(scored, key=lambda pair: pair[0])
    return best, best_score


def held_out(corpus: StreamedCorpus, per_fold: list[DetectorConstants]) -> dict[str, float]:
    """Normalised score per profile of every file, each scored with the constants chosen on
    the other half (``per_fold[k]`` for the files of half k)."""
    total = dict.fromkeys(PROFILE_NAMES, 0.0)
    for constants, half in zip(per_fold, folds(corpus.names), strict=True):
        raw = alert_raw(corpus, constants, half)
        total = {name: total[name] + raw[name] for name in total}
    return {name: normalised(v, corpus.files, profiles()[name]) for name, v in total.items()}


def cross_validate(corpus: StreamedCorpus) -> dict:
    """Constants tuned on each half and scored on the other; constants tuned on all files."""
    halves = folds(corpus.names)
    tuned = [tune(corpus, halves[1 - k]) for k in range(len(halves))]
    all_constants, _ = tune(corpus, list(range(len(corpus.names))))
    return {
        "grid": {key: list(values) for key, values in GRID.items()},
        "folds": [
            {
                "scored_files": [corpus.names[i] for i in half],
                "constants": dataclasses.asdict(constants),
                "standard_on_tuning_half": score,
            }
            for half, (constants, score) in zip(halves, tuned, strict=True)
        ],
        "held_out": held_out(corpus, [constants for constants, _ in tuned]),
        "all_files_constants": dataclasses.asdict(all_constants),
        # each lever row of the chapter's table, scored held out: its levers fixed, the open
        # constants chosen on each half (per fold, the constants for scoring that fold's files)
        "levers": [
            {
                "detector": label,
                "folds": [
                    dataclasses.asdict(tune(corpus, halves[1 - k], lever_space(constants))[0])
                    for k in range(len(halves))
                ],
            }
            for label, constants in lever_rows()
        ],
    }


def tune_and_save(*, progress: bool = True) -> None:
    """``train nab-detector``: the cross-validation, written to ``weights/nab_detector.json``."""
    result = cross_validate(streamed_corpus())
    save_history(artefacts.record_path(TUNING), result)
    if progress:
        print(f"held-out NAB scores: {result['held_out']}")


def constants_from(values: dict) -> DetectorConstants:
    lengths = tuple(values["lengths"])
    return DetectorConstants(**{**values, "lengths": lengths})


def load_tuning() -> dict:
    return read_json(artefacts.record_path(TUNING))


def shipped_constants() -> DetectorConstants:
    """The constants tuned on all files: what ``nab-results`` writes (as NAB entrants do)."""
    return constants_from(load_tuning()["all_files_constants"])


def scoreboard() -> dict[str, dict[str, float]]:
    """Our detector's normalised scores per profile: held out (each half scored with the
    constants chosen on the other, recomputed here from the saved weights) and with the
    constants tuned on all files at NAB's best threshold per profile (NAB's own protocol)."""
    corpus = streamed_corpus()
    per_fold = [constants_from(fold["constants"]) for fold in load_tuning()["folds"]]
    return {
        "held out": held_out(corpus, per_fold),
        "tuned on all files": corpus_scores(corpus.scores(shipped_constants()), corpus.files),
    }


def range_check_scoreboard() -> dict[str, dict[str, float]]:
    """The spatial check without the autoencoder, scored like :func:`scoreboard`: held out
    (its constants chosen on the other half) and tuned on all files."""
    corpus = streamed_corpus()
    halves = folds(corpus.names)
    per_fold = [tune(corpus, halves[1 - k], RANGE_CHECK_GRID)[0] for k in range(len(halves))]
    everything, _ = tune(corpus, list(range(len(corpus.names))), RANGE_CHECK_GRID)
    return {
        "held out": held_out(corpus, per_fold),
        "tuned on all files": corpus_scores(corpus.scores(everything), corpus.files),
    }


def nab_scores() -> dict[str, float]:
    """``evaluate nab``: both rows of :func:`scoreboard`, flattened."""
    return {
        f"{row.replace(' ', '_')}_{profile}": score
        for row, by_profile in scoreboard().items()
        for profile, score in by_profile.items()
    }


# What a lever row leaves open when it is scored held out: the likelihood's history and the
# alert level (which plays the part of NAB's threshold); every lever stays as the row sets it.
OPEN_CONSTANTS = ("history", "alert_level")


def lever_space(constants: DetectorConstants) -> dict[str, tuple]:
    """The grid of one lever row: its levers fixed, :data:`OPEN_CONSTANTS` free over
    :data:`GRID`'s values."""
    space = {key: (value,) for key, value in dataclasses.asdict(constants).items()}
    return space | {key: GRID[key] for key in OPEN_CONSTANTS}


def lever_rows() -> list[tuple[str, DetectorConstants]]:
    """Each lever added in turn to the constants of the detector before this work."""
    constants, rows = DetectorConstants(), []
    for label, change in LEVERS:
        constants = dataclasses.replace(constants, **change)
        rows.append((label, constants))
    return rows


def lever_table() -> pd.DataFrame:
    """The score of each lever added in turn on all files (constants otherwise as before this
    work), and its standard score held out: the row's levers fixed, the other constants
    chosen on the other half of the files by ``train nab-detector`` (:func:`cross_validate`).
    Kept between renders by :mod:`a2dl.cache`, keyed by the weights and the tuning."""
    from a2dl.anomaly.experiment import load_selection

    weights = {s: file_digest(artefacts.weights_path(s)) for s in artefacts.STREAMING_STEMS}
    tuning = file_digest(artefacts.record_path(TUNING))
    best = load_selection()["best"]
    return cached("nab-levers", _lever_table, weights=weights, tuning=tuning, best=best)


def _lever_table() -> pd.DataFrame:
    tuned = {row["detector"]: row["folds"] for row in load_tuning().get("levers", [])}
    rows = lever_rows()
    if [label for label, _ in rows] != list(tuned):
        raise ValueError(
            f"{artefacts.record_path(TUNING)} does not hold the held-out constants of every "
            "lever row (it predates them, or the rows changed): rebuild it with "
            "`python -m a2dl train nab-detector`."
        )
    corpus, table = streamed_corpus(), []
    for label, constants in rows:
        per_fold = [constants_from(values) for values in tuned[label]]
        table.append(
            {"detector": label}
            | corpus_scores(corpus.scores(constants), corpus.files)
            | {"standard, held out": held_out(corpus, per_fold)["standard"]}
        )
    return pd.DataFrame(table)


def write_nab_results(out_dir, detector: str = "a2dlAutoencoder") -> int:
    """Every file's scores in NAB's results layout under ``out_dir``; returns the count."""
    corpus = streamed_corpus()
    scores = corpus.scores(shipped_constants())
    for i, name in enumerate(corpus.names):
        target = Path(out_dir) / results_path(detector, name)
        target.parent.mkdir(parents=True, exist_ok=True)
        frame = nab_results_frame(
            corpus.timestamps[i], corpus.values[i], scores[i], corpus.files[i]
        )
        frame.to_csv(target, index=False)
    return len(corpus.names)
