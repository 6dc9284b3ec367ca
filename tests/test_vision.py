"""Bonus: the ViT and the convolutional networks, the CIFAR-10 pipeline, costs, and saved
weights."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from a2dl import cli, paths
from a2dl.attention import MultiHeadAttention
from a2dl.checkpoint import WeightsMismatchError, config_to_dict, save_weights
from a2dl.modelinfo import count_parameters
from a2dl.train import lr_factor, make_optimizer
from a2dl.vision import compare, experiment, registry
from a2dl.vision.bonus_report import validation_choice
from a2dl.vision.convnets import (
    EfficientNet,
    EfficientNetConfig,
    ResNet,
    ResNetConfig,
    VGGConfig,
)
from a2dl.vision.cost import (
    augmentation_throughput,
    inference_throughput,
    multiply_accumulates,
    training_throughput,
)
from a2dl.vision.data import (
    CifarSplits,
    random_crop_flip,
    stratified_holdout,
    training_batches,
)
from a2dl.vision.vit import VisionTransformer, ViTConfig, patchify, unpatchify

# ---------------------------------------------------------------- patches


def test_patchify_and_unpatchify_round_trip():
    images = torch.randn(2, 3, 32, 32)
    patches = patchify(images, 4)
    assert patches.shape == (2, 64, 4 * 4 * 3)
    assert torch.equal(unpatchify(patches, 4), images)


def test_patches_are_read_row_by_row():
    image = torch.arange(3 * 8 * 8, dtype=torch.float32).view(1, 3, 8, 8)
    patches = patchify(image, 4)
    # the second patch is the top-right 4×4 block, flattened (row, column, channel)
    expected = image[0, :, :4, 4:].permute(1, 2, 0).reshape(-1)
    assert torch.equal(patches[0, 1], expected)


def test_patchify_rejects_an_image_that_patches_do_not_tile():
    with pytest.raises(ValueError, match="not a multiple of patch 5"):
        patchify(torch.zeros(1, 3, 32, 32), 5)


# ---------------------------------------------------------------- models


@pytest.mark.parametrize("name", list(registry.MODELS))
def test_every_model_maps_a_batch_of_images_to_ten_logits(name):
    model = registry.build(name).eval()
    with torch.no_grad():
        assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_vit_parameter_count_matches_its_formula():
    c = ViTConfig()
    w, hidden = c.width, c.mlp_ratio * c.width
    block = 2 * 2 * w + 4 * (w * w + w) + (w * hidden + hidden) + (hidden * w + w)
    embedding = (c.patch_size**2 * c.channels) * w + w + w + (c.tokens + 1) * w
    expected = embedding + c.depth * block + 2 * w + w * c.classes + c.classes
    assert count_parameters(VisionTransformer(c)) == expected


def test_resnet20_parameter_count_matches_its_formula():
    c = ResNetConfig()
    expected = 3 * 16 * 9 + 2 * 16  # stem convolution and its batch norm
    channels = 16
    for stage, width in enumerate(c.widths):
        for block in range(c.blocks_per_stage):
            expected += channels * width * 9 + width * width * 9 + 2 * 2 * width
            if stage > 0 and block == 0:  # 1×1 projection shortcut and its batch norm
                expected += channels * width + 2 * width
            channels = width
    expected += 64 * 10 + 10
    assert count_parameters(ResNet(c)) == expected
    assert sum(isinstance(m, nn.Conv2d) for m in ResNet(c).modules()) == 19 + 2  # + shortcuts


def test_vgg11_parameter_count_matches_its_formula():
    c = VGGConfig()
    widths = [int(v * c.width_multiplier) for v in c.layers if v != "M"]
    expected = sum(
        cin * cout * 9 + 2 * cout for cin, cout in zip([3, *widths], widths, strict=False)
    )
    expected += widths[-1] * 10 + 10
    assert count_parameters(registry.build("vgg", c)) == expected
    assert len(widths) == 8  # VGG-11: eight convolutions and (here one) linear layer


def test_efficientnet_b0_at_full_width_has_torchvisions_parameter_count():
    # torchvision.models.efficientnet_b0(num_classes=1000) has 5,288,548 parameters
    full = EfficientNet(EfficientNetConfig(width_multiplier=1.0, classes=1000))
    assert count_parameters(full) == 5_288_548


def test_each_reduced_network_is_named_with_its_reductions():
    # the report names a network by its registry title: the title must say what was changed
    effnet = EfficientNetConfig()
    assert effnet.width_multiplier == 0.5 and effnet.dropout == 0 and effnet.stochastic_depth == 0
    assert registry.entry("efficientnet").title == (
        "EfficientNet-B0 (½ width, no dropout or stochastic depth)"
    )
    assert VGGConfig().width_multiplier == 0.5
    assert registry.entry("vgg").title == "VGG-11 (½ width, BN)"
    from a2dl.evaluation import EVALUATIONS

    for name, entry in registry.MODELS.items():  # the CLI's listings name them the same way
        assert entry.title in cli.EXPERIMENTS[f"vision-{name}"][1]
        assert entry.title in EVALUATIONS[f"vision-{name}"][1]


def test_the_network_chosen_on_validation_ignores_the_test_split():
    table = pd.DataFrame(
        {
            "val_accuracy": [0.758, 0.9124, 0.912, 0.7944],
            "test_accuracy": [0.75, 0.906, 0.917, 0.8],
        },
        index=["vit", "vgg", "resnet", "efficientnet"],
    )
    choice = validation_choice(table["val_accuracy"], validation_size=5000)
    assert (choice.chosen, choice.runner_up, choice.margin_images) == ("vgg", "resnet", 2)
    assert choice.level  # 2 of 5,000 images apart: the text calls them level
    apart = validation_choice(table["val_accuracy"].to_dict() | {"vgg": 0.92}, 5000)
    assert apart.margin_images == 40 and not apart.level
    tie = table.assign(val_accuracy=[0.5, 0.9, 0.9, 0.5])
    assert validation_choice(tie["val_accuracy"], 5000).chosen == "vgg"  # the first listed


def test_vit_attention_is_the_package_module():
    model = VisionTransformer(ViTConfig(depth=2))
    calls = []
    for module in model.modules():
        if isinstance(module, MultiHeadAttention):
            module.register_forward_hook(lambda *_: calls.append(1))
    assert not any(isinstance(m, nn.MultiheadAttention) for m in model.modules())
    model(torch.randn(1, 3, 32, 32))
    assert len(calls) == 2  # one call of a2dl.attention.MultiHeadAttention per block


def test_vit_attention_maps_are_distributions_over_all_tokens():
    c = ViTConfig(depth=2)
    maps = VisionTransformer(c).attention_maps(torch.randn(3, 3, 32, 32))
    assert len(maps) == 2 and maps[0].shape == (3, c.tokens + 1, c.tokens + 1)
    assert torch.allclose(maps[0].sum(-1), torch.ones(3, c.tokens + 1), atol=1e-5)


@pytest.mark.parametrize("name", list(registry.MODELS))
def test_a_few_steps_of_each_networks_recipe_reduce_the_loss_on_a_tiny_batch(name):
    """The first 40 of 200 steps of the network's own optimiser and schedule."""
    torch.manual_seed(0)
    model = registry.build(name)
    images, labels = torch.randn(16, 3, 32, 32), torch.arange(16) % 10
    train = experiment.recipe_for(name).train
    optimizer = make_optimizer(model, train)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda step: lr_factor(step, 200, int(train.warmup_fraction * 200), train.schedule),
    )
    loss_fn = nn.CrossEntropyLoss()

    def loss_now() -> float:
        # batch statistics and the same dropout/stochastic-depth draws before and after, so
        # that only the weights differ (running averages would lag behind a few fast steps)
        model.train()
        torch.manual_seed(1)
        with torch.no_grad():
            return loss_fn(model(images), labels).item()

    before = loss_now()
    for _ in range(40):
        loss = loss_fn(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
    after = loss_now()
    assert after < 0.7 * before


def test_each_recipe_is_the_one_saved_in_its_weights_file(tmp_path, tiny_splits, monkeypatch):
    monkeypatch.setattr(paths, "weights_dir", lambda: tmp_path)
    monkeypatch.setitem(experiment.RECIPES, "resnet", tiny_recipe())
    monkeypatch.setattr(experiment, "cifar_splits", lambda *args: tiny_splits)
    monkeypatch.setattr(registry, "build", lambda name, config=None: ResNet(TINY_RESNET))
    experiment.train_and_save("resnet", progress=False)
    _, metadata = experiment.load_model("resnet", tmp_path / "cifar10_resnet.pt")
    assert metadata["recipe"] == config_to_dict(tiny_recipe())
    assert metadata["recipe"]["train"]["optimizer"] == tiny_recipe().train.optimizer
    assert metadata["cpu_seconds"] > 0 and metadata["device"] == "cpu"


def test_convolutional_networks_use_sgd_one_cycle_and_the_vit_adamw():
    for name in ("resnet", "vgg", "efficientnet"):
        train = experiment.recipe_for(name).train
        assert (train.optimizer, train.schedule) == ("sgd", "onecycle"), name
    vit = experiment.recipe_for("vit").train
    assert (vit.optimizer, vit.schedule) == ("adamw", "cosine")
    assert len({experiment.recipe_for(n).batch_size for n in registry.MODELS}) == 1
    assert all(experiment.recipe_for(n).test_time_flip for n in registry.MODELS)


def test_flip_averaging_is_the_mean_of_an_image_and_its_mirror(tiny_splits):
    model = ResNet(TINY_RESNET).eval()
    images = tiny_splits.test_x[:4]
    plain = experiment.predict(model, images, tiny_splits, flip=False)
    mirrored = experiment.predict(model, images.flip(-1), tiny_splits, flip=False)
    averaged = experiment.predict(model, images, tiny_splits, flip=True)
    np.testing.assert_allclose(averaged, (plain + mirrored) / 2, atol=1e-6)


def test_unknown_model_name_lists_the_choices():
    with pytest.raises(KeyError, match="choose one of vit, vgg, resnet, efficientnet"):
        registry.build("alexnet")


# ---------------------------------------------------------------- data


def test_validation_holdout_takes_the_same_number_from_every_class():
    labels = np.repeat(np.arange(10), 100)
    held = stratified_holdout(labels, 200, seed=1)
    assert np.bincount(labels[held]).tolist() == [20] * 10
    assert np.array_equal(held, stratified_holdout(labels, 200, seed=1))


def test_crop_without_padding_keeps_each_image_or_its_mirror():
    images = torch.randint(0, 256, (32, 3, 8, 8), dtype=torch.uint8)
    out = random_crop_flip(images, torch.Generator().manual_seed(0), padding=0)
    same = (out == images).flatten(1).all(1)
    mirrored = (out == images.flip(-1)).flatten(1).all(1)
    assert bool((same | mirrored).all()) and 0 < int(mirrored.sum()) < 32


def test_crop_with_padding_shifts_content_and_fills_zeros():
    images = torch.full((64, 1, 8, 8), 7, dtype=torch.uint8)
    out = random_crop_flip(images, torch.Generator().manual_seed(0), padding=4)
    assert out.shape == images.shape
    assert set(out.unique().tolist()) <= {0, 7} and (out == 0).any() and (out == 7).any()


def per_image_crop_flip(
    images: torch.Tensor, generator: torch.Generator, padding: int = 4
) -> torch.Tensor:
    """The augmentation's definition, one image at a time (the former implementation)."""
    height, width = images.shape[-2:]
    padded = torch.nn.functional.pad(images, (padding,) * 4)
    offsets = torch.randint(0, 2 * padding + 1, (len(images), 2), generator=generator)
    flips = torch.rand(len(images), generator=generator) < 0.5
    out = torch.empty_like(images)
    for i, ((dy, dx), flip) in enumerate(zip(offsets.tolist(), flips.tolist(), strict=True)):
        crop = padded[i, :, dy : dy + height, dx : dx + width]
        out[i] = crop.flip(-1) if flip else crop
    return out


@pytest.mark.parametrize("padding", [0, 1, 4])
def test_batched_crop_and_flip_draw_exactly_what_the_per_image_definition_draws(padding):
    """Same seed, same crops and flips, so the distribution of augmentations is unchanged."""
    images = torch.randint(0, 256, (200, 3, 12, 10), dtype=torch.uint8)
    batched = random_crop_flip(images, torch.Generator().manual_seed(5), padding=padding)
    expected = per_image_crop_flip(images, torch.Generator().manual_seed(5), padding=padding)
    assert batched.shape == images.shape and batched.dtype == torch.uint8
    assert torch.equal(batched, expected)


def test_crop_and_flip_vary_between_seeds_and_repeat_under_one():
    images = torch.randint(0, 256, (64, 3, 32, 32), dtype=torch.uint8)
    first, again, other = (
        random_crop_flip(images, torch.Generator().manual_seed(seed)) for seed in (1, 1, 2)
    )
    assert torch.equal(first, again) and not torch.equal(first, other)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_batches_built_on_the_gpu_equal_those_built_on_the_cpu(tiny_splits):
    on_cpu = list(training_batches(tiny_splits, 16, seed=3))
    on_gpu = list(training_batches(tiny_splits, 16, seed=3, device="cuda"))
    assert all(images.is_cuda and labels.is_cuda for images, labels in on_gpu)
    for (cpu_x, cpu_y), (gpu_x, gpu_y) in zip(on_cpu, on_gpu, strict=True):
        assert torch.equal(cpu_y, gpu_y.cpu())
        torch.testing.assert_close(cpu_x, gpu_x.cpu())


# ---------------------------------------------------------------- costs


def test_macs_of_a_convolution_and_a_linear_layer():
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.Flatten(), nn.Linear(8 * 32 * 32, 10))
    assert multiply_accumulates(model) == 8 * 32 * 32 * 3 * 9 + 8 * 32 * 32 * 10


