"""The autoencoder family. Part I's manufacturing autoencoder is one configuration of it.

Every member maps a batch of windows (B, W) to a reconstruction (B, W) and exposes the same
two methods, so that one training loop and one scoring path serve them all:
``training_loss(x)`` (what the optimiser minimises) and ``reconstruct(x)`` (deterministic,
used for anomaly scores).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from a2dl.artefacts import DEEP_ANOMALY_MODELS

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


def dense_layers(widths: tuple[int, ...], activation: str = "relu") -> list[nn.Module]:
    """Linear layers through ``widths``, each followed by ``activation``."""
    layers: list[nn.Module] = []
    for n_in, n_out in zip(widths[:-1], widths[1:], strict=True):
        layers += [nn.Linear(n_in, n_out), ACTIVATIONS[activation]()]
    return layers


class WindowAutoencoder(nn.Module):
    """Shared behaviour: the loss is the mean squared reconstruction error."""

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self(x)

    def training_loss(self, x: torch.Tensor) -> torch.Tensor:
        return torch.mean((self(x) - x) ** 2)


class DenseAutoencoder(WindowAutoencoder):
    """Encoder and decoder as ``nn.Sequential`` so that each layer is named and countable."""

    def __init__(self, config: DenseAutoencoderConfig) -> None:
        super().__init__()
        self.config = config
        widths = (config.input_dim, *config.hidden)
        back = (config.latent_dim, *reversed(config.hidden))
        self.encoder = nn.Sequential(
            *dense_layers(widths, config.activation), nn.Linear(widths[-1], config.latent_dim)
        )
        self.decoder = nn.Sequential(
            *dense_layers(back, config.activation),
            nn.Linear(back[-1], config.input_dim),
            ACTIVATIONS[config.output_activation](),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


@dataclass(frozen=True)
class Conv1dAutoencoderConfig:
    """Strided 1-D convolutions halve the time axis at each layer; a linear bottleneck."""

    window: int = 64
    channels: tuple[int, ...] = (16, 32)
    kernel: int = 7
    latent_dim: int = 8


class Conv1dAutoencoder(WindowAutoencoder):
    def __init__(self, config: Conv1dAutoencoderConfig) -> None:
        super().__init__()
        self.config = config
        steps = len(config.channels)
        if config.window % 2**steps:
            raise ValueError(f"window {config.window} must be divisible by {2**steps}")
        self.reduced = config.window // 2**steps
        pad = config.kernel // 2
        encoder: list[nn.Module] = []
        previous = 1
        for width in config.channels:
            encoder += [nn.Conv1d(previous, width, config.kernel, stride=2, padding=pad), nn.ReLU()]
            previous = width
        self.encoder = nn.Sequential(*encoder, nn.Flatten())
        flat = config.channels[-1] * self.reduced
        self.to_latent = nn.Linear(flat, config.latent_dim)
        self.from_latent = nn.Linear(config.latent_dim, flat)
        decoder: list[nn.Module] = []
        widths = (*reversed(config.channels), 1)
        for i, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
            decoder.append(
                nn.ConvTranspose1d(
                    n_in, n_out, config.kernel, stride=2, padding=pad, output_padding=1
                )
            )
            if i < len(widths) - 2:
                decoder.append(nn.ReLU())
        self.decoder = nn.Sequential(*decoder)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        code = self.to_latent(self.encoder(x[:, None, :]))  # (B, latent)
        h = torch.relu(self.from_latent(code)).view(-1, self.config.channels[-1], self.reduced)
        return self.decoder(h)[:, 0, :]


@dataclass(frozen=True)
class LSTMAutoencoderConfig:
    """An LSTM reads the window; its last state, squeezed to the code, seeds a decoder LSTM."""

    window: int = 64
    hidden: int = 16
    latent_dim: int = 8


class LSTMAutoencoder(WindowAutoencoder):
    def __init__(self, config: LSTMAutoencoderConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = nn.LSTM(1, config.hidden, batch_first=True)
        self.to_latent = nn.Linear(config.hidden, config.latent_dim)
        self.decoder = nn.LSTM(config.latent_dim, config.hidden, batch_first=True)
        self.output = nn.Linear(config.hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, (state, _) = self.encoder(x[:, :, None])  # state: (1, B, hidden)
        code = self.to_latent(state[-1])  # (B, latent)
        repeated = code[:, None, :].expand(-1, x.size(1), -1)  # (B, W, latent)
        decoded, _ = self.decoder(repeated)
        return self.output(decoded)[:, :, 0]


@dataclass(frozen=True)
class VariationalAutoencoderConfig:
    """A dense VAE (Kingma & Welling): Gaussian code, reparameterised sampling, KL term."""

    window: int = 64
    hidden: tuple[int, ...] = (32,)
    latent_dim: int = 8
    beta: float = 0.1


class VariationalAutoencoder(WindowAutoencoder):
    def __init__(self, config: VariationalAutoencoderConfig) -> None:
        super().__init__()
        self.config = config
        widths = (config.window, *config.hidden)
        back = (config.latent_dim, *reversed(config.hidden))
        self.encoder = nn.Sequential(*dense_layers(widths))
        self.mean = nn.Linear(widths[-1], config.latent_dim)
        self.log_variance = nn.Linear(widths[-1], config.latent_dim)
        self.decoder = nn.Sequential(*dense_layers(back), nn.Linear(back[-1], config.window))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The reconstruction from the mean code: deterministic, used for scoring."""
        return self.decoder(self.mean(self.encoder(x)))

    def training_loss(self, x: torch.Tensor) -> torch.Tensor:
        h = self.encoder(x)
        mean, log_variance = self.mean(h), self.log_variance(h)
        code = mean + torch.randn_like(mean) * torch.exp(0.5 * log_variance)
        reconstruction = torch.mean((self.decoder(code) - x) ** 2)
        kl = -0.5 * torch.mean(torch.sum(1 + log_variance - mean**2 - log_variance.exp(), dim=1))
        return reconstruction + self.config.beta * kl / x.size(1)


