"""Part IV's ablation over seeds: what a seed changes, how runs are found, and the statistics
that decide whether a variant's effect is larger than the seed noise."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
import torch

from a2dl import paths
from a2dl.metrics import holm_adjusted, welch_test
from a2dl.text import ablation as ab
from a2dl.text import experiment as ex
from a2dl.text import pretraining
from a2dl.text.model import SentimentTransformer, SentimentTransformerConfig
from a2dl.text.vocab import Vocabulary
from a2dl.train import TrainConfig


@pytest.mark.parametrize("shipped_len", [256, 512])
def test_each_ablation_variant_changes_one_thing_of_the_shipped_recipe(shipped_len):
    shipped = ex.default_experiment()
    shipped = dataclasses.replace(
        shipped, model=dataclasses.replace(shipped.model, max_len=shipped_len)
    )
    variants = ab.ablation_variants(shipped)
    for name, variant in variants.items():
        changed = {
            part
            for part in (
                "model",
                "train",
                "pretrained",
                "pretraining_cycles",
                "teacher_weight",
                "keep_negations",
            )
            if getattr(variant, part) != getattr(shipped, part)
        }
        assert len(changed) == 1, name
        assert ab.recipe_digest(variant) != ab.recipe_digest(shipped), name
    context = [v.model.max_len for v in variants.values() if v.model.max_len != shipped_len]
    assert context == [256 if shipped_len == 512 else 512]
    other = "256 tokens (head and tail)" if shipped_len == 512 else "512 tokens (longer context)"
    assert other in variants
    assert ab.recipe_digest(shipped) == ab.recipe_digest(dataclasses.replace(shipped))


def test_the_plan_runs_every_recipe_with_its_seeds_and_nothing_else_changes():
    shipped = ex.default_experiment()
    plan = ab.planned_runs(shipped)
    counts = pd.Series([name for name, _ in plan]).value_counts()
    assert counts[ab.SHIPPED] == len(ab.SEEDS) >= 5
    assert all(counts.drop(ab.SHIPPED) == ab.VARIANT_SEEDS) and ab.VARIANT_SEEDS >= 3
    assert plan[0][1].train.seed == ab.SEEDS[0] == shipped.train.seed  # the shipped model itself
    recipes = dict(ab.ablation_variants(shipped), **{ab.SHIPPED: shipped})
    for name, run in plan:
        assert ab.with_seed(run, recipes[name].train.seed) == recipes[name]
    assert len({ab.recipe_digest(run) for _, run in plan}) == len(plan)  # the seed is in the key


def test_runs_are_found_by_recipe_seed_and_pretrained_weights(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "weights_dir", lambda: tmp_path)
    monkeypatch.setattr(ab, "pretrained_digest", lambda: "current")
    shipped = ex.default_experiment()
    plan = ab.planned_runs(shipped)
    stored = []
    # the shipped seeds, "no pre-training" (independent of the pre-trained weights) and
    # "no distillation" trained from other pre-trained weights: stale
    chosen = [*plan[:5], plan[5], plan[8]]
    assert [name for name, _ in chosen[-2:]] == ["no pre-training", "no distillation"]
    for index, (_, run) in enumerate(chosen):
        key = ab.run_key(run, "current" if index < 5 else "older")
        stored.append({"variant": "old name", "val_accuracy": index / 10,
                       "recipe_sha256": key[0], "pretrained_sha256": key[1]})  # fmt: skip
    (tmp_path / ab.ABLATION).write_text(json.dumps(stored[::-1]))
    runs = ab.load_runs(shipped)
    assert list(runs["val_accuracy"]) == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]  # plan order
    assert list(runs["variant"]) == [name for name, _ in plan[:6]]
    assert list(runs["seed"]) == [run.train.seed for _, run in plan[:6]]
    no_pretraining = ab.ablation_variants(shipped)["no pre-training"]
    assert ab.run_key(no_pretraining, "current") == ab.run_key(no_pretraining, "other")


def _runs(table: dict[str, list[tuple[float, float]]]) -> pd.DataFrame:
    rows = [
        {"variant": name, "seed": seed, "val_accuracy": val, "test_accuracy": test,
         "kept_epoch": 3, "epochs_run": 5, "train_cpu_minutes": 10.0}
        for name, values in table.items()
        for seed, (val, test) in enumerate(values)
    ]  # fmt: skip
    return pd.DataFrame(rows)


def test_seed_summary_is_computed_from_the_stored_runs():
    shipped = [(0.90, 0.89), (0.91, 0.90), (0.905, 0.895), (0.90, 0.90), (0.91, 0.89)]
    worse = [(0.85, 0.84), (0.86, 0.85), (0.855, 0.845)]
    same = [(0.905, 0.895), (0.90, 0.90), (0.91, 0.89)]
    runs = _runs({ab.SHIPPED: shipped, "worse": worse, "same": same, "two seeds": same[:2]})
    table = ab.seed_summary(runs).set_index("variant")
    assert list(table.index) == [ab.SHIPPED, "worse", "same", "two seeds"]
    assert np.isnan(table.loc["two seeds", "test_p_holm"])  # fewer than 3 seeds: not tested
    assert not table.loc["two seeds", "effect"]
    tests = np.array([t for _, t in worse])
    assert table.loc["worse", "test_mean"] == pytest.approx(tests.mean())
    assert table.loc["worse", "test_sd"] == pytest.approx(tests.std(ddof=1))
    assert table.loc["worse", "test_delta"] == pytest.approx(
        tests.mean() - np.mean([t for _, t in shipped])
    )
    assert table.loc["worse", "seeds"] == 3 and table.loc[ab.SHIPPED, "seeds"] == 5
    raw = [welch_test([t for _, t in v], [t for _, t in shipped])["p_value"] for v in (worse, same)]
    assert table.loc[["worse", "same"], "test_p_holm"].tolist() == pytest.approx(
        holm_adjusted(raw).tolist()
    )
    assert table.loc["worse", "effect"] and not table.loc["same", "effect"]
    assert ab.preferred_by_validation(table.reset_index()) == ab.SHIPPED  # nothing is better


def test_a_variant_replaces_the_recipe_only_when_validation_prefers_it_beyond_the_noise():
    shipped = [(0.85, 0.84), (0.86, 0.85), (0.855, 0.845), (0.85, 0.85), (0.86, 0.84)]
    better = [(0.90, 0.89), (0.91, 0.90), (0.905, 0.895)]
    noisy = [(0.80, 0.89), (0.95, 0.90), (0.90, 0.895)]  # a higher mean, within its noise
    table = ab.seed_summary(_runs({ab.SHIPPED: shipped, "better": better, "noisy": noisy}))
    assert ab.preferred_by_validation(table) == "better"
    table = ab.seed_summary(_runs({ab.SHIPPED: shipped, "noisy": noisy}))
    assert table.loc[1, "val_delta"] > 0 and ab.preferred_by_validation(table) == ab.SHIPPED


def test_welch_test_on_a_small_known_case():
    # a = 1..4: mean 2.5, variance 5/3; b = 2, 4, .., 10: mean 6, variance 10
    result = welch_test([1, 2, 3, 4], [2, 4, 6, 8, 10])
    se2 = (5 / 3) / 4 + 10 / 5
    assert result["difference"] == pytest.approx(-3.5)
    assert result["t"] == pytest.approx(-3.5 / np.sqrt(se2))  # -2.2514
    assert result["df"] == pytest.approx(se2**2 / (((5 / 3) / 4) ** 2 / 3 + (10 / 5) ** 2 / 4))
    assert 0.06 < result["p_value"] < 0.08  # two-sided, t = -2.25 on 5.5 degrees of freedom
    assert welch_test([1, 1, 1], [1, 1])["p_value"] == 1.0
    with pytest.raises(ValueError, match="two runs or more"):
        welch_test([0.9], [0.8, 0.85])


def _tiny_config(**changes) -> SentimentTransformerConfig:
    base = SentimentTransformerConfig(
        vocab_size=40, max_len=16, d_model=16, heads=2, ff_dim=32, dropout=0.1, queries=2
    )
    return dataclasses.replace(base, **changes)


def test_two_seeds_share_the_pretrained_tensors_bit_for_bit(tmp_path, monkeypatch):
    """The seed changes the new parts' initialisation and the batch order, nothing else."""
    monkeypatch.setattr(paths, "weights_dir", lambda: tmp_path)
    vocab = Vocabulary.build([[f"w{i}" for i in range(30)]], min_freq=1)
    config = _tiny_config(vocab_size=len(vocab))
    pretrained = SentimentTransformer(config)
    experiment = pretraining.PretrainExperiment(model=config, train=TrainConfig())
    pretraining.save_weights(
        pretraining.weights_path(), pretrained, experiment, vocab=list(vocab.tokens)
    )
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "tokens": [[f"w{i}" for i in rng.integers(0, 30, size=8)] for _ in range(40)],
            "label": [0, 1] * 20,
            "split": ["train"] * 32 + ["validation"] * 8,
        }
    )
    started: dict[int, dict[str, torch.Tensor]] = {}
    first_batch: dict[int, torch.Tensor] = {}

    def capture(model, batches, *args, **kwargs):
        seed = kwargs["config"].seed if "config" in kwargs else args[2].seed
        started[seed] = {k: v.clone() for k, v in model.state_dict().items()}
        first_batch[seed] = next(iter(batches(1)))[0]
        return [{"epoch": 1, "val_accuracy": 0.5}]

    monkeypatch.setattr(ex, "fit", capture)
    recipe = ex.SentimentExperiment(
        model=config, train=TrainConfig(epochs=1), batch_size=4, min_freq=1
    )
    for seed in (1, 2):
        ex.train_sentiment(ab.with_seed(recipe, seed), frame, progress=False)
    shared = [name for name in started[1] if name not in pretraining.CLASSIFIER_ONLY]
    assert shared and all(torch.equal(started[1][n], started[2][n]) for n in shared)
    assert all(torch.equal(started[1][n], pretrained.state_dict()[n]) for n in shared)
    assert not torch.equal(started[1]["query"], started[2]["query"])
    assert not torch.equal(first_batch[1], first_batch[2])


