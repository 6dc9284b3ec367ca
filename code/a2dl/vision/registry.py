"""One table from a model's name to its constructor and default config: the CLI, the
experiment, the tests and the chapter all look models up here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from torch import nn

from a2dl.artefacts import VISION_MODELS as TITLES
from a2dl.vision.convnets import (
    VGG,
    EfficientNet,
    EfficientNetConfig,
    ResNet,
    ResNetConfig,
    VGGConfig,
)
from a2dl.vision.vit import VisionTransformer, ViTConfig


@dataclass(frozen=True)
class ModelEntry:
    title: str  # as the report names it
    build: Callable[[Any], nn.Module]
    config_type: type
    channels_last: bool  # convolutions run faster on CPU with NHWC memory; a ViT gains nothing

    def default_config(self) -> Any:
        return self.config_type()


MODELS: dict[str, ModelEntry] = {
    "vit": ModelEntry(TITLES["vit"], VisionTransformer, ViTConfig, channels_last=False),
    "vgg": ModelEntry(TITLES["vgg"], VGG, VGGConfig, channels_last=True),
    "resnet": ModelEntry(TITLES["resnet"], ResNet, ResNetConfig, channels_last=True),
    # B0 as trained here: half its width, and without the dropout and stochastic depth that
    # regularise its ImageNet schedule (tests check the name against the default config)
    "efficientnet": ModelEntry(
        TITLES["efficientnet"],
        EfficientNet,
        EfficientNetConfig,
        True,
    ),
}


def entry(name: str) -> ModelEntry:
    try:
        return MODELS[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}: choose one of {', '.join(MODELS)}") from None


def build(name: str, config: Any | None = None) -> nn.Module:
    model_entry = entry(name)
    return model_entry.build(config if config is not None else model_entry.default_config())
