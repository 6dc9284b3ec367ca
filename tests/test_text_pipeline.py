"""Part IV's preprocessing steps, vocabulary, encoding and model."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from a2dl.checkpoint import WeightsMismatchError, load_weights, save_weights
from a2dl.text.batching import bucketed_batches, pad_batch
from a2dl.text.cleaning import (
    clean_review,
    fold_to_ascii,
    lowercase,
    negations,
    remove_punctuation,
    remove_stopwords,
    stopwords_to_remove,
    strip_html,
    tokenize,
)
from a2dl.text.model import SentimentTransformer, SentimentTransformerConfig
from a2dl.text.vocab import SENTINELS, SPECIALS, Vocabulary

STOP = frozenset({"the", "a", "is", "it", "not", "no", "nor", "don", "don't", "s", "this"})


def test_strip_html_removes_tags_and_decodes_entities():
    assert strip_html("Great.<br /><br />Really &amp; truly<i>!</i>") == "Great.  Really & truly ! "


def test_lowercase_and_ascii_folding():
    assert lowercase("LOUD Film") == "loud film"
    assert fold_to_ascii("café naïve – “quotes” 日本") == "cafe naive  quotes "


def test_remove_punctuation_keeps_words_digits_and_apostrophes():
    assert remove_punctuation("wow!!! 10/10, didn't... (really)") == "wow 10 10 didn't really"


def test_tokenize_keeps_negation_clitics_and_splits_possessives():
    assert tokenize("i didn't like the movie's end") == [
        "i",
        "didn't",
        "like",
        "the",
        "movie",
        "s",
        "end",
    ]


def test_negations_are_kept_when_stop_words_go():
    assert negations(STOP) == {"no", "not", "nor", "don", "don't"}
    removed = stopwords_to_remove(STOP)
    assert remove_stopwords(["this", "is", "not", "good", "don't"], removed) == [
        "not",
        "good",
        "don't",
    ]
    assert "not" in stopwords_to_remove(STOP, keep_negations=False)


def test_clean_review_end_to_end_and_empty_input():
    removed = stopwords_to_remove(STOP)
    assert clean_review("It's <b>NOT</b> a bad film!", removed) == ["not", "bad", "film"]
    assert clean_review("", removed) == []
    assert clean_review("!!! <br />", removed) == []


def test_vocabulary_comes_from_training_documents_only():
    vocab = Vocabulary.build([["good", "film"], ["good", "plot"]], min_freq=1, max_size=50)
    specials = len(SPECIALS)
    assert vocab.tokens[:4] == ("<pad>", "<unk>", "<bos>", "<eos>")
    assert vocab.tokens[4:specials] == tuple(f"<mask_{i}>" for i in range(specials - 4))
    assert (vocab.pad_id, vocab.unk_id, vocab.bos_id, vocab.eos_id) == (0, 1, 2, 3)
    assert [vocab.tokens[i] for i in vocab.sentinel_ids] == list(SENTINELS)
    assert vocab.tokens[specials] == "good"  # most frequent first
    assert vocab.encode(["good", "unseen"], max_len=10) == [specials, vocab.unk_id]
    assert len(Vocabulary.build([["a", "a", "b"]], min_freq=2)) == specials + 1


def test_encode_round_trip_truncation_and_empty_review():
    vocab = Vocabulary.build([list("abcdefghij")], min_freq=1)
    tokens = list("abcdefghij")
    assert vocab.decode(vocab.encode(tokens, max_len=20)) == tokens
    assert vocab.decode(vocab.encode(tokens, max_len=4)) == ["a", "b", "i", "j"]  # head + tail
    assert vocab.encode([], max_len=4) == [vocab.unk_id]


def test_pad_batch_and_buckets():
    batch = pad_batch([[5, 6, 7], [8]])
    assert batch.tolist() == [[5, 6, 7], [8, 0, 0]]
    lengths = torch.randint(1, 100, (1000,)).numpy()
    batches = bucketed_batches(lengths, 32, seed=1, bucket_batches=4)
    assert sorted(i for b in batches for i in b) == list(range(1000))
    assert (
        bucketed_batches(lengths, 32, seed=1, bucket_batches=4)[0].tolist() == batches[0].tolist()
    )


def _tiny_config(**changes) -> SentimentTransformerConfig:
    base = SentimentTransformerConfig(
        vocab_size=50,
        max_len=32,
        d_model=16,
        heads=2,
        encoder_layers=2,
        decoder_layers=1,
        ff_dim=32,
    )
    return dataclasses.replace(base, **changes)


def test_model_output_shape_and_probabilities():
    model = SentimentTransformer(_tiny_config()).eval()
    tokens = torch.randint(1, 50, (3, 20))
    assert model(tokens).shape == (3, 2)
    torch.testing.assert_close(model.predict_proba(tokens).sum(-1), torch.ones(3))


def test_padding_is_never_attended():
    model = SentimentTransformer(_tiny_config()).eval()
    review = torch.randint(2, 50, (1, 7))
    alone = model(review)
    padded = torch.cat([review, torch.zeros(1, 9, dtype=torch.long)], dim=1)
    torch.testing.assert_close(model(padded), alone, atol=1e-5, rtol=0)
    batch = pad_batch([review[0].tolist(), torch.randint(2, 50, (16,)).tolist()])
    torch.testing.assert_close(model(batch)[:1], alone, atol=1e-5, rtol=0)


def test_weights_with_another_config_are_refused(tmp_path):
    config = _tiny_config()
    path = save_weights(tmp_path / "m.pt", SentimentTransformer(config), config, note="x")
    model, loaded, metadata = load_weights(path, SentimentTransformer, SentimentTransformerConfig)
    assert loaded == config and metadata == {"note": "x"}
    with pytest.raises(WeightsMismatchError, match=r"d_model: file has 16, expected 32"):
        load_weights(
            path,
            SentimentTransformer,
            SentimentTransformerConfig,
            expected=_tiny_config(d_model=32),
        )


def test_a_few_seconds_of_training_reduce_the_loss():
    from a2dl.train import TrainConfig, fit

    torch.manual_seed(0)
    model = SentimentTransformer(_tiny_config(dropout=0.0))
    positive, negative = torch.randint(2, 25, (32, 12)), torch.randint(25, 50, (32, 12))
    tokens = torch.cat([positive, negative])
    labels = torch.cat([torch.ones(32), torch.zeros(32)]).long()
    loss_fn = torch.nn.CrossEntropyLoss()

    def metrics(net):
        return {"val_loss": loss_fn(net(tokens), labels).item()}

    before = metrics(model.eval())["val_loss"]
    history = fit(
        model,
        lambda epoch: [(tokens, labels)] * 4,
        lambda net, batch: loss_fn(net(batch[0]), batch[1]),
        metrics,
        TrainConfig(epochs=5, lr=3e-3),
        steps_per_epoch=4,
        progress=False,
    )
    assert min(r["val_loss"] for r in history) < 0.5 * before


def test_attention_maps_are_distributions_that_ignore_padding():
    from a2dl.text.model import attention_weights

    model = SentimentTransformer(_tiny_config()).eval()
    tokens = torch.cat([torch.randint(2, 50, (1, 6)), torch.zeros(1, 3, dtype=torch.long)], dim=1)
    maps = attention_weights(model, tokens)
    queries = model.config.queries
    assert maps["decoder"].shape == (2, queries, 9) and maps["encoder"].shape == (2, 9, 9)
    torch.testing.assert_close(maps["decoder"].sum(-1), torch.ones(2, queries))
    assert torch.all(maps["decoder"][..., 6:] == 0) and torch.all(maps["encoder"][..., 6:] == 0)


def test_teacher_probabilities_come_from_models_that_never_saw_the_review(monkeypatch):
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame(
        {
            "tokens": [[f"w{i}"] for i in range(50)] + [["test"]] * 5,
            "label": [i % 2 for i in range(50)] + [0] * 5,
            "split": ["train"] * 50 + ["test"] * 5,
        }
    )
    scored = []

    class Recorder:
        """A stand-in baseline that records what it was fitted on and what it scores."""

        def __init__(self, fitted: pd.DataFrame) -> None:
            self.fitted = {tuple(t) for t in fitted["tokens"]}
            assert set(fitted["split"]) == {"train"}

        def predict_proba(self, tokens: pd.Series) -> np.ndarray:
            assert not self.fitted & {tuple(t) for t in tokens}, "scored a review it saw"
            scored.extend(tuple(t) for t in tokens)
            return np.tile([0.25, 0.75], (len(tokens), 1))

    from a2dl.text import baseline

    monkeypatch.setattr(baseline, "fit_baseline", Recorder)
    proba = baseline.cross_fitted_baseline(frame)  # the tests run with the cache off (conftest)
    assert proba.shape == (50, 2) and np.all(proba == [0.25, 0.75])
    assert sorted(scored) == sorted((f"w{i}",) for i in range(50))  # each training review once


def test_distilled_targets_mix_each_label_with_its_teacher_probability(monkeypatch):
    import numpy as np
    import pandas as pd

    from a2dl.text import experiment as ex

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "tokens": [[f"w{rng.integers(20)}" for _ in range(5)] for _ in range(40)],
            "label": [i % 2 for i in range(40)],
            "split": ["train"] * 30 + ["validation"] * 10,
        }
    )
    teacher = np.column_stack([np.linspace(0.1, 0.9, 30), np.linspace(0.9, 0.1, 30)])
    monkeypatch.setattr(ex, "cross_fitted_baseline", lambda f: teacher)
    seen = []

    def record_batches(model, batches, step_loss, metrics, config, **_):
        seen.extend(batches(1))
        return [{"epoch": 1}]

    monkeypatch.setattr(ex, "fit", record_batches)
    experiment = ex.SentimentExperiment(
        model=_tiny_config(max_len=8), train=ex.TrainConfig(), batch_size=8, pretrained=False
    )
    for weight in (0.0, 0.25):
        seen.clear()
        ex.train_sentiment(dataclasses.replace(experiment, teacher_weight=weight), frame,
                           progress=False)  # fmt: skip
        targets = torch.cat([target for _, target in seen])
        assert len(targets) == 30
        if weight == 0:
            assert targets.dtype == torch.long  # the plain label: no teacher is fitted
            continue
        # each review's target row is (1 - α)·one-hot(label) + α·teacher row, in batch order
        labels = torch.tensor(frame["label"].to_numpy()[:30])
        expected = 0.75 * torch.nn.functional.one_hot(labels, 2) + 0.25 * torch.tensor(teacher)
        rows = {tuple(np.round(row, 6)) for row in expected.numpy()}
        assert {tuple(np.round(row, 6)) for row in targets.double().numpy()} == rows
        torch.testing.assert_close(targets.sum(dim=1), torch.ones(30))


def test_the_teacher_cache_key_follows_the_content_of_the_reviews():
    import pandas as pd

    from a2dl.text.baseline import reviews_digest

    reviews = pd.DataFrame({"tokens": [["good", "film"], ["bad"]], "label": [1, 0]})
    same_size = reviews.assign(tokens=[["good", "film"], ["awful"]])
    relabelled = reviews.assign(label=[1, 1])
    keys = {reviews_digest(r) for r in (reviews, same_size, relabelled)}
    assert len(keys) == 3  # same number of reviews, other content: no stale hit
    assert reviews_digest(reviews.copy()) == reviews_digest(reviews)


def test_each_split_is_scored_on_its_own_reviews_and_predictions():
    import pandas as pd

    from a2dl.text.experiment import evaluate_splits

    torch.manual_seed(0)
    vocab = Vocabulary.build([[f"w{i}" for i in range(40)]], min_freq=1)
    model = SentimentTransformer(_tiny_config(vocab_size=len(vocab))).eval()
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "tokens": [[f"w{i}" for i in rng.integers(0, 40, size=6)] for _ in range(60)],
            "label": rng.integers(0, 2, size=60),
            "split": ["train"] * 20 + ["validation"] * 15 + ["test"] * 25,
        }
    )
    results = evaluate_splits(model, vocab, frame)
    assert len(results["validation"].y_true) == 15 and len(results["test"].y_true) == 25
    for split in ("validation", "test"):
        labels = frame.loc[frame["split"] == split, "label"].to_numpy()
        assert (results[split].y_true == labels).all()
    assert results["validation"].proba is not results["test"].proba
