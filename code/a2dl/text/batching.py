"""Token-id lists into padded batches, and batches of similar lengths (for both the
pre-training and the classifier)."""

from __future__ import annotations

import numpy as np
import torch


def pad_batch(encoded: list[list[int]], pad_id: int = 0) -> torch.Tensor:
    width = max(len(ids) for ids in encoded)
    batch = torch.full((len(encoded), width), pad_id, dtype=torch.long)
    for row, ids in enumerate(encoded):
        batch[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
    return batch


def bucketed_batches(
    lengths: np.ndarray, batch_size: int, seed: int, *, bucket_batches: int = 50
) -> list[np.ndarray]:
    """Shuffled batches of similar lengths: little padding, still a random order each epoch.

    The data are shuffled, cut into buckets of ``bucket_batches`` batches, sorted by length
    inside each bucket, cut into batches, and the batches shuffled again.
    """
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(lengths))
    size = batch_size * bucket_batches
    batches = []
    for start in range(0, len(order), size):
        bucket = order[start : start + size]
        bucket = bucket[np.argsort(lengths[bucket], kind="stable")]
        batches += [bucket[i : i + batch_size] for i in range(0, len(bucket), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]
