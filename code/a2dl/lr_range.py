"""The learning-rate range test (Smith 2017): train a fresh model for a few hundred steps
while the learning rate grows geometrically, and read off where the loss falls fastest and
where it blows up. The peak of a one-cycle or warm-up schedule is then chosen, not guessed."""

from __future__ import annotations

import math
import time
from collections.abc import Iterable

from torch import nn

from a2dl.train import Batch, StepLoss, TrainConfig, make_optimizer, to_device

SUGGESTION_DIVISOR = 10  # SGD's peak: the learning rate of the lowest smoothed loss over 10
SLOPE_SPAN = 5  # steps either side over which AdamW's curve's slope is measured


def lr_range_test(
    model: nn.Module,
    batches: Iterable[Batch],
    step_loss: StepLoss,
    config: TrainConfig,
    *,
    lr_min: float,
    lr_max: float,
    steps: int,
    smoothing: float = 0.95,
    diverge_factor: float = 4.0,
) -> dict[str, object]:
    """Losses at learning rates spaced geometrically from ``lr_min`` to ``lr_max`` with the
    optimiser of ``config``; stops early once the smoothed loss exceeds ``diverge_factor``
    times its minimum. Returns the curve, the suggested peak, and the CPU seconds per step."""
    if not 0 < lr_min < lr_max:
        raise ValueError("need 0 < lr_min < lr_max")
    device = next(model.parameters()).device
    optimizer = make_optimizer(model, config)
    ratio = (lr_max / lr_min) ** (1 / max(1, steps - 1))
    lrs: list[float] = []
    losses: list[float] = []
    smoothed: list[float] = []
    average, best = 0.0, math.inf
    model.train()
    cpu_started = time.process_time()
    for step, batch in enumerate(batches):
        if step >= steps:
            break
        lr = lr_min * ratio**step
        for group in optimizer.param_groups:
            group["lr"] = lr
        loss = step_loss(model, to_device(batch, device))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        value = loss.item()
        average = smoothing * average + (1 - smoothing) * value
        debiased = average / (1 - smoothing ** (step + 1))
        lrs.append(lr)
        losses.append(value)
        smoothed.append(debiased)
        best = min(best, debiased)
        if not math.isfinite(value) or debiased > diverge_factor * best:
            break
    cpu_seconds = time.process_time() - cpu_started
    lowest = min(range(len(smoothed)), key=smoothed.__getitem__)
    result: dict[str, object] = {
        "lr": lrs,
        "loss": losses,
        "smoothed_loss": smoothed,
        "lr_at_min_loss": lrs[lowest],
        "cpu_seconds_per_step": cpu_seconds / len(lrs),
        "optimizer": config.optimizer,
    }
    return result | {"suggested_lr": suggested_peak(result)}


def suggested_peak(result: dict[str, object]) -> float:
    """The peak a schedule should use, read off a range test's curve. For SGD, Smith's rule: a
    tenth of the rate of lowest loss, since SGD's step grows with the gradient and the lowest
    point is already close to instability. AdamW's step does not grow with the gradient, and
    its lowest point sits at the edge of divergence; the rate where the loss falls fastest
    (steepest slope against log learning rate) is the usual choice."""
    if result["optimizer"] == "sgd":
        return result["lr_at_min_loss"] / SUGGESTION_DIVISOR  # type: ignore[operator]
    return steepest_descent_lr(result["lr"], result["smoothed_loss"])  # type: ignore[arg-type]


def steepest_descent_lr(lrs: list[float], smoothed: list[float], span: int = SLOPE_SPAN) -> float:
    """The learning rate where the smoothed loss falls fastest per factor of learning rate."""
    if len(lrs) <= 2 * span:
        raise ValueError(f"a range test of {len(lrs)} steps is too short to measure a slope")
    slopes = {
        i: (smoothed[i + span] - smoothed[i - span]) / math.log(lrs[i + span] / lrs[i - span])
        for i in range(span, len(lrs) - span)
    }
    return lrs[min(slopes, key=slopes.__getitem__)]


def curve_dips(result: dict[str, object], *, window: int = 15) -> list[tuple[float, float]]:
    """Each (learning rate, smoothed loss) that is the lowest point within ``window`` steps
    either side. A network with batch normalisation can dip twice, at a small rate and again
    near the edge of divergence; when the dips are almost equally deep, which one is lowest
    changes from one run of the test to the next, so the reader should see both."""
    lrs: list[float] = result["lr"]  # type: ignore[assignment]
    smoothed: list[float] = result["smoothed_loss"]  # type: ignore[assignment]
    return [
        (lrs[i], smoothed[i])
        for i in range(len(smoothed))
        if smoothed[i] == min(smoothed[max(0, i - window) : i + window + 1])
    ]
