"""NAB's scoring on hand-made cases whose answers follow from its definition."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch

from a2dl.anomaly.nab_scoring import (
    MAX_TP,
    Profile,
    best_threshold,
    nab_results_frame,
    normalised,
    probationary_length,
    raw_score,
    results_path,
    row_rewards,
    scaled_sigmoid,
)

STANDARD = Profile("standard", tp=1.0, fp=0.11, fn=1.0)
LOW_FN = Profile("reward_low_FN_rate", tp=1.0, fp=0.11, fn=2.0)
N = 1000


def _file(windows=((400, 499),)):
    times = pd.Series(pd.date_range("2021-01-01", periods=N, freq="5min"))
    labelled = [(times[a], times[b]) for a, b in windows]
    return times, row_rewards(times, labelled)


def _detect(*rows: int) -> np.ndarray:
    detected = np.zeros(N, dtype=bool)
    detected[list(rows)] = True
    return detected


def test_scaled_sigmoid_landmarks():
    assert scaled_sigmoid(-1.0) == pytest.approx(0.98661, abs=1e-5)
    assert scaled_sigmoid(0.0) == 0.0
    assert scaled_sigmoid(3.5) == -1.0
    assert probationary_length(1000) == 150 and probationary_length(20000) == 750


def test_detection_at_the_start_of_a_window_scores_a_tp():
    _, file = _file()
    assert raw_score(_detect(400), file, STANDARD) == pytest.approx(STANDARD.tp)
    late = raw_score(_detect(480), file, STANDARD)
    assert 0 < late < STANDARD.tp  # later in the window is worth less


def test_false_positive_far_from_windows_scores_minus_a_fp():
    _, file = _file()
    before_first_window = raw_score(_detect(200, 400), file, STANDARD) - STANDARD.tp
    assert before_first_window == pytest.approx(-STANDARD.fp)
    far_after = raw_score(_detect(400, 999), file, STANDARD) - STANDARD.tp
    assert far_after == pytest.approx(-STANDARD.fp, abs=1e-3)
    just_after = raw_score(_detect(400, 500), file, STANDARD) - STANDARD.tp
    assert -0.1 * STANDARD.fp < just_after < 0  # right after a window costs almost nothing


def test_no_detection_costs_a_fn_per_window():
    _, file = _file(windows=((300, 349), (600, 699)))
    assert raw_score(np.zeros(N, dtype=bool), file, LOW_FN) == -2 * LOW_FN.fn


def test_only_the_first_detection_in_a_window_counts():
    _, file = _file()
    assert raw_score(_detect(400, 410, 450), file, STANDARD) == raw_score(
        _detect(400), file, STANDARD
    )


def test_probationary_detections_are_ignored():
    _, file = _file()
    assert raw_score(_detect(10, 400), file, STANDARD) == pytest.approx(STANDARD.tp)


def test_normalisation_maps_null_to_0_and_perfect_to_100():
    _, file = _file(windows=((300, 349), (600, 699)))
    files = [file, file]
    null = 2 * raw_score(np.zeros(N, dtype=bool), file, STANDARD)
    perfect = 2 * raw_score(_detect(300, 600), file, STANDARD)
    assert normalised(null, files, STANDARD) == pytest.approx(0.0)
    assert normalised(perfect, files, STANDARD) == pytest.approx(100.0)


def test_best_threshold_finds_the_perfect_cut_and_matches_raw_score():
    _, file = _file()
    scores = np.full(N, 0.1)
    scores[400] = 0.9  # the window's first row
    scores[800] = 0.5  # a false positive with a lower score
    threshold, raw = best_threshold([scores], [file], STANDARD)
    assert threshold == 0.9 and raw == pytest.approx(STANDARD.tp)
    assert normalised(raw, [file], STANDARD) == pytest.approx(100.0)
    flat = np.zeros(N)
    threshold, raw = best_threshold([flat], [file], STANDARD)
    assert raw == pytest.approx(raw_score(np.zeros(N, dtype=bool), file, STANDARD))
    noisy = np.random.default_rng(0).random(N)
    threshold, raw = best_threshold([noisy], [file], STANDARD)
    assert raw == pytest.approx(raw_score(noisy >= threshold, file, STANDARD))


def test_results_files_have_nab_columns_and_names():
    times, file = _file()
    frame = nab_results_frame(times, np.arange(N, dtype=float), np.zeros(N), file)
    assert list(frame.columns) == ["timestamp", "value", "anomaly_score", "label"]
    assert frame["label"].sum() == 100 and frame["timestamp"][0] == "2021-01-01 00:00:00"
    assert results_path("a2dlLstm", "realKnownCause/nyc_taxi.csv") == (
        "a2dlLstm/realKnownCause/a2dlLstm_nyc_taxi.csv"
    )
    assert pytest.approx(scaled_sigmoid(-1.0)) == MAX_TP


def test_streaming_scores_use_only_the_past():
    from a2dl.anomaly.streaming import anomaly_likelihood

    errors = np.abs(np.random.default_rng(1).normal(size=500))
    errors[300] = 50.0
    scores = anomaly_likelihood(errors)
    changed = errors.copy()
    changed[301:] = 1e6  # the future must not change the present
    np.testing.assert_array_equal(anomaly_likelihood(changed)[:301], scores[:301])
    assert scores[300] > 0.999 and np.all((scores >= 0) & (scores <= 1))
    assert np.all(scores[:20] == 0)


def test_refractory_period_silences_repeated_alerts():
    from a2dl.anomaly.streaming import refractory

    scores = np.array([0.1, 0.9995, 0.9999, 0.5, 0.9999, 0.2])
    assert refractory(scores, level=0.999, rows=2).tolist() == [0.1, 0.9995, 0, 0, 0.9999, 0]


def test_likelihood_of_a_constant_stream_is_one_half_and_rises_on_a_step():
    from a2dl.anomaly.streaming import anomaly_likelihood

    constant = np.full(400, 0.3)
    assert np.allclose(anomaly_likelihood(constant, history=100)[20:], 0.5)
    noisy = 0.3 + 0.01 * np.random.default_rng(2).normal(size=400)
    stepped = np.r_[noisy[:300], noisy[300:] + 0.5]
    likelihood = anomaly_likelihood(stepped, history=100, average_rows=5)
    assert likelihood[299] < 0.99 < likelihood[300] and likelihood[304] > 0.999


def test_spatial_check_flags_only_values_beyond_the_range_seen_so_far():
    from a2dl.anomaly.streaming import outside_seen_range

    values = np.array([0.0, 10.0, 5.0, 10.4, 11.0, -0.6, 3.0])
    # range so far [0, 10], [0, 10.4] (10.4 is within 5 % and still widens it), [0, 11]
    assert outside_seen_range(values, 0.05).tolist() == [
        False,
        True,
        False,
        False,
        True,
        True,
        False,
    ]


def test_no_score_depends_on_a_later_row():
    from a2dl.anomaly.streaming import DetectorConstants, anomaly_scores

    rng = np.random.default_rng(3)
    values = rng.normal(size=600)
    errors = {64: np.abs(rng.normal(size=600)), 16: np.abs(rng.normal(size=600))}
    constants = DetectorConstants(lengths=(64, 16), average_rows=5, history=200, tolerance=0.05)
    scores = anomaly_scores(values, [errors], constants)
    for t in (100, 350, 599):
        future = rng.permutation(np.arange(t + 1, 600))  # shuffle rows after t
        order = np.r_[np.arange(t + 1), future].astype(int)
        shuffled = anomaly_scores(
            values[order], [{k: e[order] for k, e in errors.items()}], constants
        )
        np.testing.assert_array_equal(shuffled[: t + 1], scores[: t + 1])


def test_cross_validation_folds_never_share_a_file_and_cover_every_category():
    from a2dl.anomaly.nab_detector import folds
    from a2dl.data import nab

    names = nab.series_names()
    first, second = folds(names)
    assert not set(first) & set(second)
    assert sorted(first + second) == list(range(len(names)))
    assert abs(len(first) - len(second)) <= 1
    for half in (first, second):
        assert {names[i].split("/")[0] for i in half} == {n.split("/")[0] for n in names}


def test_the_nested_cross_validation_chooses_nothing_with_the_files_it_scores(monkeypatch):
    """Levers and constants are chosen on one half of the files; the other half only scores."""
    from types import SimpleNamespace

    from a2dl.anomaly import nab_detector

    names = [f"{c}/s{i}.csv" for c in ("catA", "catB") for i in range(4)]
    corpus = SimpleNamespace(names=names, files=[None] * len(names))
    calls: list[tuple[object, tuple[int, ...]]] = []

    def alert_raw(_, constants, indices):
        calls.append((constants, tuple(indices)))
        # a score that prefers other constants on each half: the choice must follow the half
        return dict.fromkeys(nab_detector.PROFILE_NAMES, float(hash((constants, indices[0])) % 97))

    monkeypatch.setattr(nab_detector, "alert_raw", alert_raw)
    monkeypatch.setattr(nab_detector, "normalised", lambda raw, files, profile: raw)
    monkeypatch.setattr(nab_detector, "profiles", lambda: dict.fromkeys(nab_detector.PROFILE_NAMES))
    space = dict(nab_detector.RANGE_CHECK_GRID)
    size = len(nab_detector.grid(space))
    halves = nab_detector.folds(names)
    chosen = [nab_detector.tune(corpus, halves[1 - k], space)[0] for k in range(2)]
    tuning = calls[:]
    assert [set(ix) for _, ix in tuning[:size]] == [set(halves[1])] * size
    assert [set(ix) for _, ix in tuning[size:]] == [set(halves[0])] * size
    calls.clear()
    nab_detector.held_out(corpus, chosen)
    assert [(c, set(ix)) for c, ix in calls] == [
        (chosen[0], set(halves[0])),
        (chosen[1], set(halves[1])),
    ]


def test_a_lever_row_fixes_its_levers_and_leaves_only_history_and_alert_level_open():
    from a2dl.anomaly import nab_detector

    rows = nab_detector.lever_rows()
    assert [label for label, _ in rows] == [label for label, _ in nab_detector.LEVERS]
    for _, constants in rows:
        space = nab_detector.lever_space(constants)
        candidates = nab_detector.grid(space)
        assert len(candidates) == len(nab_detector.GRID["history"]) * len(
            nab_detector.GRID["alert_level"]
        )
        for candidate in candidates:
            assert (
                dataclasses.replace(
                    candidate, history=constants.history, alert_level=constants.alert_level
                )
                == constants
            )
    assert rows[-1][1].source == "ensemble" and rows[-2][1].source == "refit"


def test_the_tuning_stores_each_lever_rows_held_out_constants_chosen_on_the_other_half(
    monkeypatch,
):
    """``train nab-detector`` chooses, for every lever row, the open constants on each half;
    the chapter only scores them. A row's stored constants differ from the row's own only in
    the open ones."""
    from types import SimpleNamespace

    from a2dl.anomaly import nab_detector

    names = [f"{c}/s{i}.csv" for c in ("catA", "catB") for i in range(4)]
    corpus = SimpleNamespace(names=names, files=[None] * len(names))

    def alert_raw(_, constants, indices):
        return dict.fromkeys(nab_detector.PROFILE_NAMES, float(hash((constants, indices[0])) % 97))

    monkeypatch.setattr(nab_detector, "alert_raw", alert_raw)
    monkeypatch.setattr(nab_detector, "normalised", lambda raw, files, profile: raw)
    monkeypatch.setattr(nab_detector, "profiles", lambda: dict.fromkeys(nab_detector.PROFILE_NAMES))
    result = nab_detector.cross_validate(corpus)
    rows = nab_detector.lever_rows()
    assert [row["detector"] for row in result["levers"]] == [label for label, _ in rows]
    halves = nab_detector.folds(names)
    for stored, (_, constants) in zip(result["levers"], rows, strict=True):
        chosen = [nab_detector.constants_from(values) for values in stored["folds"]]
        space = nab_detector.lever_space(constants)
        assert chosen == [nab_detector.tune(corpus, halves[1 - k], space)[0] for k in range(2)]
        for fold in chosen:
            assert (
                dataclasses.replace(
                    fold, **{key: getattr(constants, key) for key in nab_detector.OPEN_CONSTANTS}
                )
                == constants
            )


def test_a_tuning_file_without_the_lever_rows_says_how_to_rebuild_it(monkeypatch):
    from a2dl.anomaly import nab_detector

    monkeypatch.setattr(nab_detector, "load_tuning", lambda: {"held_out": {}})
    with pytest.raises(ValueError, match="python -m a2dl train nab-detector"):
        nab_detector._lever_table()


def test_the_scorer_reproduces_the_published_scores_of_two_nab_detectors():
    """Numenta HTM's and Skyline's detections, as NAB's own code made them (their results
    files at NAB's commit ea702d7, thresholded at NAB's optimised thresholds), scored by this
    scorer, give NAB's published normalised scores (results/final_results.json) on every
    profile."""
    import json
    from pathlib import Path

    from a2dl.anomaly.nab_scoring import Profile, normalised, raw_score, row_rewards
    from a2dl.data import nab

    published = json.loads(
        (Path(__file__).parent / "fixtures" / "nab_published_detections.json").read_text()
    )
    windows = nab.load_windows()
    names = nab.series_names()
    files = [row_rewards(nab.load_series(name)["timestamp"], windows[name]) for name in names]
    profiles = nab.load_profiles()
    for detector, entry in published["detectors"].items():
        for name, expected in entry["profiles"].items():
            profile = Profile.from_cost_matrix(name, profiles[name])
            raw = 0.0
            for series, scored in zip(names, files, strict=True):
                detected = np.zeros(len(scored.reward), dtype=bool)
                detected[expected["detections"].get(series, [])] = True
                raw += raw_score(detected, scored, profile)
            score = normalised(raw, files, profile)
            assert score == pytest.approx(expected["normalised"], abs=1e-6), (detector, name)


def test_refits_start_after_probation_and_repeat_every_refit_every_rows():
    from a2dl.anomaly.streaming import StreamingConfig, refit_starts

    never = StreamingConfig("dense", 1)
    assert refit_starts(5000, never) == [0]
    every = StreamingConfig("dense", 1, refit_every=1000)
    assert refit_starts(5000, every) == [0, 1750, 2750, 3750, 4750]  # probation: 750 rows
    assert refit_starts(1500, every) == [0, 1225]  # probation: 225 rows
    assert refit_starts(1100, every) == [0]  # the first refit would be at 1165


@pytest.mark.parametrize("refit_every", [None, 300])
def test_a_streaming_detectors_error_at_a_row_never_depends_on_a_later_row(refit_every):
    """Trained through the one training loop, with or without refits: two streams that agree
    up to row t get the same errors up to row t, whatever follows."""
    from a2dl.anomaly.streaming import stream_errors, train_streaming

    rng = np.random.default_rng(5)
    base = np.sin(np.arange(1400) / 9) + 0.1 * rng.normal(size=1400)
    changed = base.copy()
    changed[1000:] += 5 * rng.normal(size=400)  # a different future after row 999
    detectors = [
        train_streaming("dense", [values], window=16, refit_every=refit_every)
        for values in (base, changed)
    ]
    if refit_every:
        assert detectors[0].config.models_per_file == (4,)  # rows 0, 510, 810, 1110
    errors = [
        stream_errors(d, [values], (16, 4))[0]
        for d, values in zip(detectors, (base, changed), strict=True)
    ]
    for k in (16, 4):
        np.testing.assert_array_equal(errors[0][k][:1000], errors[1][k][:1000])
        assert not np.allclose(errors[0][k][1000:], errors[1][k][1000:])


def test_refit_detectors_round_trip_through_a_weights_file(tmp_path):
    from a2dl.anomaly.streaming import StreamingConfig, StreamingDetectors, train_streaming
    from a2dl.checkpoint import load_weights, save_weights

    values = [np.sin(np.arange(n) / 7) for n in (900, 1300)]
    detectors = train_streaming("dense", values, window=16, refit_every=300)
    save_weights(tmp_path / "s.pt", detectors, detectors.config, files=["a", "b"])
    loaded, config, _ = load_weights(tmp_path / "s.pt", StreamingDetectors, StreamingConfig)
    assert config == detectors.config and [len(m) for m in loaded.per_file] == [3, 4]
    for mine, theirs in zip(detectors.models, loaded.models, strict=True):
        for a, b in zip(mine.parameters(), theirs.parameters(), strict=True):
            assert torch.equal(a, b)


def test_every_published_detector_is_cited_from_the_bibliography():
    from a2dl import paths
    from a2dl.anomaly.nab_scoring import PUBLISHED_REFERENCES, PUBLISHED_SCORES

    assert set(PUBLISHED_REFERENCES) == set(PUBLISHED_SCORES)
    bibliography = (paths.repo_root() / "references.bib").read_text(encoding="utf-8")
    for key in PUBLISHED_REFERENCES.values():
        assert f"{{{key}," in bibliography, key


def test_an_ensemble_scores_the_mean_likelihood_of_its_models():
    from a2dl.anomaly.streaming import DetectorConstants, anomaly_likelihood, anomaly_scores

    rng = np.random.default_rng(7)
    models = [{16: np.abs(rng.normal(size=400))} for _ in range(3)]
    constants = DetectorConstants(lengths=(16,), history=100, alert_level=2.0)  # never alerts
    mean = np.mean([anomaly_likelihood(m[16], 100) for m in models], axis=0)
    np.testing.assert_allclose(anomaly_scores(np.zeros(400), models, constants), mean)
