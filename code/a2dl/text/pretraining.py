"""Self-supervised pre-training of the Part IV encoder-decoder as a denoising autoencoder of
reviews (``python -m a2dl train sentiment-pretrain``).

The objective is T5's span corruption (Raffel et al. 2020), a cheap relative of BART's text
infilling: spans covering 15% of a review's tokens are cut out, the i-th replaced by the
sentinel ``<mask_i>`` in the encoder's input, and the decoder, a causal sequence decoder,
writes the cut spans back, each after its sentinel, then ``<eos>``. (With one shared
``<mask>`` the decoder cannot tell which gap it is filling: a first run of this project
plateaued at predicting the markers and frequent words only.) The target is about a fifth of the
review's length, so the output layer (the expensive part with a 20,000-word vocabulary) runs
on few positions, while the encoder still reads the whole review. Only training-split text is
used (validation and test reviews never reach pre-training); a slice of it is held out to
monitor the reconstruction loss.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from a2dl import artefacts, device
from a2dl.checkpoint import (
    WeightsMismatchError,
    load_history,
    load_weights,
    save_history,
    save_weights,
)
from a2dl.text.batching import bucketed_batches, pad_batch
from a2dl.text.model import SentimentTransformer, SentimentTransformerConfig
from a2dl.text.vocab import Vocabulary
from a2dl.train import TrainConfig, fit

PRETRAINED = "imdb_pretrained"
IGNORE = -100  # target positions that carry no loss (padding)


@dataclass(frozen=True)
class CorruptionConfig:
    mask_fraction: float = 0.15
    mean_span: float = 3.0


@dataclass(frozen=True)
class PretrainExperiment:
    """Everything that defines the pre-trained weights, stored beside them."""

    model: SentimentTransformerConfig
    train: TrainConfig
    corruption: CorruptionConfig = CorruptionConfig()
    batch_size: int = 64
    min_freq: int = 2
    max_vocab: int = 20_000
    heldout_reviews: int = 1_000  # training reviews held out of pre-training, for its curve
    # Warm restarts (Loshchilov & Hutter 2017): each cycle runs ``train.epochs`` epochs with a
    # fresh optimiser and its own warm-up and cosine decay, on fresh corruptions. A run of
    # fewer cycles is a prefix of a longer one, so pre-training can be extended
    # (:func:`extend_pretraining`; the ablation's "two pre-training cycles").
    cycles: int = 1


def default_pretraining(vocab_size: int = 20_000, max_len: int = 512) -> PretrainExperiment:
    """The shipped recipe. Pre-training reads up to 512 tokens of a review whatever context
    fine-tuning keeps later (a shorter one uses a prefix of the learned positions)."""
    return PretrainExperiment(
        model=SentimentTransformerConfig(vocab_size=vocab_size, max_len=max_len),
        train=TrainConfig(
            epochs=10,  # per cycle, about 40 minutes of two CPU cores (a2dl bench sentiment)
            lr=1e-3,
            weight_decay=0.01,
            warmup_fraction=0.05,
            schedule="cosine",
            grad_clip=1.0,
            monitor="heldout_loss",
            mode="min",
        ),
    )


def corrupt_spans(
    ids: list[int],
    rng: np.random.Generator,
    corruption: CorruptionConfig,
    *,
    sentinels: Sequence[int],
    eos_id: int,
) -> tuple[list[int], list[int]]:
    """(encoder input, decoder target) of one review under span corruption.

    ``round(len · mask_fraction)`` tokens (at least one, never all) are cut out in
    ``round(masked / mean_span)`` non-adjacent spans of random lengths (at most one per
    sentinel); the encoder input keeps the other tokens with sentinel i where span i was, and
    the target lists each span after its sentinel, then ``<eos>``. Padding is added later, so
    it is never masked.
    """
    n = len(ids)
    masked = min(n - 1, max(1, round(n * corruption.mask_fraction)))
    if masked <= 0:
        return list(ids), [eos_id]
    kept = n - masked
    spans = max(1, min(masked, kept + 1, len(sentinels), round(masked / corruption.mean_span)))
    cuts = np.sort(rng.choice(np.arange(1, masked), size=spans - 1, replace=False))
    lengths = np.diff(np.concatenate([[0], cuts, [masked]]))
    # Span j goes before the kept token number insert[j]: distinct points, so spans never touch.
    inserts = np.sort(rng.choice(kept + 1, size=spans, replace=False))
    encoder, target, source, copied = [], [], 0, 0
    for sentinel, insert, length in zip(sentinels, inserts, lengths, strict=False):
        encoder += ids[source : source + insert - copied]
        source += insert - copied
        copied = insert
        encoder.append(sentinel)
        target += [sentinel, *ids[source : source + length]]
        source += length
    encoder += ids[source:]
    return encoder, [*target, eos_id]


def target_spans(
    target: list[int], *, sentinels: Sequence[int], eos_id: int
) -> dict[int, list[int]]:
    """The spans a (true or generated) target lists, by the sentinel each follows."""
    if eos_id in target:
        target = target[: target.index(eos_id)]
    markers, spans, current = set(sentinels), {}, None
    for token in target:
        if token in markers:
            current = spans.setdefault(token, [])
        elif current is not None:
            current.append(token)
    return spans


def fill_spans(
    encoder: list[int], target: list[int], *, sentinels: Sequence[int], eos_id: int
) -> list[int]:
    """The review that an encoder input and a target describe: each sentinel replaced by its
    span (nothing, if the target lacks it). Inverts :func:`corrupt_spans`."""
    spans = target_spans(target, sentinels=sentinels, eos_id=eos_id)
    markers, filled = set(sentinels), []
    for token in encoder:
        filled += spans.get(token, []) if token in markers else [token]
    return filled


def denoising_batch(
    reviews: list[list[int]],
    rng: np.random.Generator,
    corruption: CorruptionConfig,
    vocab: Vocabulary,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(corrupted reviews, decoder input = ``<bos>`` + target[:-1], target), padded; the
    target's padding is :data:`IGNORE` so that it carries no loss."""
    pairs = [
        corrupt_spans(ids, rng, corruption, sentinels=vocab.sentinel_ids, eos_id=vocab.eos_id)
        for ids in reviews
    ]
    targets = [target for _, target in pairs]
    return (
        pad_batch([encoder for encoder, _ in pairs], vocab.pad_id),
        pad_batch([[vocab.bos_id, *target[:-1]] for target in targets], vocab.pad_id),
        pad_batch(targets, IGNORE),
    )


