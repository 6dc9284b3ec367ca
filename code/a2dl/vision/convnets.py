"""The convolutional networks of the comparison, sized for 32×32 images.

- VGG-11 (Simonyan & Zisserman 2015, configuration "A") with batch normalisation, at a width
  multiplier so that its cost per image matches ResNet-20's;
- ResNet-20 (He et al. 2016, the CIFAR variant: 3 stages of 3 basic blocks, 16/32/64 channels);
- EfficientNet-B0 (Tan & Le 2019) following torchvision's definition block for block
  (MBConv with squeeze-and-excitation, SiLU, stochastic depth); by default at half width,
  because the full network costs 2.5 times a ResNet-20 epoch on two CPU cores.

torchvision itself is not used: its wheels need a different PyTorch build than the one the
project pins, and writing the network out keeps every model of the report in one package.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

# ---------------------------------------------------------------- VGG


@dataclass(frozen=True)
class VGGConfig:
    # VGG-11 ("A"): channels of each 3×3 convolution, "M" a 2×2 max-pool.
    layers: tuple[int | str, ...] = (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M")
    width_multiplier: float = 0.5
    dropout: float = 0.0
    classes: int = 10


class VGG(nn.Module):
    def __init__(self, config: VGGConfig) -> None:
        super().__init__()
        self.config = config
        layers: list[nn.Module] = []
        channels = 3
        for item in config.layers:
            if item == "M":
                layers.append(nn.MaxPool2d(2))
                continue
            out = int(item * config.width_multiplier)
            layers += [
                nn.Conv2d(channels, out, 3, padding=1, bias=False),
                nn.BatchNorm2d(out),
                nn.ReLU(inplace=True),
            ]
            channels = out
        self.features = nn.Sequential(*layers)
        # Five pools take 32×32 to 1×1, so one linear layer replaces VGG's 4096-wide head.
        self.head = nn.Sequential(
            nn.Flatten(), nn.Dropout(config.dropout), nn.Linear(channels, config.classes)
        )
        _initialise_convnet(self)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        features = self.features(images)
        return self.head(features.mean(dim=(2, 3), keepdim=True))


# ---------------------------------------------------------------- ResNet


@dataclass(frozen=True)
class ResNetConfig:
    blocks_per_stage: int = 3  # 6n + 2 layers: n = 3 gives ResNet-20
    widths: tuple[int, ...] = (16, 32, 64)
    classes: int = 10


class BasicBlock(nn.Module):
    """Two 3×3 convolutions and an identity shortcut (a 1×1 projection where shapes change)."""

    def __init__(self, channels_in: int, channels_out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels_in, channels_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels_out)
        self.conv2 = nn.Conv2d(channels_out, channels_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels_out)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or channels_in != channels_out:
            self.shortcut = nn.Sequential(
                nn.Conv2d(channels_in, channels_out, 1, stride, bias=False),
                nn.BatchNorm2d(channels_out),
            )
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    def __init__(self, config: ResNetConfig) -> None:
        super().__init__()
        self.config = config
        first = config.widths[0]
        self.stem = nn.Sequential(
            nn.Conv2d(3, first, 3, padding=1, bias=False), nn.BatchNorm2d(first), nn.ReLU(True)
        )
        stages, channels = [], first
        for index, width in enumerate(config.widths):
            for block in range(config.blocks_per_stage):
                stride = 2 if index > 0 and block == 0 else 1
                stages.append(BasicBlock(channels, width, stride))
                channels = width
        self.stages = nn.Sequential(*stages)
        self.head = nn.Linear(channels, config.classes)
        _initialise_convnet(self)
        for module in self.modules():  # each residual branch starts as the identity
            if isinstance(module, BasicBlock):
                nn.init.zeros_(module.bn2.weight)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        features = self.stages(self.stem(images))
        return self.head(features.mean(dim=(2, 3)))


# ---------------------------------------------------------------- EfficientNet


@dataclass(frozen=True)
class EfficientNetConfig:
    # torchvision's efficientnet_b0 stages: (expand ratio, kernel, stride, out channels, blocks)
    stages: tuple[tuple[int, int, int, int, int], ...] = (
        (1, 3, 1, 16, 1),
        (6, 3, 2, 24, 2),
        (6, 5, 2, 40, 2),
        (6, 3, 2, 80, 3),
        (6, 5, 1, 112, 3),
        (6, 5, 2, 192, 4),
        (6, 3, 1, 320, 1),
    )
    stem_channels: int = 32
    stem_stride: int = 2  # as in torchvision: a 32×32 image reaches 1×1 before pooling
    head_channels: int = 1280
    width_multiplier: float = 0.5  # B0's depth at half its width: the budget (see chapter)
    # B0's dropout and stochastic depth (0.2 each) regularise its 350 ImageNet epochs; a run of
    # a few dozen epochs on CIFAR-10 under-fits with them (81% training accuracy), so they are off.
    dropout: float = 0.0
    stochastic_depth: float = 0.0
    classes: int = 10


def _round_channels(channels: float, divisor: int = 8) -> int:
    """torchvision's ``_make_divisible``: nearest multiple of 8, never 10 % below the input."""
    rounded = max(divisor, int(channels + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * channels else rounded


def _conv_bn_act(
    channels_in: int, channels_out: int, kernel: int, stride: int = 1, groups: int = 1
) -> nn.Sequential:
    padding = kernel // 2
    return nn.Sequential(
        nn.Conv2d(channels_in, channels_out, kernel, stride, padding, groups=groups, bias=False),
        nn.BatchNorm2d(channels_out, eps=1e-3),
        nn.SiLU(inplace=True),
    )


class SqueezeExcitation(nn.Module):
    """Channel gates from the globally pooled features (Hu et al. 2018)."""

    def __init__(self, channels: int, squeezed: int) -> None:
        super().__init__()
        self.reduce = nn.Conv2d(channels, squeezed, 1)
        self.expand = nn.Conv2d(squeezed, channels, 1)
        self.activation = nn.SiLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = self.expand(self.activation(self.reduce(x.mean(dim=(2, 3), keepdim=True))))
        return x * torch.sigmoid(gate)


class MBConv(nn.Module):
    """Inverted residual: 1×1 expansion, depthwise k×k, squeeze-excitation, 1×1 projection."""

    def __init__(
        self,
        channels_in: int,
        channels_out: int,
        expand: int,
        kernel: int,
        stride: int,
        drop_probability: float,
    ) -> None:
        super().__init__()
        hidden = _round_channels(channels_in * expand)
        layers: list[nn.Module] = []
        if hidden != channels_in:
            layers.append(_conv_bn_act(channels_in, hidden, 1))
        layers += [
            _conv_bn_act(hidden, hidden, kernel, stride, groups=hidden),
            SqueezeExcitation(hidden, max(1, channels_in // 4)),
            nn.Conv2d(hidden, channels_out, 1, bias=False),
            nn.BatchNorm2d(channels_out, eps=1e-3),
        ]
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and channels_in == channels_out
        self.drop_probability = drop_probability

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.block(x)
        if not self.residual:
            return out
        if self.training and self.drop_probability > 0:  # stochastic depth, per sample
            keep = 1 - self.drop_probability
            mask = torch.empty(x.size(0), 1, 1, 1, device=x.device).bernoulli_(keep)
            out = out * mask / keep
        return x + out


class EfficientNet(nn.Module):
    def __init__(self, config: EfficientNetConfig) -> None:
        super().__init__()
        self.config = config

        def scaled(channels: int) -> int:
            return _round_channels(channels * config.width_multiplier)

        channels = scaled(config.stem_channels)
        layers: list[nn.Module] = [_conv_bn_act(3, channels, 3, config.stem_stride)]
        total = sum(stage[4] for stage in config.stages)
        index = 0
        for expand, kernel, stride, out, blocks in config.stages:
            for block in range(blocks):
                drop = config.stochastic_depth * index / total
                layers.append(
                    MBConv(channels, scaled(out), expand, kernel, stride if block == 0 else 1, drop)
                )
                channels, index = scaled(out), index + 1
        head = scaled(config.head_channels)
        layers.append(_conv_bn_act(channels, head, 1))
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Dropout(config.dropout), nn.Linear(head, config.classes))
        _initialise_convnet(self)
        for module in self.head.modules():
            if isinstance(module, nn.Linear):  # torchvision's head initialisation
                bound = 1 / math.sqrt(module.out_features)
                nn.init.uniform_(module.weight, -bound, bound)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images).mean(dim=(2, 3)))


def _initialise_convnet(model: nn.Module) -> None:
    """He (fan-out) initialisation for convolutions, unit/zero batch norm, zero biases."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, std=0.01)
            nn.init.zeros_(module.bias)
