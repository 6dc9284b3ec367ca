"""The learning-rate range test: the rates it tries, where it stops, what it suggests."""

import itertools
import math

import pytest
import torch
from torch import nn

from a2dl.lr_range import SUGGESTION_DIVISOR, curve_dips, lr_range_test, suggested_peak
from a2dl.train import TrainConfig


def _regression_batches(n_batches: int):
    generator = torch.Generator().manual_seed(0)
    weights = torch.randn(4, 1, generator=generator)
    for _ in range(n_batches):
        inputs = torch.randn(32, 4, generator=generator)
        yield inputs, inputs @ weights


def _run(steps: int, lr_max: float) -> dict:
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    return lr_range_test(
        model,
        _regression_batches(steps),
        lambda net, batch: nn.functional.mse_loss(net(batch[0]), batch[1]),
        TrainConfig(optimizer="sgd", momentum=0.9, weight_decay=0.0),
        lr_min=1e-4,
        lr_max=lr_max,
        steps=steps,
    )


def test_rates_grow_geometrically_from_min_to_max():
    result = _run(steps=50, lr_max=1e-1)  # too small to diverge: the whole sweep runs
    lrs = result["lr"]
    assert len(lrs) == 50
    assert lrs[0] == pytest.approx(1e-4) and lrs[-1] == pytest.approx(1e-1)
    ratios = [b / a for a, b in itertools.pairwise(lrs)]
    assert max(ratios) == pytest.approx(min(ratios))


def test_stops_once_the_loss_blows_up_and_suggests_a_tenth_of_the_best_rate():
    result = _run(
        steps=200, lr_max=100.0
    )  # SGD with momentum on this quadratic diverges above lr ~1
    assert len(result["lr"]) < 200
    assert result["lr"][-1] < 100.0
    smoothed = result["smoothed_loss"]
    best = min(range(len(smoothed)), key=smoothed.__getitem__)
    assert result["lr_at_min_loss"] == result["lr"][best]
    assert result["suggested_lr"] == pytest.approx(result["lr"][best] / SUGGESTION_DIVISOR)  # SGD
    assert result["cpu_seconds_per_step"] > 0


def test_rejects_an_empty_range():
    with pytest.raises(ValueError, match="lr_min < lr_max"):
        lr_range_test(
            nn.Linear(1, 1),
            [],
            lambda net, batch: batch,
            TrainConfig(),
            lr_min=1,
            lr_max=0.5,
            steps=5,
        )


def test_curve_dips_finds_both_dips_of_a_two_dip_curve():
    lrs = [10 ** (-3 + 4 * i / 99) for i in range(100)]
    # two dips of nearly equal depth, at steps 30 and 75
    smoothed = [
        2.0 - 0.5 * math.exp(-(((i - 30) / 6) ** 2)) - 0.48 * math.exp(-(((i - 75) / 6) ** 2))
        for i in range(100)
    ]
    dips = curve_dips({"lr": lrs, "smoothed_loss": smoothed}, window=10)
    assert [lr for lr, _ in dips] == [lrs[30], lrs[75]]
    assert dips[0][1] < dips[1][1]


def test_adamw_peak_is_where_the_loss_falls_fastest():
    lrs = [10 ** (-5 + 4 * i / 99) for i in range(100)]
    smoothed = [2.0 - 1.0 / (1 + math.exp(-(i - 40) / 4)) for i in range(100)]  # steepest at 40
    result = {"lr": lrs, "smoothed_loss": smoothed, "lr_at_min_loss": lrs[-1]}
    assert suggested_peak(result | {"optimizer": "adamw"}) == pytest.approx(lrs[40])
    sgd_peak = suggested_peak(result | {"optimizer": "sgd"})
    assert sgd_peak == pytest.approx(lrs[-1] / SUGGESTION_DIVISOR)
