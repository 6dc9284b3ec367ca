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
from a2dl.text.cleaned import cleaned_splits
from a2dl.text.experiment import default_experiment
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


def _review_batches(
    lengths: np.ndarray, max_len: int, batch_size: int, steps: int, rng: np.random.Generator
) -> list[torch.Tensor]:
    """``steps + 1`` batches of random word ids with the training reviews' lengths, truncated
    to ``max_len`` and bucketed as in training."""
    kept = np.minimum(lengths, max_len).clip(min=1)
    index_batches = bucketed_batches(kept, batch_size, seed=1)[: steps + 1]
    return [pad_batch([list(rng.integers(2, 1000, n)) for n in kept[i]]) for i in index_batches]


def benchmark(steps: int = 30) -> None:
    experiment = default_experiment()
    pretraining = default_pretraining()
    frame = cleaned_splits()
    train = frame[frame["split"] == "train"]
    lengths = train["tokens"].map(len).to_numpy()
    rng = np.random.default_rng(0)
    model = SentimentTransformer(pretraining.model)  # 512 positions serve both stages
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

    def pretrain_step(tokens: torch.Tensor) -> None:
        model.train()
        reviews = [row[row != 0].tolist() for row in tokens]
        step(
            reconstruction_loss(
                model, denoising_batch(reviews, rng, pretraining.corruption, markers)
            )
        )

    def infer(tokens: torch.Tensor) -> None:
        model.eval()
        with torch.no_grad():
            model(tokens)

    print(f"threads: {torch.get_num_threads()}, epoch: {len(train):,} training reviews")
    fine_tuning_epochs = experiment.train.epochs
    runs = (
        ("pre-training", pretrain_step, pretraining.model.max_len, pretraining.batch_size,
         pretraining.train.epochs * pretraining.cycles),
        ("fine-tuning", train_step, experiment.model.max_len, experiment.batch_size,
         fine_tuning_epochs),
        ("inference", infer, experiment.model.max_len, experiment.batch_size, 1),
    )  # fmt: skip
    for name, run, max_len, batch_size, epochs in runs:
        batches = _review_batches(lengths, max_len, batch_size, steps, rng)
        rate, _ = _throughput(run, batches)
        per_epoch = int(np.minimum(lengths, max_len).sum()) / rate
        print(
            f"{name:>12}: {max_len} tokens, {rate:,.0f} tokens/s, {per_epoch:,.0f} s per epoch"
            f" of the training split, {epochs} epochs: {epochs * per_epoch / 60:.1f} min"
        )