def reconstruction_loss(model: SentimentTransformer, batch) -> torch.Tensor:
    corrupted, decoder_input, target = batch
    logits = model.reconstruct(corrupted, decoder_input)
    return nn.functional.cross_entropy(logits.flatten(0, 1), target.flatten(), ignore_index=IGNORE)


@torch.no_grad()
def heldout_metrics(model: SentimentTransformer, batches: list) -> dict[str, float]:
    """Mean loss per target token and the share of target tokens predicted exactly."""
    total_loss, correct, count = 0.0, 0, 0
    for corrupted, decoder_input, target in batches:
        logits = model.reconstruct(corrupted, decoder_input)
        keep = target != IGNORE
        total_loss += nn.functional.cross_entropy(
            logits[keep], target[keep], reduction="sum"
        ).item()
        correct += (logits[keep].argmax(-1) == target[keep]).sum().item()
        count += keep.sum().item()
    return {"heldout_loss": total_loss / count, "heldout_token_accuracy": correct / count}


def pretraining_reviews(
    frame: pd.DataFrame, heldout: int, seed: int, unlabelled: list[list[str]] = ()
) -> tuple[pd.Series, pd.Series]:
    """(reviews to pre-train on, held-out reviews): token lists of the training split, plus
    the unlabelled reviews that are not also a validation or test review."""
    train = frame.loc[frame["split"] == "train", "tokens"]
    order = np.random.default_rng(seed).permutation(len(train))
    evaluated = {tuple(t) for t in frame.loc[frame["split"] != "train", "tokens"]}
    extra = pd.Series([t for t in unlabelled if tuple(t) not in evaluated], dtype=object)
    corpus = pd.concat([train.iloc[order[heldout:]], extra], ignore_index=True)
    return corpus, train.iloc[order[:heldout]]