def test_macs_count_the_two_attention_products():
    c = ViTConfig(depth=1)
    tokens, w = c.tokens + 1, c.width
    linear = (c.patch_size**2 * 3) * w * c.tokens  # patch embedding
    linear += tokens * (4 * w * w + 2 * w * c.mlp_ratio * w) + w * c.classes
    assert multiply_accumulates(VisionTransformer(c)) == linear + 2 * tokens * tokens * w


def test_resnet20_costs_about_41_million_macs():
    assert 40e6 < multiply_accumulates(ResNet(ResNetConfig())) < 42e6  # He et al.: ~41M


def test_inference_throughput_is_positive():
    assert inference_throughput(nn.Flatten(), batch_size=4, batches=2) > 0


def test_training_and_augmentation_throughputs_are_positive():
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 10))
    assert training_throughput(model, batch_size=8, steps=2) > 0
    assert augmentation_throughput(batch_size=8, batches=2) > 0


# ---------------------------------------------------------------- threads


@pytest.fixture
def restore_threads():
    """Tests that set PyTorch's threads leave the count as they found it."""
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_a_recipe_without_a_thread_count_takes_the_process_count(restore_threads):
    torch.set_num_threads(1)
    assert experiment.on_this_machine(experiment.recipe_for("resnet")).threads == 1
    named = dataclasses.replace(experiment.recipe_for("resnet"), threads=2)
    assert experiment.on_this_machine(named).threads == 2 and torch.get_num_threads() == 2


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "vision-resnet"],
        ["lr-range", "vision-resnet"],
        ["evaluate", "vision-vit"],
        ["bench", "vision"],
    ],
)
def test_threads_default_to_pytorchs_own_count(argv):
    assert cli.build_parser().parse_args(argv).threads is None  # every core PyTorch sees
    assert cli.build_parser().parse_args([*argv, "--threads", "3"]).threads == 3


