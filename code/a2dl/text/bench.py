"""``python -m a2dl bench sentiment``: pre-training, fine-tuning and inference speed of the
Part IV model.

Measured on batches of real review lengths (the training split's, after cleaning and
truncation), so that the printed seconds per epoch predict a real run on this machine.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn

from a2dl.text.batching import bucketed_batches, pad_batch
from a2dl.text.experiment import cleaned_splits, default_experiment
from a2dl.text.model import SentimentTransformer
from a2dl.text.pretraining import default_pretraining, denoising_batch, reconstruction_loss
from a2dl.text.vocab import SPECIALS, Vocabulary


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

    def step(loss: torch.Tensor) -> None:
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()

    def train_step(tokens: torch.Tensor) -> None:
        model.train()
        step(loss_fn(model(tokens), torch.zeros(len(tokens), dtype=torch.long)))

    markers = Vocabulary(SPECIALS)  # the ids of the markers; the words are random ids
    corruption = default_pretraining().corruption

    def pretrain_step(tokens: torch.Tensor) -> None:
        model.train()
        reviews = [row[row != 0].tolist() for row in tokens]
        step(reconstruction_loss(model, denoising_batch(reviews, rng, corruption, markers)))

    def infer(tokens: torch.Tensor) -> None:
        model.eval()
        with torch.no_grad():
            model(tokens)

    epoch_tokens = int(lengths.sum())
    threads = torch.get_num_threads()
    print(f"threads: {threads}, epoch: {len(train):,} reviews, {epoch_tokens:,} tokens")
    runs = (("pre-training", pretrain_step), ("fine-tuning", train_step), ("inference", infer))
    for name, run in runs:
        rate, _ = _throughput(run, batches)
        per_epoch = epoch_tokens / rate
        print(
            f"{name:>12}: {rate:,.0f} tokens/s, {per_epoch:,.0f} s per epoch of the training split"
        )