def unlabelled_tokens() -> list[list[str]]:
    """The ``train/unsup`` reviews, cleaned as the labelled ones (none in a labelled-only copy)."""
    from a2dl.data.imdb import load_unlabelled_reviews
    from a2dl.text.cleaned import clean_texts

    return clean_texts(load_unlabelled_reviews())


def heldout_batches(
    heldout: pd.Series, experiment: PretrainExperiment, vocab: Vocabulary
) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """The held-out reviews corrupted once, with the run's seed, in batches of 128."""
    encoded = [vocab.encode(tokens, experiment.model.max_len) for tokens in heldout]
    rng = np.random.default_rng(experiment.train.seed)
    return [
        denoising_batch(encoded[i : i + 128], rng, experiment.corruption, vocab)
        for i in range(0, len(encoded), 128)
    ]


def frequency_only_loss(
    frame: pd.DataFrame, experiment: PretrainExperiment, vocab: Vocabulary
) -> float:
    """The held-out loss of the best predictor that ignores context: each target token's
    frequency among the held-out targets themselves (their entropy, in nats per token). A
    pre-trained model below it has learnt something from the context of the gaps."""
    _, heldout = pretraining_reviews(frame, experiment.heldout_reviews, experiment.train.seed)
    targets = torch.cat([t[t != IGNORE] for *_, t in heldout_batches(heldout, experiment, vocab)])
    share = torch.bincount(targets).double()
    share = share[share > 0] / share.sum()
    return float(-(share * share.log()).sum())