def test_bench_runs_on_the_threads_it_is_given(monkeypatch, restore_threads):
    seen = []
    monkeypatch.setattr(
        cli, "_resolve", lambda target: lambda: seen.append(torch.get_num_threads())
    )
    assert cli.main(["bench", "vision", "--threads", "1"]) == 0
    assert seen == [1]


# ---------------------------------------------------------------- training and weights


@pytest.fixture(scope="module")
def tiny_splits() -> CifarSplits:
    generator = torch.Generator().manual_seed(0)

    def images(n: int) -> torch.Tensor:
        return torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=generator)

    return CifarSplits(
        train_x=images(64),
        train_y=torch.arange(64) % 10,
        val_x=images(20),
        val_y=torch.arange(20) % 10,
        test_x=images(20),
        test_y=torch.arange(20) % 10,
        classes=tuple(f"class {i}" for i in range(10)),
        mean=(0.5, 0.5, 0.5),
        std=(0.25, 0.25, 0.25),
    )


# Channel counts below 16 crash PyTorch 2.13's CPU convolution in channels_last (segfault).
TINY_RESNET = ResNetConfig(blocks_per_stage=1, widths=(16, 16, 16))


def tiny_recipe() -> experiment.VisionRecipe:
    recipe = experiment.VisionRecipe(batch_size=16, threads=1)
    return dataclasses.replace(recipe, train=dataclasses.replace(recipe.train, epochs=2))


