"""``python -m a2dl bench sentiment``: training and inference speed of the Part IV model.

Measured on batches of real review lengths (the training split's, after cleaning and
truncation), so that the printed seconds per epoch predict a real run on this machine.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn

from a2dl.text.experiment import (
    bucketed_batches,
    cleaned_splits,
    default_experiment,
    pad_batch,
)
from a2dl.text.model import SentimentTransformer


def _throughput(run, batches: list[torch.Tensor]) -> tuple[float, float]:
    """(tokens per second, seconds) over ``batches`` after one warm-up batch."""
    run(batches[0])
    started = time.perf_counter()
    tokens = 0
    for batch in batches[1:]:
        run(batch)
        tokens += int((batch != 0).sum())
    seconds = time.perf_counter() - started
    return tokens / seconds, seconds


def benchmark(steps: int = 30) -> None:
    experiment = default_experiment()
    frame = cleaned_splits(True)
    train = frame[frame["split"] == "train"]
    max_len = experiment.model.max_len
    lengths = np.minimum(train["tokens"].map(len).to_numpy(), max_len).clip(min=1)
    rng = np.random.default_rng(0)
    index_batches = bucketed_batches(lengths, experiment.batch_size, seed=1)[: steps + 1]
    batches = [
        pad_batch([list(rng.integers(2, 1000, n)) for n in lengths[i]]) for i in index_batches
    ]
    model = SentimentTransformer(experiment.model)
    optimiser = torch.optim.AdamW(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def train_step(tokens: torch.Tensor) -> None:
        model.train()
        loss = loss_fn(model(tokens), torch.zeros(len(tokens), dtype=torch.long))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()

    def infer(tokens: torch.Tensor) -> None:
        model.eval()
        with torch.no_grad():
            model(tokens)

    epoch_tokens = int(lengths.sum())
    threads = torch.get_num_threads()
    print(f"threads: {threads}, epoch: {len(train):,} reviews, {epoch_tokens:,} tokens")
    for name, run in (("training", train_step), ("inference", infer)):
        rate, _ = _throughput(run, batches)
        per_epoch = epoch_tokens / rate
        print(
            f"{name:>9}: {rate:,.0f} tokens/s, {per_epoch:,.0f} s per epoch of the training split"
        )