def pretrain(
    experiment: PretrainExperiment,
    frame: pd.DataFrame,
    unlabelled: list[list[str]] = (),
    *,
    progress: bool = True,
    resume: tuple[SentimentTransformer, list[dict[str, float]]] | None = None,
) -> tuple[SentimentTransformer, Vocabulary, list[dict[str, float]]]:
    """Pre-train on the training split of ``frame`` (with ``tokens`` and ``split``) and the
    ``unlabelled`` token lists. The vocabulary comes from the labelled training split alone,
    so that the classifier fine-tuned from these weights has the same one. ``resume`` is a
    model and history of this experiment after whole cycles: the cycles still missing are run
    on it, exactly as an uninterrupted run would (every cycle is seeded by its number)."""
    train_tokens = frame.loc[frame["split"] == "train", "tokens"]
    vocab = Vocabulary.build(
        train_tokens, min_freq=experiment.min_freq, max_size=experiment.max_vocab
    )
    config = dataclasses.replace(experiment.model, vocab_size=len(vocab))
    corpus, heldout = pretraining_reviews(
        frame, experiment.heldout_reviews, experiment.train.seed, unlabelled
    )
    encoded = [vocab.encode(tokens, config.max_len) for tokens in corpus]
    lengths = np.array([len(ids) for ids in encoded])
    fixed = heldout_batches(heldout, experiment, vocab)
    epochs = experiment.train.epochs

    def cycle_batches(cycle: int):
        def batches(epoch: int):
            # a fresh corruption of every review in every epoch of every cycle (dynamic masking)
            seed = experiment.train.seed + (cycle - 1) * epochs + epoch
            rng = np.random.default_rng(seed)
            for index in bucketed_batches(lengths, experiment.batch_size, seed):
                yield denoising_batch(
                    [encoded[i] for i in index], rng, experiment.corruption, vocab
                )

        return batches

    torch.manual_seed(experiment.train.seed)
    model, history = resume or (SentimentTransformer(config), [])
    if model.config != config:
        raise WeightsMismatchError(
            f"the pre-training to extend has {model.config}, this data gives {config}: "
            "delete weights/imdb_pretrained.pt to pre-train from the start."
        )
    model = model.to(device.current())
    on_device = [tuple(t.to(device.current()) for t in batch) for batch in fixed]
    done = max((record.get("cycle", 1) for record in history), default=0)
    for cycle in range(done + 1, experiment.cycles + 1):
        records = fit(
            model,
            cycle_batches(cycle),
            reconstruction_loss,
            lambda net: heldout_metrics(net, on_device),
            dataclasses.replace(experiment.train, seed=experiment.train.seed + cycle - 1),
            steps_per_epoch=-(-len(encoded) // experiment.batch_size),
            progress=progress,
        )
        offset = (cycle - 1) * epochs
        history = history + [
            record | {"epoch": record["epoch"] + offset, "cycle": cycle} for record in records
        ]
    return model, vocab, history


def _stem(cycles: int) -> str:
    return PRETRAINED if cycles == 1 else f"{PRETRAINED}_{cycles}cycles"


def weights_path(cycles: int = 1):
    """The shipped pre-training (one cycle), or its extension to ``cycles``."""
    return artefacts.weights_path(_stem(cycles))


def history_path(cycles: int = 1):
    return artefacts.history_path(_stem(cycles))


def stored_prefix(
    experiment: PretrainExperiment,
) -> tuple[SentimentTransformer, list[dict[str, float]]] | None:
    """The shipped pre-training where it is ``experiment`` cut short by cycles (so that it is
    extended instead of run again), else None."""
    if not weights_path().exists() or not history_path().exists():
        return None
    try:
        model, _, stored, _ = load_pretrained()
    except WeightsMismatchError:
        return None
    same_recipe = (
        dataclasses.replace(stored, model=experiment.model, cycles=experiment.cycles) == experiment
    )
    # the stored config holds the vocabulary's size, which the recipe leaves open
    same_model = (
        dataclasses.replace(stored.model, vocab_size=experiment.model.vocab_size)
        == experiment.model
    )
    if not (same_recipe and same_model) or stored.cycles >= experiment.cycles:
        return None
    history = [{"cycle": 1} | record for record in load_history(history_path())]
    return model, history


def _pretrain_and_save(experiment: PretrainExperiment, resume, *, progress: bool) -> None:
    from a2dl.text.cleaned import cleaned_splits

    unlabelled = unlabelled_tokens()
    model, vocab, history = pretrain(
        experiment, cleaned_splits(), unlabelled, progress=progress, resume=resume
    )
    experiment = dataclasses.replace(experiment, model=model.config)
    seconds = sum(record["train_seconds"] for record in history)
    path = weights_path(experiment.cycles)
    save_weights(
        path,
        model,
        experiment,
        vocab=list(vocab.tokens),
        train_seconds=seconds,
        train_cpu_seconds=sum(record["train_cpu_seconds"] for record in history),
        unlabelled_reviews=len(unlabelled),
    )
    save_history(history_path(experiment.cycles), history)
    print(f"saved {path} ({seconds / 60:.1f} min)")


def pretrain_and_save(*, progress: bool = True) -> None:
    """``train sentiment-pretrain``: the pre-trained encoder-decoder and its history."""
    _pretrain_and_save(default_pretraining(), None, progress=progress)


def extend_pretraining(cycles: int, *, progress: bool = True) -> None:
    """The pre-training of ``cycles`` cycles beside the shipped one, continued from the shipped
    weights (its first cycle) rather than run again, unless it is stored already."""
    if cycles == 1 or weights_path(cycles).exists():
        return
    experiment = dataclasses.replace(default_pretraining(), cycles=cycles)
    resume = stored_prefix(experiment)
    if resume is None:
        raise FileNotFoundError(
            f"{weights_path()} is missing or holds another recipe, so it cannot be extended to "
            f"{cycles} cycles: run `python -m a2dl train sentiment-pretrain` first."
        )
    print(f"extending {weights_path()} to {cycles} cycles")
    _pretrain_and_save(experiment, resume, progress=progress)


def load_pretrained(
    cycles: int = 1,
) -> tuple[SentimentTransformer, Vocabulary, PretrainExperiment, dict]:
    model, experiment, metadata = load_weights(
        weights_path(cycles), lambda exp: SentimentTransformer(exp.model), PretrainExperiment
    )
    return model, Vocabulary(tuple(metadata["vocab"])), experiment, metadata


def load_pretraining_history(cycles: int = 1) -> pd.DataFrame:
    """The per-epoch history, with the warm-restart cycle of each epoch (histories written
    before cycles existed are one cycle)."""
    history = pd.DataFrame(load_history(history_path(cycles)))
    if "cycle" not in history:
        history["cycle"] = 1
    return history


@torch.no_grad()
def generate_target(
    model: SentimentTransformer, corrupted: list[int], vocab: Vocabulary, *, max_steps: int = 200
) -> list[int]:
    """The decoder's greedy answer for one corrupted review: spans after ``<mask_i>`` sentinels,
    up to ``<eos>``. One token per step, each step re-reading what it wrote (causal)."""
    model.eval()
    source = torch.tensor([corrupted])
    written = [vocab.bos_id]
    never = torch.tensor([vocab.pad_id, vocab.bos_id])  # not tokens a target can hold
    for _ in range(max_steps):
        logits = model.reconstruct(source, torch.tensor([written]))[0, -1]
        token = int(logits.index_fill(0, never, -torch.inf).argmax())
        if token == vocab.eos_id:
            break
        written.append(token)
    return written[1:]


# What fine-tuning may change; every other field of the config must match the pre-trained one.
FINE_TUNING_FIELDS = ("max_len", "dropout", "attention_dropout", "queries", "classes")
# Tensors that only the classifier has: started afresh in fine-tuning.
CLASSIFIER_ONLY = ("query", "classifier.weight", "classifier.bias")


def fine_tuning_start(
    config: SentimentTransformerConfig, cycles: int = 1
) -> tuple[SentimentTransformer, Vocabulary, list[str]]:
    """A classifier of ``config`` holding every tensor of the pre-training of ``cycles``
    cycles, its vocabulary, and the names of the tensors copied (all but
    :data:`CLASSIFIER_ONLY`)."""
    pretrained, vocab, experiment, _ = load_pretrained(cycles)
    stored = dataclasses.asdict(experiment.model)
    wanted = dataclasses.asdict(dataclasses.replace(config, vocab_size=len(vocab)))
    differing = [
        f"{key}: pre-trained {stored[key]!r}, fine-tuning {wanted[key]!r}"
        for key in stored
        if key not in FINE_TUNING_FIELDS and stored[key] != wanted[key]
    ]
    if differing:
        raise WeightsMismatchError(
            f"{weights_path(cycles)} was pre-trained for another architecture "
            f"({'; '.join(differing)}). "
            "Pre-train again with `python -m a2dl train sentiment-pretrain`, or fine-tune with "
            "the pre-trained architecture."
        )
    model = SentimentTransformer(dataclasses.replace(config, vocab_size=len(vocab)))
    state = {k: v for k, v in pretrained.state_dict().items() if k not in CLASSIFIER_ONLY}
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert sorted(missing) == sorted(CLASSIFIER_ONLY) and not unexpected, (missing, unexpected)
    return model, vocab, sorted(state)


def reconstruction_example(
    model: SentimentTransformer,
    vocab: Vocabulary,
    experiment: PretrainExperiment,
    frame: pd.DataFrame,
    *,
    seed: int,
    lengths: tuple[int, int] = (40, 60),
) -> pd.DataFrame:
    """One held-out training review of ``lengths`` tokens: cleaned, corrupted, and as the
    decoder writes it back (its spans in [brackets]), for the chapter's table."""
    _, heldout = pretraining_reviews(frame, experiment.heldout_reviews, experiment.train.seed)
    tokens = next(t for t in heldout if lengths[0] <= len(t) <= lengths[1])
    ids = vocab.encode(tokens, experiment.model.max_len)
    encoder, _ = corrupt_spans(
        ids,
        np.random.default_rng(seed),
        experiment.corruption,
        sentinels=vocab.sentinel_ids,
        eos_id=vocab.eos_id,
    )
    written = generate_target(model, encoder, vocab)
    spans = target_spans(written, sentinels=vocab.sentinel_ids, eos_id=vocab.eos_id)
    rebuilt = [
        "[" + " ".join(vocab.decode(spans.get(token, []))) + "]"
        if token in vocab.sentinel_ids
        else vocab.tokens[token]
        for token in encoder
    ]
    return pd.DataFrame(
        {
            "stage": ["review (cleaned)", "encoder input", "decoder’s reconstruction"],
            "text": [
                " ".join(vocab.decode(ids)),
                " ".join(vocab.tokens[t] for t in encoder),
                " ".join(rebuilt),
            ],
        }
    )
