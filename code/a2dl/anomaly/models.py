"""The autoencoder family. Part I's manufacturing autoencoder is one configuration of it."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "identity": nn.Identity,
}


@dataclass(frozen=True)
class DenseAutoencoderConfig:
    """A symmetric stack of fully connected layers around a bottleneck.

    ``hidden`` lists the encoder's hidden widths; the decoder mirrors them. The bottleneck has
    no activation (a linear code), as in the assignment's Part I architecture.
    """

    input_dim: int = 1000
    hidden: tuple[int, ...] = (512,)
    latent_dim: int = 32
    activation: str = "relu"
    output_activation: str = "sigmoid"

    @property
    def widths(self) -> tuple[int, ...]:
        """Units of every layer from input to output, e.g. (1000, 512, 32, 512, 1000)."""
        return (
            self.input_dim,
            *self.hidden,
            self.latent_dim,
            *reversed(self.hidden),
            self.input_dim,
        )


def manufacturing_config() -> DenseAutoencoderConfig:
    """Part I: 1000 → 512 ReLU → 32 → 512 ReLU → 1000 sigmoid."""
    return DenseAutoencoderConfig(
        input_dim=1000, hidden=(512,), latent_dim=32, activation="relu", output_activation="sigmoid"
    )


class DenseAutoencoder(nn.Module):
    """Encoder and decoder as ``nn.Sequential`` so that each layer is named and countable."""

    def __init__(self, config: DenseAutoencoderConfig) -> None:
        super().__init__()
        self.config = config
        act = ACTIVATIONS[config.activation]
        widths = (config.input_dim, *config.hidden)
        encoder: list[nn.Module] = []
        for n_in, n_out in zip(widths[:-1], widths[1:], strict=True):
            encoder += [nn.Linear(n_in, n_out), act()]
        encoder.append(nn.Linear(widths[-1], config.latent_dim))
        decoder: list[nn.Module] = []
        back = (config.latent_dim, *reversed(config.hidden))
        for n_in, n_out in zip(back[:-1], back[1:], strict=True):
            decoder += [nn.Linear(n_in, n_out), act()]
        decoder += [nn.Linear(back[-1], config.input_dim), ACTIVATIONS[config.output_activation]()]
        self.encoder = nn.Sequential(*encoder)
        self.decoder = nn.Sequential(*decoder)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))
