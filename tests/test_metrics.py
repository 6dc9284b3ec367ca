import numpy as np
import pytest

from a2dl.metrics import ClassificationResult, holm_adjusted, mcnemar


def test_binary_metrics_on_a_hand_made_case():
    y = np.array([1, 1, 1, 0, 0, 0, 0, 0])
    p1 = np.array([0.9, 0.8, 0.3, 0.6, 0.2, 0.1, 0.1, 0.1])
    result = ClassificationResult(y, np.column_stack([1 - p1, p1]))
    s = result.summary()
    # predictions: 1 1 0 1 0 0 0 0 -> TP=2, FN=1, FP=1, TN=4
    assert s["accuracy"] == pytest.approx(6 / 8)
    assert s["precision"] == pytest.approx(2 / 3) and s["recall"] == pytest.approx(2 / 3)
    assert s["balanced_accuracy"] == pytest.approx((2 / 3 + 4 / 5) / 2)
    assert result.confusion().tolist() == [[4, 1], [1, 2]]
    assert s["roc_auc"] == pytest.approx(14 / 15)
    assert s["loss"] == pytest.approx(-np.mean(np.log(np.where(y == 1, p1, 1 - p1))))
    fpr, tpr = result.roc()
    assert fpr[0] == 0 and tpr[-1] == 1


def test_multiclass_uses_macro_averages():
    proba = np.eye(3)[[0, 1, 2, 2]] * 0.9 + 0.1 / 3
    result = ClassificationResult(np.array([0, 1, 2, 1]), proba)
    s = result.summary()
    assert s["accuracy"] == pytest.approx(0.75) and "macro_f1" in s


def test_mcnemar_counts_discordant_pairs_and_matches_the_binomial_tail():
    first = np.array([1, 1, 1, 1, 1, 1, 1, 0, 1, 0], bool)
    second = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 0], bool)
    result = mcnemar(first, second)
    assert (result["only_first"], result["only_second"]) == (5, 1)
    # two-sided exact tail of Binomial(6, 1/2) at 1 or 5: (1 + 6 + 6 + 1) / 64
    assert result["p_value"] == pytest.approx(14 / 64)
    assert mcnemar(first, first)["p_value"] == 1.0
    with pytest.raises(ValueError, match="same examples"):
        mcnemar(first, second[:5])


def test_holm_adjustment_on_a_known_case():
    # sorted 0.01, 0.02, 0.04 are scaled by 3, 2, 1 and made non-decreasing: 0.03, 0.04, 0.04
    adjusted = holm_adjusted([0.04, 0.01, 0.02])
    assert adjusted == pytest.approx([0.04, 0.03, 0.04])
    assert holm_adjusted([0.6, 0.9]) == pytest.approx([1.0, 1.0])
    assert holm_adjusted([0.2]) == pytest.approx([0.2])


def test_proportion_standard_error_on_a_known_case():
    from a2dl.metrics import proportion_standard_error

    assert proportion_standard_error(0.5, 100) == pytest.approx(0.05)
    assert proportion_standard_error(1.0, 10) == 0.0


def test_weighted_metrics_equal_the_metrics_of_the_repeated_rows():
    from a2dl.metrics import binary_summary, weighted_binary_summary

    rng = np.random.default_rng(0)
    y = rng.random(200) < 0.2
    score = np.round(rng.random(200) + y * 0.3, 1)  # rounded: many ties, handled like sklearn
    pred = score > 0.8
    weights = rng.integers(0, 4, size=(3, 200)).astype(float)
    batch = weighted_binary_summary(y, pred, score, weights, np.arange(200))  # a row a group
    for replicate, w in enumerate(weights):
        repeated = np.repeat(np.arange(200), w.astype(int))
        expected = binary_summary(
            y[repeated].astype(int), pred[repeated].astype(int), score[repeated]
        )
        for name, value in expected.items():
            assert batch[name][replicate] == pytest.approx(value), name
    rows = np.arange(200)
    grouped = rng.integers(0, 4, size=(3, 4)).astype(float)  # four groups of 50 rows
    by_group = weighted_binary_summary(y, pred, score, grouped, rows // 50)
    by_row = weighted_binary_summary(y, pred, score, np.repeat(grouped, 50, axis=1), rows)
    for name in by_row:
        np.testing.assert_allclose(by_group[name], by_row[name], err_msg=name)
    silent = weighted_binary_summary(y, np.zeros(200, bool), score, np.ones((1, 4)), rows // 50)
    assert np.isnan(silent["precision"][0])  # no alarm: precision undefined, not 0


def test_paired_bootstrap_of_a_detector_against_itself_is_zero_and_a_better_one_positive():
    from a2dl.metrics import paired_bootstrap

    rng = np.random.default_rng(1)
    groups = np.repeat(np.arange(20), 50)
    y = rng.random(1000) < 0.1
    good = y + rng.normal(0, 0.3, 1000)
    poor = rng.normal(0, 1, 1000)
    same = paired_bootstrap(y, (good > 0.5, good), (good > 0.5, good), groups, replicates=200)
    assert all(v == (0.0, 0.0, 0.0) for v in same.values())
    margin = paired_bootstrap(y, (good > 0.5, good), (poor > 1.5, poor), groups, replicates=200)
    estimate, low, high = margin["roc_auc"]
    assert 0 < low <= estimate <= high