def test_training_by_the_recipe_writes_one_history_record_per_epoch(tiny_splits):
    _, history, seconds = experiment.train_model(
        "resnet", tiny_recipe(), config=TINY_RESNET, splits=tiny_splits, progress=False
    )
    assert [record["epoch"] for record in history] == [1, 2] and seconds > 0
    assert {"train_accuracy", "val_accuracy", "train_loss", "val_loss"} <= set(history[0])


def test_saved_weights_evaluate_to_identical_numbers_twice(tmp_path, tiny_splits):
    model, _, _ = experiment.train_model(
        "resnet", tiny_recipe(), config=TINY_RESNET, splits=tiny_splits, progress=False
    )
    path = save_weights(tmp_path / "resnet.pt", model, TINY_RESNET)
    first = experiment.evaluate(experiment.load_model("resnet", path)[0], "test", tiny_splits)
    second = experiment.evaluate(experiment.load_model("resnet", path)[0], "test", tiny_splits)
    assert np.array_equal(first.proba, second.proba)
    assert first.summary() == second.summary()
    direct = experiment.evaluate(model, "test", tiny_splits)
    assert np.allclose(first.proba, direct.proba, atol=1e-6)


def test_weights_of_another_config_give_an_error_naming_the_field(tmp_path):
    path = save_weights(tmp_path / "resnet.pt", ResNet(TINY_RESNET), TINY_RESNET)
    with pytest.raises(WeightsMismatchError, match=r"widths: file has \[16, 16, 16\]"):
        experiment.load_model("resnet", path, expected=ResNetConfig())
    with pytest.raises(WeightsMismatchError, match="holds a ResNetConfig, not a ViTConfig"):
        experiment.load_model("vit", path)


