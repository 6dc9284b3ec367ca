"""What a model costs: multiply-accumulates per image, counted from the layers that run, and
images per second in training and at inference, measured.

MACs are counted for convolutions, linear layers and the two matrix products inside each
attention module (QKᵀ and AV); normalisation, activations, pooling and softmax are left out,
as is usual, because they are a small share and not multiply-accumulates.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import torch
from torch import nn

from a2dl import artefacts
from a2dl.attention import MultiHeadAttention
from a2dl.files import write_json
from a2dl.vision.data import normalise, random_crop_flip

SPEED_FILE = "cifar10_speed.json"


def multiply_accumulates(model: nn.Module, image_shape: tuple[int, int, int] = (3, 32, 32)) -> int:
    """MACs of one forward pass on one image."""
    total = 0

    def conv(module: nn.Conv2d, _inputs, output: torch.Tensor) -> None:
        nonlocal total
        kernel = module.kernel_size[0] * module.kernel_size[1]
        total += output.numel() * (module.in_channels // module.groups) * kernel

    def linear(module: nn.Linear, _inputs, output: torch.Tensor) -> None:
        nonlocal total
        total += output.numel() * module.in_features

    def attention(module: MultiHeadAttention, inputs, _output) -> None:
        nonlocal total
        query = inputs[0]
        key = inputs[1] if len(inputs) > 1 and inputs[1] is not None else query
        total += 2 * query.size(0) * query.size(1) * key.size(1) * module.embed_dim

    counters = {nn.Conv2d: conv, nn.Linear: linear, MultiHeadAttention: attention}
    handles = [
        module.register_forward_hook(counters[type(module)])
        for module in model.modules()
        if type(module) in counters
    ]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, *image_shape))
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return total


def _random_images(
    batch_size: int, image_shape: tuple[int, int, int], channels_last: bool
) -> torch.Tensor:
    images = torch.randn(batch_size, *image_shape)
    return images.contiguous(memory_format=torch.channels_last) if channels_last else images


def _images_per_second(batch_size: int, step: Callable[[], object], repeats: int) -> float:
    """``batch_size`` over the median time of ``repeats`` calls of ``step``, after one
    untimed warm-up call."""
    step()
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        step()
        timings.append(time.perf_counter() - started)
    return batch_size / sorted(timings)[len(timings) // 2]


@torch.no_grad()
def inference_throughput(
    model: nn.Module,
    *,
    batch_size: int = 256,
    batches: int = 5,
    channels_last: bool = False,
    image_shape: tuple[int, int, int] = (3, 32, 32),
) -> float:
    """Images per second in eval mode, the median over ``batches`` timed batches after one
    warm-up batch (with the threads PyTorch is set to use)."""
    model.eval()
    images = _random_images(batch_size, image_shape, channels_last)
    return _images_per_second(batch_size, lambda: model(images), batches)


def _augmented(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """A training batch as the bonus builds it from uint8 images: crop, flip, normalise (with
    fixed statistics: the speed does not depend on them)."""
    return normalise(random_crop_flip(images, generator), (0.5,) * 3, (0.25,) * 3)


def augmentation_throughput(
    *,
    batch_size: int = 128,
    batches: int = 20,
    image_shape: tuple[int, int, int] = (3, 32, 32),
) -> float:
    """Images per second of building training batches on the CPU, the work that must keep up
    with the training steps: the median over ``batches`` timed batches after a warm-up."""
    images = torch.randint(0, 256, (batch_size, *image_shape), dtype=torch.uint8)
    generator = torch.Generator().manual_seed(0)
    return _images_per_second(batch_size, lambda: _augmented(images, generator), batches)


def training_throughput(
    model: nn.Module,
    *,
    batch_size: int = 64,
    steps: int = 6,
    channels_last: bool = False,
    image_shape: tuple[int, int, int] = (3, 32, 32),
) -> float:
    """Images per second of training as the bonus trains, on the model's device: uint8 images
    augmented and normalised there, then forward, backward and an AdamW step. The median over
    ``steps`` timed steps after one warm-up step; the model's weights change."""
    model.train()
    on = next(model.parameters()).device
    images = torch.randint(0, 256, (batch_size, *image_shape), dtype=torch.uint8, device=on)
    labels = torch.arange(batch_size, device=on) % 10
    generator = torch.Generator().manual_seed(0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)

    def step() -> None:
        batch = _augmented(images, generator)
        if channels_last:
            batch = batch.contiguous(memory_format=torch.channels_last)
        loss = nn.functional.cross_entropy(model(batch), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if on.type == "cuda":
            torch.cuda.synchronize()  # time the work, not its queueing

    return _images_per_second(batch_size, step, steps)


def benchmark() -> None:
    """``python -m a2dl bench vision``: inference speed of each saved model and training
    speed of each architecture (and of EfficientNet-B0 at full width, the size the budget
    ruled out), on the CPU threads the process has (``--threads``), printed and kept with
    that count in ``weights/cifar10_speed.json`` for the bonus chapter."""
    import dataclasses

    from a2dl.vision import registry
    from a2dl.vision.experiment import VisionRecipe, load_model

    threads = torch.get_num_threads()
    batch = VisionRecipe().batch_size
    augmentation = augmentation_throughput(batch_size=batch)
    print(f"{'augmentation':<24} crop, flip, normalise {augmentation:8,.0f} images/s", flush=True)
    inference, training = {}, {}
    candidates = {name: (name, None) for name in registry.MODELS}
    full = dataclasses.replace(
        registry.entry("efficientnet").default_config(), width_multiplier=1.0
    )
    candidates["efficientnet-full-width"] = ("efficientnet", full)
    for key, (name, config) in candidates.items():
        channels_last = registry.entry(name).channels_last
        fresh = registry.build(name, config)
        if channels_last:
            fresh = fresh.to(memory_format=torch.channels_last)
        training[key] = training_throughput(fresh, batch_size=batch, channels_last=channels_last)
        line = f"{key:<24} training {training[key]:6,.0f} images/s"
        if config is None:
            model, _ = load_model(name)
            inference[key] = inference_throughput(model, channels_last=channels_last)
            line += f", inference {inference[key]:6,.0f} images/s"
        print(f"{line}  ({threads} threads)", flush=True)
    record = {
        "threads": threads,
        "batch_size": 256,
        "training_batch_size": batch,
        "images_per_second": inference,
        "training_images_per_second": training,
        "augmentation_images_per_second": augmentation,
    }
    write_json(artefacts.record_path(SPEED_FILE), record)
