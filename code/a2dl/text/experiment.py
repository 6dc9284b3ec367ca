"""Part IV end to end: prepare the splits, train the Transformer (and its ablations), fit the
TF-IDF baseline, and evaluate saved weights. ``python -m a2dl train sentiment`` runs it."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd
import torch
from torch import nn

from a2dl import device, paths
from a2dl.cache import cached, file_digest
from a2dl.checkpoint import load_history, load_weights, read_json, save_history, save_weights
from a2dl.data.stopwords import english_stopwords
from a2dl.metrics import ClassificationResult, epoch_record
from a2dl.text.batching import bucketed_batches, pad_batch
from a2dl.text.cleaning import clean_review, stopwords_to_remove
from a2dl.text.model import SentimentTransformer, SentimentTransformerConfig
from a2dl.text.pretraining import extend_pretraining, fine_tuning_start
from a2dl.text.splits import SPLIT_SEED, imdb_splits
from a2dl.text.vocab import Vocabulary
from a2dl.train import TrainConfig, best_epoch, fit

WEIGHTS = "imdb_transformer"
BASELINE = "imdb_baseline.json"
ABLATION = "imdb_ablation.json"
TRAIN_ACCURACY_SAMPLE = 5_000


@dataclass(frozen=True)
class SentimentExperiment:
    """Everything that defines the shipped Part IV model, stored beside its weights."""

    model: SentimentTransformerConfig
    train: TrainConfig
    batch_size: int = 64
    min_freq: int = 2
    max_vocab: int = 20_000
    keep_negations: bool = True
    # Knowledge distillation (Hinton et al. 2015) from the TF-IDF baseline: the weight of its
    # cross-fitted probabilities in each training review's target (0: the label alone).
    teacher_weight: float = 0.0
    # Start from the denoising pre-training (weights/imdb_pretrained.pt), whose vocabulary
    # and architecture then hold; False trains the same model from a random start.
    pretrained: bool = True
    # Cycles of that pre-training (warm restarts); more than one are made on first use by
    # extending the shipped pre-training (weights/imdb_pretrained_<n>cycles.pt).
    pretraining_cycles: int = 1


def default_experiment(vocab_size: int = 20_000) -> SentimentExperiment:
    return SentimentExperiment(
        # 256 tokens, head and tail of the longer reviews: the ablation's validation preferred
        # them to 512 (which hold 99.4% of the cleaned reviews whole), at half the cost
        # dropout 0.2: validation preferred it to 0.1 by 26 reviews in the ablation, within
        # noise alone, and by more once the targets were distilled from the baseline
        model=SentimentTransformerConfig(vocab_size=vocab_size, max_len=256, dropout=0.2),
        train=TrainConfig(
            epochs=6,
            lr=5e-4,
            weight_decay=0.05,
            warmup_fraction=0.1,
            schedule="cosine",
            grad_clip=1.0,
            # Checkpoints are chosen by validation accuracy: after pre-training, validation loss
            # is lowest after the first epoch while accuracy still rises for two more.
            patience=2,
            monitor="val_accuracy",
            mode="max",
        ),
        teacher_weight=0.5,  # validation prefers it to 0.8; both lead 0 by far (the ablation)
    )


@cache
def cleaned_splits(keep_negations: bool = True) -> pd.DataFrame:
    """The split reviews with a ``tokens`` column (cleaned, stop words removed); kept between
    renders by :mod:`a2dl.cache`, since cleaning 50,000 reviews takes half a minute."""
    removed = stopwords_to_remove(english_stopwords(), keep_negations=keep_negations)

    def clean() -> pd.DataFrame:
        frame = imdb_splits()
        return frame.assign(tokens=[clean_review(text, removed) for text in frame["text"]])

    return cached("imdb-cleaned", clean, removed=sorted(removed))


def predict(
    model: SentimentTransformer, encoded: list[list[int]], batch_size: int = 256
) -> np.ndarray:
    """Class probabilities, in input order, batching by length for speed."""
    model.eval()
    lengths = np.array([len(ids) for ids in encoded])
    order = np.argsort(lengths, kind="stable")
    proba = np.zeros((len(encoded), model.config.classes), dtype=np.float64)
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        tokens = pad_batch([encoded[i] for i in chunk], model.config.pad_id)
        on_device = tokens.to(next(model.parameters()).device)
        proba[chunk] = model.predict_proba(on_device).double().cpu().numpy()
    return proba / proba.sum(axis=1, keepdims=True)  # exact in float64 for log-loss


def evaluate(model: SentimentTransformer, encoded: list[list[int]], labels: np.ndarray):
    return ClassificationResult(np.asarray(labels), predict(model, encoded))


def build_model(config: SentimentTransformerConfig) -> SentimentTransformer:
    return SentimentTransformer(config)


def train_sentiment(
    experiment: SentimentExperiment,
    frame: pd.DataFrame,
    *,
    progress: bool = True,
) -> tuple[SentimentTransformer, Vocabulary, list[dict[str, float]], float]:
    """Train one model on ``frame`` (with ``tokens``, ``label``, ``split``), from the
    pre-trained weights or from a random start as ``experiment.pretrained`` says."""
    train = frame[frame["split"] == "train"]
    validation = frame[frame["split"] == "validation"]
    torch.manual_seed(experiment.train.seed)
    if experiment.pretrained:
        extend_pretraining(experiment.pretraining_cycles, progress=progress)
        model, vocab, _ = fine_tuning_start(experiment.model, experiment.pretraining_cycles)
    else:
        vocab = Vocabulary.build(
            train["tokens"], min_freq=experiment.min_freq, max_size=experiment.max_vocab
        )
        model = build_model(dataclasses.replace(experiment.model, vocab_size=len(vocab)))
    model = model.to(device.current())
    config = model.config
    max_len = config.max_len
    train_ids = [vocab.encode(t, max_len) for t in train["tokens"]]
    val_ids = [vocab.encode(t, max_len) for t in validation["tokens"]]
    train_y = torch.tensor(train["label"].to_numpy())
    if experiment.teacher_weight:
        teacher = torch.tensor(cross_fitted_baseline(frame), dtype=torch.float32)
        onehot = nn.functional.one_hot(train_y, config.classes).float()
        train_y = (1 - experiment.teacher_weight) * onehot + experiment.teacher_weight * teacher
    lengths = np.array([len(ids) for ids in train_ids])
    rng = np.random.default_rng(experiment.train.seed)
    probe = rng.choice(
        len(train_ids), size=min(TRAIN_ACCURACY_SAMPLE, len(train_ids)), replace=False
    )

    loss_fn = nn.CrossEntropyLoss()
    steps = -(-len(train_ids) // experiment.batch_size)

    def batches(epoch: int):
        for index in bucketed_batches(
            lengths, experiment.batch_size, experiment.train.seed + epoch
        ):
            yield pad_batch([train_ids[i] for i in index]), train_y[index]

    def step_loss(net: nn.Module, batch) -> torch.Tensor:
        tokens, labels = batch
        return loss_fn(net(tokens), labels)

    def epoch_metrics(net: nn.Module) -> dict[str, float]:
        probe_labels = train["label"].to_numpy()[probe]
        return epoch_record(
            evaluate(net, [train_ids[i] for i in probe], probe_labels),
            evaluate(net, val_ids, validation["label"].to_numpy()),
        )

    started = time.perf_counter()
    history = fit(
        model,
        batches,
        step_loss,
        epoch_metrics,
        experiment.train,
        steps_per_epoch=steps,
        progress=progress,
    )
    return model, vocab, history, time.perf_counter() - started


STOPWORD_POLICIES = ("keep negations", "remove all", "keep all")


@cache
def cleaned_with_policy(policy: str) -> pd.DataFrame:
    """The splits cleaned under one stop-word policy (for the baseline's comparison)."""
    if policy == "keep negations":
        return cleaned_splits(True)
    if policy == "remove all":
        return cleaned_splits(False)
    if policy == "keep all":
        frame = imdb_splits()
        return frame.assign(tokens=[clean_review(text) for text in frame["text"]])
    raise ValueError(f"unknown stop-word policy {policy!r}: use one of {STOPWORD_POLICIES}")


def _weights_path(name: str = WEIGHTS):
    return paths.weights_dir() / f"{name}.pt"


def _history_path(name: str = WEIGHTS):
    return paths.weights_dir() / f"{name}.history.json"


def load_sentiment_model(
    name: str = WEIGHTS,
) -> tuple[SentimentTransformer, Vocabulary, SentimentExperiment, dict]:
    """The shipped model in eval mode, its vocabulary, experiment config and metadata."""
    model, experiment, metadata = load_weights(
        _weights_path(name), lambda exp: build_model(exp.model), SentimentExperiment
    )
    return model, Vocabulary(tuple(metadata["vocab"])), experiment, metadata


def load_sentiment_history(name: str = WEIGHTS) -> pd.DataFrame:
    return pd.DataFrame(load_history(_history_path(name)))


def train_and_save(*, progress: bool = True) -> None:
    """``train sentiment``: the shipped Part IV model and its per-epoch history."""
    experiment = default_experiment()
    frame = cleaned_splits(True)
    model, vocab, history, seconds = train_sentiment(experiment, frame, progress=progress)
    experiment = dataclasses.replace(experiment, model=model.config)
    best = best_epoch(history, experiment.train.monitor, experiment.train.mode)
    save_weights(
        _weights_path(),
        model,
        experiment,
        vocab=list(vocab.tokens),
        train_seconds=seconds,
        train_cpu_seconds=sum(r["train_cpu_seconds"] for r in history),
        best_epoch=best["epoch"],
        # stored for the chapter, which would otherwise refit the teacher's five folds
        teacher_train_accuracy=teacher_accuracy(frame) if experiment.teacher_weight else None,
    )
    save_history(_history_path(), history)
    print(f"saved {_weights_path()} (best epoch {best['epoch']}, {seconds / 60:.1f} min)")


CONTEXT_LENGTHS = (256, 512)  # tokens kept per review: the two the ablation compares


def other_context(max_len: int) -> int:
    """The context length the ablation sets against the shipped one."""
    return CONTEXT_LENGTHS[0] if max_len == CONTEXT_LENGTHS[1] else CONTEXT_LENGTHS[1]


def context_variant(max_len: int) -> str:
    """The ablation row's name for the other context length: shorter keeps head and tail."""
    other = other_context(max_len)
    return f"{other} tokens" + (" (head and tail)" if other < max_len else " (longer context)")


TEACHER_WEIGHTS = (0.5, 0.8)  # the two weights of the teacher's probabilities that were tried


def other_teacher_weight(weight: float) -> float:
    """The teacher weight the ablation sets against the shipped one."""
    return TEACHER_WEIGHTS[0] if weight == TEACHER_WEIGHTS[1] else TEACHER_WEIGHTS[1]


def teacher_variant(weight: float) -> str:
    """The ablation row's name for the other teacher weight."""
    return f"teacher weight {other_teacher_weight(weight):g}"


def more_dropout_variant(dropout: float) -> str:
    """The ablation row's name for twice the shipped dropout rate."""
    return f"dropout {2 * dropout:g}"


def ablation_variants(experiment: SentimentExperiment) -> dict[str, SentimentExperiment]:
    """The shipped recipe with one thing switched off or changed at a time, most telling first
    (``train sentiment-ablation`` trains them in this order)."""
    train, model = experiment.train, experiment.model
    return {
        "no distillation": dataclasses.replace(experiment, teacher_weight=0.0),
        teacher_variant(experiment.teacher_weight): dataclasses.replace(
            experiment, teacher_weight=other_teacher_weight(experiment.teacher_weight)
        ),
        "no pre-training": dataclasses.replace(experiment, pretrained=False),
        # the other direction: the first cycle's held-out loss was still falling when it ended
        "two pre-training cycles": dataclasses.replace(experiment, pretraining_cycles=2),
        context_variant(model.max_len): dataclasses.replace(
            experiment, model=dataclasses.replace(model, max_len=other_context(model.max_len))
        ),
        "constant learning rate": dataclasses.replace(
            experiment, train=dataclasses.replace(train, warmup_fraction=0.0, schedule="constant")
        ),
        "no dropout": dataclasses.replace(
            experiment, model=dataclasses.replace(model, dropout=0.0, attention_dropout=0.0)
        ),
        # the other direction: since dropout helps, would more of it help more?
        more_dropout_variant(model.dropout): dataclasses.replace(
            experiment, model=dataclasses.replace(model, dropout=2 * model.dropout)
        ),
        "no early stopping": dataclasses.replace(
            experiment, train=dataclasses.replace(train, patience=None, keep_best=False)
        ),
        "no weight decay": dataclasses.replace(
            experiment, train=dataclasses.replace(train, weight_decay=0.0)
        ),
    }


def _split_result(model, vocab, frame, split: str) -> ClassificationResult:
    part = frame[frame["split"] == split]
    encoded = [vocab.encode(t, model.config.max_len) for t in part["tokens"]]
    return evaluate(model, encoded, part["label"].to_numpy())


def _ablation_row(name, model, vocab, frame, history, experiment, seconds) -> dict:
    test = _split_result(model, vocab, frame, "test")
    kept = best_epoch(history, experiment.train.monitor, experiment.train.mode)["epoch"]
    return {
        "variant": name,
        "val_accuracy": _split_result(model, vocab, frame, "validation").summary()["accuracy"],
        "test_accuracy": test.summary()["accuracy"],
        "kept_epoch": kept if experiment.train.keep_best else len(history),
        "epochs_run": len(history),
        "train_minutes": seconds / 60,
        "train_cpu_minutes": sum(r.get("train_cpu_seconds", 0.0) for r in history) / 60,
        # every test prediction, for paired tests against the shipped model
        "test_p_positive": [round(float(p), 4) for p in test.proba[:, 1]],
        "history": history,
    }


def pretrained_digest() -> str | None:
    """The SHA-256 of the pre-trained weights that fine-tuned variants start from."""
    from a2dl.checkpoint import read_weights
    from a2dl.text.pretraining import weights_path

    return read_weights(weights_path())["sha256"] if weights_path().is_file() else None


ADDED_FIELDS = {
    "teacher_weight": 0.0,
    "pretraining_cycles": 1,
}  # SentimentExperiment fields newer than stored runs


def recipe_digest(experiment: SentimentExperiment) -> str:
    """A fingerprint of everything a fine-tuning run depends on besides the data and the
    pre-trained weights: two rows with the same fingerprint are the same experiment."""
    fields = dataclasses.asdict(experiment)
    # Fields added after runs were stored count only when set, so older fingerprints hold.
    for name, off in ADDED_FIELDS.items():
        if fields[name] == off:
            del fields[name]
    text = json.dumps(fields, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def run_key(experiment: SentimentExperiment, pretrained: str | None) -> tuple[str, str | None]:
    """Where a run of ``experiment`` is stored, given the digest of the pre-trained weights: a
    run from random weights does not depend on them, and stays valid when they change."""
    return recipe_digest(experiment), pretrained if experiment.pretrained else None


def _stored_runs() -> dict[tuple[str | None, str | None], dict]:
    """The ablation's runs by (recipe fingerprint, pre-trained weights fingerprint)."""
    path = paths.weights_dir() / ABLATION
    rows = read_json(path) if path.is_file() else []
    return {(row.get("recipe_sha256"), row.get("pretrained_sha256")): row for row in rows}


def ablate(*, progress: bool = True) -> None:
    """``train sentiment-ablation``: each variant of the shipped recipe trained with the same
    seed, data and epoch budget, in :func:`ablation_variants`' order, each run saved as soon
    as it is done.

    Runs are stored by the fingerprint of the recipe they trained and of the pre-trained
    weights they started from, and a variant already stored under both is not trained again:
    an interrupted ablation resumes, and when validation prefers a variant that then becomes
    the shipped recipe, the former shipped recipe (now one of its variants) is reused.
    """
    frame = cleaned_splits(True)
    _, _, experiment, _ = load_sentiment_model()
    pretrained = pretrained_digest()
    runs = _stored_runs()
    for name, variant in ablation_variants(experiment).items():
        key = run_key(variant, pretrained)
        if key in runs:
            continue
        model, vocab, history, seconds = train_sentiment(variant, frame, progress=progress)
        row = _ablation_row(name, model, vocab, frame, history, variant, seconds)
        runs[key] = row | {"recipe_sha256": key[0], "pretrained_sha256": pretrained}
        (paths.weights_dir() / ABLATION).write_text(json.dumps(list(runs.values()), indent=1))
        print(f"{name}: val {row['val_accuracy']:.4f} test {row['test_accuracy']:.4f}")


TEACHER_FOLDS = 5


def cross_fitted_baseline(frame: pd.DataFrame) -> np.ndarray:
    """The baseline's class probabilities for each training review, (reviews, 2), each from a
    model fitted on the other folds: a teacher fitted on a review itself would only repeat
    its label. Kept between runs by :mod:`a2dl.cache`."""
    from sklearn.model_selection import StratifiedKFold

    train = frame[frame["split"] == "train"].reset_index(drop=True)

    def fit_folds() -> np.ndarray:
        proba = np.zeros((len(train), 2))
        folds = StratifiedKFold(TEACHER_FOLDS, shuffle=True, random_state=SPLIT_SEED)
        for fitted, held in folds.split(train, train["label"]):
            pipeline = fit_baseline(train.iloc[fitted].assign(split="train"))
            proba[held] = pipeline.predict_proba(train["tokens"].iloc[held])
        return proba

    return cached("imdb-teacher", fit_folds, folds=TEACHER_FOLDS, reviews=len(train))


def teacher_accuracy(frame: pd.DataFrame) -> float:
    """The share of training reviews whose cross-fitted teacher probability is on the side
    of their label."""
    labels = frame.loc[frame["split"] == "train", "label"].to_numpy()
    return float(np.mean((cross_fitted_baseline(frame)[:, 1] >= 0.5) == labels))


def fit_baseline(frame: pd.DataFrame):
    """TF-IDF of word 1–2-grams and logistic regression, on the same split and cleaning."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    train = frame[frame["split"] == "train"]
    pipeline = make_pipeline(
        TfidfVectorizer(
            analyzer=lambda tokens: (
                tokens + [" ".join(p) for p in zip(tokens, tokens[1:], strict=False)]
            ),
            min_df=2,
            max_features=200_000,
            sublinear_tf=True,
        ),
        LogisticRegression(C=4.0, max_iter=2000),
    )
    return pipeline.fit(train["tokens"], train["label"])


def baseline(*, progress: bool = True) -> None:
    """``train sentiment-baseline``: TF-IDF + logistic regression under each stop-word policy."""
    rows = []
    for policy in STOPWORD_POLICIES:
        frame = cleaned_with_policy(policy)
        started = time.perf_counter()
        pipeline = fit_baseline(frame)
        seconds = time.perf_counter() - started
        row = {"stopwords": policy, "train_seconds": seconds}
        for split in ("train", "validation", "test"):
            part = frame[frame["split"] == split]
            proba = pipeline.predict_proba(part["tokens"])
            result = ClassificationResult(part["label"].to_numpy(), proba)
            row |= {f"{split}_{k}": v for k, v in result.summary().items()}
        # kept so that the chapter can draw the baseline's ROC curve without refitting it
        row["test_p_positive"] = [round(float(p), 6) for p in proba[:, 1]]
        rows.append(row)
        if progress:
            print(f"{policy}: val {row['validation_accuracy']:.4f} test {row['test_accuracy']:.4f}")
    (paths.weights_dir() / BASELINE).write_text(json.dumps(rows, indent=1))


TRAIN_SAMPLE = 2_000  # training reviews scored for the results table (seeded, fixed)


def evaluate_splits(
    model: SentimentTransformer, vocab: Vocabulary, frame: pd.DataFrame
) -> dict[str, ClassificationResult]:
    """The saved model on a fixed sample of ``TRAIN_SAMPLE`` training reviews and on the whole
    validation and test splits. (Scoring all training reviews would nearly double the
    chapter's time to estimate a training accuracy near 98% that the sample gives to about
    ±0.6 points.)"""
    train = frame[frame["split"] == "train"]
    sample = train.sample(n=min(TRAIN_SAMPLE, len(train)), random_state=SPLIT_SEED)
    sampled = pd.concat([sample, frame[frame["split"] != "train"]])
    return {
        split: _split_result(model, vocab, sampled, split)
        for split in ("train", "validation", "test")
    }


def shipped_results() -> dict[str, ClassificationResult]:
    """:func:`evaluate_splits` of the shipped weights on :func:`cleaned_splits`, kept between
    renders by :mod:`a2dl.cache`."""
    model, vocab, _, _ = load_sentiment_model()
    return cached(
        "imdb-results",
        lambda: evaluate_splits(model, vocab, cleaned_splits(True)),
        weights=file_digest(_weights_path()),
        train_sample=TRAIN_SAMPLE,
    )


def test_metrics() -> dict[str, float]:
    """``evaluate sentiment``: the saved Transformer on the test split, as in the chapter."""
    model, vocab, _, _ = load_sentiment_model()
    return _split_result(model, vocab, cleaned_splits(True), "test").summary()


def load_baseline() -> pd.DataFrame:
    return pd.DataFrame(read_json(paths.weights_dir() / BASELINE))


def stored_repeat(experiment: SentimentExperiment) -> dict | None:
    """A stored ablation run of ``experiment`` itself (the shipped recipe was once a variant of
    an earlier one), or None: beside the shipped model it measures run-to-run variation."""
    return _stored_runs().get(run_key(experiment, pretrained_digest()))


def load_ablation(experiment: SentimentExperiment) -> pd.DataFrame:
    """The stored runs of ``experiment``'s variants, in :func:`ablation_variants`' order and
    named after them, with each run's test predictions for paired tests; variants not yet
    trained are left out."""
    runs = _stored_runs()
    pretrained = pretrained_digest()
    rows = [
        runs[key] | {"variant": name}
        for name, variant in ablation_variants(experiment).items()
        if (key := run_key(variant, pretrained)) in runs
    ]
    return pd.DataFrame(rows, columns=None if rows else ["variant"])


def pipeline_steps(text: str, stopwords: frozenset[str]) -> pd.DataFrame:
    """What each cleaning step does to one review, for the chapter's table."""
    from a2dl.text import cleaning

    rows = [("raw review", text)]
    for name, step in (
        ("strip HTML", cleaning.strip_html),
        ("lowercase", cleaning.lowercase),
        ("fold to ASCII", cleaning.fold_to_ascii),
        ("remove punctuation", cleaning.remove_punctuation),
    ):
        text = step(text)
        rows.append((name, text))
    tokens = cleaning.tokenize(text)
    rows.append(("tokenise (NLTK RegexpTokenizer)", " | ".join(tokens)))
    rows.append(
        (
            "remove stop words, keep negations",
            " | ".join(cleaning.remove_stopwords(tokens, stopwords)),
        )
    )
    return pd.DataFrame(rows, columns=["step", "result"])