# ---------------------------------------------------------------- the chapter's summaries


def test_confused_pairs_sum_both_directions():
    classes = ("cat", "dog", "ship")
    matrix = np.array([[50, 7, 1], [5, 40, 0], [2, 0, 60]])
    pairs = compare.confused_pairs(matrix, classes, top=2)
    assert pairs.values.tolist() == [["cat", "dog", 12], ["cat", "ship", 3]]


def test_share_of_errors_within_groups():
    classes = ("cat", "dog", "ship", "truck")
    matrix = np.array([[9, 3, 1, 0], [1, 9, 0, 0], [0, 0, 9, 4], [1, 0, 0, 9]])
    # errors: within animals 3 + 1, within vehicles 4; across 1 + 1 = 2 of 10
    assert compare.share_of_errors_within_groups(matrix, classes) == pytest.approx(0.8)


def test_position_similarity_falls_with_distance_for_a_2d_layout():
    side = 4
    rows, cols = np.divmod(np.arange(side * side), side)
    angles = np.stack([rows, cols], axis=1) * 0.6
    embeddings = np.concatenate([np.cos(angles), np.sin(angles)], axis=1)
    by_distance = compare.position_similarity_by_distance(embeddings, side)
    assert list(by_distance.index) == [1, 2, 3]
    assert by_distance.is_monotonic_decreasing
    flat = compare.position_similarity_by_distance(np.eye(side * side), side)
    assert np.allclose(flat.to_numpy(), 0.0)


def test_channel_statistics_from_histograms_equal_the_float_computation():
    from a2dl.vision.data import channel_mean_std

    images = np.random.default_rng(0).integers(0, 256, size=(50, 3, 8, 8), dtype=np.uint8)
    scaled = images.astype(np.float64) / 255
    mean, std = channel_mean_std(images)
    np.testing.assert_allclose(mean, scaled.mean(axis=(0, 2, 3)), rtol=1e-12)
    np.testing.assert_allclose(std, scaled.std(axis=(0, 2, 3)), rtol=1e-12)
