"""The shared training loop: schedule, best-state checkpoint, early stopping, history."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from a2dl.train import TrainConfig, best_epoch, fit, lr_factor, make_optimizer


def test_warmup_then_cosine_decay():
    factors = [lr_factor(step, total=100, warmup=10, schedule="cosine") for step in range(100)]
    assert factors[0] == pytest.approx(0.1) and factors[9] == pytest.approx(1.0)
    assert factors[10] == pytest.approx(1.0) and factors[-1] < 0.01
    assert all(a >= b for a, b in zip(factors[10:], factors[11:], strict=False))
    assert lr_factor(50, 100, 0, "constant") == 1.0
    with pytest.raises(ValueError, match="unknown schedule"):
        lr_factor(0, 10, 0, "exponential")


def test_one_cycle_rises_from_a_25th_to_the_peak_then_falls_to_zero():
    total, warmup = 1000, 200
    factors = [lr_factor(step, total, warmup, "onecycle") for step in range(total)]
    assert factors[0] == pytest.approx(1 / 25)
    assert factors[warmup] == pytest.approx(1.0) and max(factors) == pytest.approx(1.0)
    assert factors[-1] == pytest.approx(0.0)
    assert all(a <= b for a, b in zip(factors[:warmup], factors[1 : warmup + 1], strict=True))
    assert all(a >= b for a, b in zip(factors[warmup:], factors[warmup + 1 :], strict=False))


def test_sgd_uses_nesterov_momentum_and_spares_biases_and_norms_from_weight_decay():
    model = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4))
    optimizer = make_optimizer(model, TrainConfig(optimizer="sgd", lr=0.1, weight_decay=5e-4))
    assert isinstance(optimizer, torch.optim.SGD) and optimizer.defaults["nesterov"]
    decayed, spared = optimizer.param_groups
    assert decayed["weight_decay"] == 5e-4 and len(decayed["params"]) == 1  # the weight matrix
    assert spared["weight_decay"] == 0.0 and len(spared["params"]) == 3
    with pytest.raises(ValueError, match="unknown optimizer"):
        make_optimizer(model, TrainConfig(optimizer="rmsprop"))


def test_device_auto_is_the_cpu_here_and_an_absent_device_is_refused():
    from a2dl import device

    assert device.resolve("cpu") == torch.device("cpu")
    if not torch.cuda.is_available():
        assert device.resolve("auto").type in ("cpu", "mps")
        with pytest.raises(ValueError, match="'cuda' is not available"):
            device.resolve("cuda")


def _scripted_run(val_losses: list[float], **config) -> tuple[nn.Module, list[dict]]:
    """A model whose 'validation loss' follows a script; its weight records the epoch."""
    model = nn.Linear(1, 1, bias=False)
    epoch = {"n": 0}

    def step_loss(net, batch):
        return (net.weight - 0).pow(2).sum() * 0  # no learning: the weight is set below

    def metrics(net):
        epoch["n"] += 1
        with torch.no_grad():
            net.weight.fill_(epoch["n"])
        return {"val_loss": val_losses[epoch["n"] - 1]}

    history = fit(
        model,
        lambda e: [None],
        step_loss,
        metrics,
        TrainConfig(epochs=len(val_losses), **config),
        steps_per_epoch=1,
        progress=False,
    )
    return model, history


def test_best_state_is_restored_and_patience_stops_the_run():
    model, history = _scripted_run([3.0, 1.0, 2.0, 2.5, 0.5], patience=2)
    assert [r["epoch"] for r in history] == [1, 2, 3, 4]  # stopped before epoch 5
    assert model.weight.item() == 2.0  # the state of the best epoch
    assert best_epoch(history, "val_loss")["epoch"] == 2


def test_without_early_stopping_the_last_state_is_kept():
    model, history = _scripted_run([3.0, 1.0, 2.0, 2.5], patience=None, keep_best=False)
    assert len(history) == 4 and model.weight.item() == 4.0


def test_history_records_every_epoch_with_metrics_and_learning_rate():
    _, history = _scripted_run([1.0, 0.9, 0.8])
    assert [
        set(r) >= {"epoch", "train_batch_loss", "val_loss", "lr", "train_seconds"} for r in history
    ] == [True] * 3


def test_unknown_monitor_is_a_clear_error():
    with pytest.raises(KeyError, match="no 'val_accuracy'"):
        _scripted_run([1.0], monitor="val_accuracy", mode="max")