ARCHITECTURES: dict[str, tuple[type, type[WindowAutoencoder]]] = {
    "dense": (DenseAutoencoderConfig, DenseAutoencoder),
    "conv1d": (Conv1dAutoencoderConfig, Conv1dAutoencoder),
    "lstm": (LSTMAutoencoderConfig, LSTMAutoencoder),
    "vae": (VariationalAutoencoderConfig, VariationalAutoencoder),
    # the baseline for "does depth help": one linear map to the code and one back, no
    # activation; it spans the same subspace as PCA with as many components
    "linear": (DenseAutoencoderConfig, DenseAutoencoder),
}
DEEP = DEEP_ANOMALY_MODELS  # the candidates; "linear" is a baseline


# How the report writes each architecture's name (the keys above are code names).
TITLES = {
    "dense": "dense",
    "conv1d": "Conv1D",
    "lstm": "LSTM",
    "vae": "variational",
    "linear": "linear",
}
# What each title abbreviates, for the first time a text names the architecture.
SPELLED_OUT = {"conv1d": "one-dimensional convolutional", "lstm": "long short-term memory"}


def window_configs(window: int = 64) -> dict[str, object]:
    """The Part II autoencoders, sized for windows of ``window`` observations."""
    return {
        "dense": DenseAutoencoderConfig(
            input_dim=window, hidden=(32,), latent_dim=8, output_activation="identity"
        ),
        "conv1d": Conv1dAutoencoderConfig(window=window),
        "lstm": LSTMAutoencoderConfig(window=window),
        "vae": VariationalAutoencoderConfig(window=window),
        "linear": DenseAutoencoderConfig(
            input_dim=window,
            hidden=(),
            latent_dim=8,
            activation="identity",
            output_activation="identity",
        ),
    }


def build_autoencoder(name: str, config: object) -> WindowAutoencoder:
    return ARCHITECTURES[name][1](config)