def test_the_verdicts_the_chapter_prints_follow_the_rule():
    from a2dl.text.ablation_report import AblationFacts

    table = pd.DataFrame(
        {
            "variant": [ab.SHIPPED, "no dropout", "no weight decay", "dropout 0.4"],
            "seeds": [5, 3, 3, 1],
            "test_delta": [0.0, -0.0065, 0.0010, 0.0020],
            "test_p_holm": [float("nan"), 0.0004, 0.8, float("nan")],
            "effect": [False, True, False, False],
            "gap": [0.05, 0.081, 0.05, 0.04],
        }
    )
    facts = AblationFacts(
        runs=pd.DataFrame(),
        table=table,
        planned=["no dropout", "no weight decay", "dropout 0.4", "512 tokens"],
        short_of_seeds={"dropout 0.4": 1, "512 tokens": 0},
        preferred=ab.SHIPPED,
    )
    assert facts.verdict("no dropout").startswith("-0.65 points (adjusted")
    assert facts.verdict("no dropout").endswith("), an effect")
    assert facts.verdict("no weight decay").endswith("points, no effect shown")
    assert facts.verdict("dropout 0.4") == "+0.20 points from 1 seed, too few to test"
    assert facts.verdict("512 tokens") == "not run yet"
    assert facts.gap_points("no dropout") == "8.1" and facts.gap_points("512 tokens") == "—"
    assert facts.selection_note().startswith("No variant beats the chosen recipe")
    assert facts.waiting_note().startswith("Of the 4 planned variants, 2 have fewer than 3 seeds")
    assert "(1 with none, so absent from the table)" in facts.waiting_note()
    preferring = AblationFacts(table, table, [], {}, "no dropout")
    assert "prefers “no dropout”" in preferring.selection_note()
    assert preferring.waiting_note() == ""


def test_the_stop_word_variant_cleans_its_reviews_with_the_negations_removed():
    from a2dl.text.cleaned import removed_words

    shipped = ex.default_experiment()
    variant = ab.ablation_variants(shipped)[ab.STOPWORD_VARIANT]
    assert shipped.stopwords == "keep negations" and variant.stopwords == "remove all"
    assert "not" not in removed_words(shipped.stopwords)
    assert "not" in removed_words(variant.stopwords)
