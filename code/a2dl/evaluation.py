"""``python -m a2dl evaluate``: the test metrics of every experiment that ships weights.

Each entry calls the function its chapter calls, on the saved weights, so the command and
the report can never disagree; evaluation is deterministic, so two runs print the same.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable

# experiment -> ("module:function[:argument]", what is measured). Imported only when run.
EVALUATIONS: dict[str, tuple[str, str]] = {
    "anomaly": (
        "a2dl.anomaly.experiment:test_metrics",
        "Part II: the chosen autoencoder's window detector on the test windows",
    ),
    "nab": (
        "a2dl.anomaly.nab_detector:nab_scores",
        "Part II: NAB scores of the streaming detector, held out and tuned on all files",
    ),
    "sentiment": (
        "a2dl.text.experiment:test_metrics",
        "Part IV: the Transformer on the test split",
    ),
    **{
        f"vision-{name}": (
            f"a2dl.vision.experiment:test_metrics:{name}",
            f"Bonus: {title} on the CIFAR-10 test set",
        )
        # the registry's titles, written out so that importing this stays light
        for name, title in (
            ("vit", "ViT (from scratch)"),
            ("vgg", "VGG-11 (½ width, BN)"),
            ("resnet", "ResNet-20"),
            ("efficientnet", "EfficientNet-B0 (½ width, no dropout or stochastic depth)"),
        )
    },
}
# experiment -> the data its metrics are measured on, printed by ``evaluate --json`` so that a
# number is never read without it. NAB is scored on all its files: the ``held_out_*`` scores
# by two-fold cross-validation over files, the ``tuned_on_all_files_*`` ones as NAB's protocol.
SPLITS: dict[str, str] = {name: "test" for name in EVALUATIONS} | {"nab": "all files"}


def _function(target: str) -> Callable[[], dict[str, float]]:
    module, name, *arguments = target.split(":")
    function = getattr(importlib.import_module(module), name)
    return (lambda: function(*arguments)) if arguments else function


def evaluate(experiment: str) -> dict[str, float]:
    """The metrics of ``experiment`` as plain floats (fractions, not per cent)."""
    metrics = _function(EVALUATIONS[experiment][0])()
    return {key: float(value) for key, value in metrics.items()}


def render(experiment: str, metrics: dict[str, float], *, as_json: bool) -> str:
    if as_json:
        record = {"experiment": experiment, "split": SPLITS[experiment], "metrics": metrics}
        return json.dumps(record, indent=1)
    width = max(map(len, metrics))
    lines = [f"{experiment}: {EVALUATIONS[experiment][1]}"]
    lines += [f"  {key:<{width}}  {value:.6g}" for key, value in metrics.items()]
    return "\n".join(lines)
