"""Part IV's denoising pre-training: the corruption, its inverse, the objective, and the
hand-over of every pre-trained tensor to the classifier."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch

from a2dl import paths
from a2dl.text import pretraining
from a2dl.text.model import SentimentTransformer, SentimentTransformerConfig
from a2dl.text.pretraining import (
    CLASSIFIER_ONLY,
    CorruptionConfig,
    corrupt_spans,
    denoising_batch,
    fill_spans,
    reconstruction_loss,
)
from a2dl.text.vocab import Vocabulary
from a2dl.train import TrainConfig, fit

EOS = 3
SENTINELS = tuple(range(4, 36))


def _spans(target: list[int]) -> list[list[int]]:
    spans: list[list[int]] = []
    for token in target[:-1]:
        spans.append([]) if token in SENTINELS else spans[-1].append(token)
    return spans


@pytest.mark.parametrize("length", [1, 2, 3, 7, 40, 256, 1000])
def test_corruption_masks_the_stated_fraction_in_separate_spans_and_inverts(length):
    rng = np.random.default_rng(length)
    ids = list(range(100, 100 + length))  # distinct tokens: every span can be located
    config = CorruptionConfig(mask_fraction=0.15, mean_span=3.0)
    for _ in range(20):
        encoder, target = corrupt_spans(ids, rng, config, sentinels=SENTINELS, eos_id=EOS)
        assert target[-1] == EOS
        spans = _spans(target)
        masked = sum(len(span) for span in spans)
        expected = min(length - 1, max(1, round(length * 0.15)))
        assert masked == expected
        used = [t for t in encoder if t in SENTINELS]
        assert used == [t for t in target if t in SENTINELS] == list(SENTINELS[: len(spans)])
        assert all(spans)  # no empty span
        if length >= 40:
            assert len(spans) == min(len(SENTINELS), round(expected / 3.0))
        # each span is a contiguous run of the review, and two spans never touch
        for span in spans:
            start = ids.index(span[0])
            assert ids[start : start + len(span)] == span
        pairs = zip(encoder, encoder[1:], strict=False)
        assert not any(a in SENTINELS and b in SENTINELS for a, b in pairs)
        assert fill_spans(encoder, target, sentinels=SENTINELS, eos_id=EOS) == ids


def test_padding_is_never_corrupted_and_carries_no_loss():
    vocab = Vocabulary.build([[f"w{i}" for i in range(30)]], min_freq=1)
    reviews = [list(range(40, 70)), list(range(40, 46))]
    corrupted, decoder_input, target = denoising_batch(
        reviews, np.random.default_rng(0), CorruptionConfig(), vocab
    )
    assert corrupted.shape[0] == decoder_input.shape[0] == target.shape[0] == 2
    short = corrupted[1].tolist()
    assert vocab.pad_id not in short[: len(short) - short.count(vocab.pad_id)]
    assert decoder_input[:, 0].tolist() == [vocab.bos_id] * 2
    assert (target == pretraining.IGNORE).sum() == (decoder_input == vocab.pad_id).sum()
    # the decoder's input is the target shifted right by one
    keep = decoder_input[:, 1:] != vocab.pad_id
    assert torch.equal(decoder_input[:, 1:][keep], target[:, :-1][keep])


def _tiny(**changes) -> SentimentTransformerConfig:
    base = SentimentTransformerConfig(
        vocab_size=70, max_len=32, d_model=16, heads=2, ff_dim=32, dropout=0.0
    )
    return dataclasses.replace(base, **changes)


def test_decoder_is_causal_in_pretraining():
    model = SentimentTransformer(_tiny()).eval()
    source = torch.randint(36, 40, (1, 12))
    written = torch.randint(36, 40, (1, 6))
    changed = written.clone()
    changed[0, 4:] = 7
    before, after = model.reconstruct(source, written), model.reconstruct(source, changed)
    torch.testing.assert_close(before[:, :4], after[:, :4])  # no position sees the future
    assert not torch.allclose(before[:, 4:], after[:, 4:])


def test_a_few_seconds_of_pretraining_lower_the_reconstruction_loss():
    vocab = Vocabulary.build([[f"w{i}" for i in range(35)]], min_freq=1)
    torch.manual_seed(0)
    # a tiny corpus with structure to learn: runs of consecutive ids
    reviews = [list(range(start, start + 16)) for start in range(36, 55)]
    model = SentimentTransformer(_tiny(vocab_size=len(vocab)))
    rng = np.random.default_rng(0)
    fixed = [denoising_batch(reviews, np.random.default_rng(1), CorruptionConfig(0.3), vocab)]
    before = pretraining.heldout_metrics(model.eval(), fixed)["heldout_loss"]
    history = fit(
        model,
        lambda epoch: [denoising_batch(reviews, rng, CorruptionConfig(0.3), vocab)] * 10,
        reconstruction_loss,
        lambda net: pretraining.heldout_metrics(net, fixed),
        TrainConfig(epochs=4, lr=3e-3, monitor="heldout_loss"),
        steps_per_epoch=10,
        progress=False,
    )
    assert min(r["heldout_loss"] for r in history) < 0.6 * before


def test_pretraining_sees_training_text_only():
    frame = pd.DataFrame(
        {
            "tokens": [[f"t{i}"] for i in range(30)],
            "split": ["train"] * 20 + ["validation"] * 5 + ["test"] * 5,
        }
    )
    corpus, heldout = pretraining.pretraining_reviews(frame, heldout=4, seed=1)
    used = {tuple(t) for t in (*corpus, *heldout)}
    assert used == {(f"t{i}",) for i in range(20)}
    assert len(heldout) == 4 and not {tuple(t) for t in corpus} & {tuple(t) for t in heldout}
    # unlabelled reviews join the corpus, except those that are also a validation/test review
    unlabelled = [["u1"], ["t25"], ["t21"], ["u2"]]
    corpus, _ = pretraining.pretraining_reviews(frame, heldout=4, seed=1, unlabelled=unlabelled)
    assert {tuple(t) for t in corpus} - used == {("u1",), ("u2",)}


def test_fine_tuning_starts_from_every_pretrained_tensor(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "weights_dir", lambda: tmp_path)
    vocab = Vocabulary.build([[f"w{i}" for i in range(35)]], min_freq=1)
    config = _tiny(vocab_size=len(vocab))
    pretrained = SentimentTransformer(config)
    with torch.no_grad():  # distinguishable from any fresh initialisation
        for tensor in pretrained.parameters():
            tensor.add_(torch.randn_like(tensor))
    experiment = pretraining.PretrainExperiment(model=config, train=TrainConfig())
    pretraining.save_weights(
        pretraining.weights_path(), pretrained, experiment, vocab=list(vocab.tokens)
    )
    model, loaded_vocab, copied = pretraining.fine_tuning_start(
        dataclasses.replace(config, max_len=64, queries=2, dropout=0.1)
    )
    assert loaded_vocab == vocab
    expected = pretrained.state_dict()
    for name, tensor in model.state_dict().items():
        if name in CLASSIFIER_ONLY:
            assert name not in copied
        else:
            assert name in copied
            assert torch.equal(tensor, expected[name]), f"{name} left at its initial value"
    assert {n for n, _ in model.named_parameters()} - set(copied) == set(CLASSIFIER_ONLY)
    with pytest.raises(pretraining.WeightsMismatchError, match="d_model: pre-trained 16"):
        pretraining.fine_tuning_start(dataclasses.replace(config, d_model=32))


def _tiny_pretraining(cycles: int) -> pretraining.PretrainExperiment:
    return pretraining.PretrainExperiment(
        model=_tiny(vocab_size=0),
        train=TrainConfig(epochs=2, lr=3e-3, monitor="heldout_loss", schedule="cosine"),
        batch_size=4,
        min_freq=1,
        heldout_reviews=3,
        cycles=cycles,
    )


def _tiny_reviews() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {
            "tokens": [[f"w{i}" for i in rng.integers(0, 30, size=12)] for _ in range(24)],
            "split": ["train"] * 20 + ["test"] * 4,
        }
    )


def test_extending_pretraining_by_a_cycle_equals_running_both_cycles(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "weights_dir", lambda: tmp_path)
    frame = _tiny_reviews()
    both, _, history = pretraining.pretrain(_tiny_pretraining(2), frame, progress=False)
    assert [r["epoch"] for r in history] == [1, 2, 3, 4]
    assert [r["cycle"] for r in history] == [1, 1, 2, 2]
    # the second cycle restarts the schedule: a warm-up again after the first cycle's decay
    assert history[2]["lr"] > history[1]["lr"]

    first, vocab, short = pretraining.pretrain(_tiny_pretraining(1), frame, progress=False)
    experiment = dataclasses.replace(_tiny_pretraining(1), model=first.config)
    pretraining.save_weights(
        pretraining.weights_path(), first, experiment, vocab=list(vocab.tokens)
    )
    pretraining.save_history(
        pretraining.history_path(),
        [
            {k: v for k, v in record.items() if k != "cycle"}
            for record in short  # as stored before cycles
        ],
    )
    assert pretraining.stored_prefix(_tiny_pretraining(1)) is None  # nothing left to extend
    other = dataclasses.replace(_tiny_pretraining(2), batch_size=8)
    assert pretraining.stored_prefix(other) is None  # another recipe: train afresh
    resume = pretraining.stored_prefix(_tiny_pretraining(2))
    assert resume is not None
    extended, _, longer = pretraining.pretrain(
        _tiny_pretraining(2), frame, progress=False, resume=resume
    )
    assert [r["cycle"] for r in longer] == [1, 1, 2, 2]
    keys = ("epoch", "heldout_loss", "train_batch_loss", "lr")
    assert [[r[k] for k in keys] for r in longer] == [[r[k] for k in keys] for r in history]
    for name, tensor in extended.state_dict().items():
        assert torch.equal(tensor, both.state_dict()[name]), name
