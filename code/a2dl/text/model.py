"""The Part IV encoder-decoder, used twice: pre-trained as a denoising autoencoder of
reviews, then fine-tuned as a classifier.

tokens ─ embedding·√d + sinusoidal positions ─ nn.TransformerEncoder (self-attention)
                                                       │ memory (padding masked)
pre-training: target tokens shifted right (causal) ─┐  │
fine-tuning:  learned query tokens ─────────────── nn.TransformerDecoder (self-attention,
                                                       │  cross-attention to the memory)
pre-training: · embeddingᵀ → next-token logits   fine-tuning: mean over queries ─ Linear
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class SentimentTransformerConfig:
    vocab_size: int
    max_len: int = 256
    d_model: int = 64
    heads: int = 4
    encoder_layers: int = 2
    decoder_layers: int = 2
    ff_dim: int = 128
    dropout: float = 0.1
    # Dropout on the attention weights themselves. Off by default: on a CPU it is the most
    # expensive operation of a training step (it masks every B×H×T×T weight), and it forces
    # PyTorch off its fused attention kernel; residual and feed-forward dropout remain.
    attention_dropout: float = 0.0
    queries: int = 4
    classes: int = 2
    pad_id: int = 0


def sinusoidal_positions(length: int, width: int) -> torch.Tensor:
    """The fixed encoding of Vaswani et al.: sin on even, cos on odd features, (length, width)."""
    position = torch.arange(length, dtype=torch.float32)[:, None]
    frequency = torch.exp(torch.arange(0, width, 2, dtype=torch.float32) * (-math.log(1e4) / width))
    table = torch.zeros(length, width)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency)
    return table


class SentimentTransformer(nn.Module):
    def __init__(self, config: SentimentTransformerConfig) -> None:
        super().__init__()
        self.config = config
        d = config.d_model
        self.embedding = nn.Embedding(config.vocab_size, d, padding_idx=config.pad_id)
        # Vaswani et al.'s scale: rows of norm about 1, times √d on the way in, so that the
        # inputs have unit variance beside the positions and the layers' residual updates;
        # the same matrix, transposed, is the pre-training's output layer.
        with torch.no_grad():
            nn.init.normal_(self.embedding.weight, std=d**-0.5)
            self.embedding.weight[config.pad_id].zero_()
        # The pre-training's output bias (the log-frequency prior of each word); unused, and
        # left as it is, in classification.
        self.output_bias = nn.Parameter(torch.zeros(config.vocab_size))
        self.register_buffer("positions", sinusoidal_positions(config.max_len, d), persistent=False)
        self.input_dropout = nn.Dropout(config.dropout)
        layer = dict(
            d_model=d,
            nhead=config.heads,
            dim_feedforward=config.ff_dim,
            dropout=config.dropout,
            batch_first=True,
            norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(
            nn.TransformerEncoderLayer(**layer),
            config.encoder_layers,
            norm=nn.LayerNorm(d),
            enable_nested_tensor=False,
        )
        self.query = nn.Parameter(torch.randn(1, config.queries, d) * 0.02)
        self.decoder = nn.TransformerDecoder(
            nn.TransformerDecoderLayer(**layer), config.decoder_layers, norm=nn.LayerNorm(d)
        )
        self.classifier = nn.Linear(d, config.classes)
        for module in self.modules():
            if isinstance(module, nn.MultiheadAttention):
                module.dropout = config.attention_dropout

    def encode(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(memory (B, T, d), padding mask (B, T), True at padding)."""
        padding = tokens == self.config.pad_id
        memory = self.encoder(self.input_dropout(self.embed(tokens)), src_key_padding_mask=padding)
        return memory, padding

    def embed(self, tokens: torch.Tensor) -> torch.Tensor:
        length = tokens.size(1)
        return self.embedding(tokens) * math.sqrt(self.config.d_model) + self.positions[:length]

    def reconstruct(self, corrupted: torch.Tensor, decoder_input: torch.Tensor) -> torch.Tensor:
        """Pre-training: logits (B, S, vocab) of each next target token.

        The decoder reads the target shifted right (``<bos>`` first) under a causal mask and
        attends to the encoder's memory of the corrupted review; the output layer is the
        transposed embedding (weight tying) plus a bias per word.
        """
        memory, padding = self.encode(corrupted)
        length = decoder_input.size(1)
        # True above the diagonal: position i never sees a later target token
        causal = torch.ones(length, length, dtype=torch.bool, device=corrupted.device).triu(1)
        hidden = self.decoder(
            self.input_dropout(self.embed(decoder_input)),
            memory,
            tgt_mask=causal,
            tgt_is_causal=True,
            tgt_key_padding_mask=decoder_input == self.config.pad_id,
            memory_key_padding_mask=padding,
        )
        return hidden @ self.embedding.weight.T + self.output_bias

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Class logits (B, classes); :meth:`predict_proba` applies the softmax."""
        memory, padding = self.encode(tokens)
        queries = self.query.expand(tokens.size(0), -1, -1)
        answer = self.decoder(queries, memory, memory_key_padding_mask=padding)
        return self.classifier(answer.mean(dim=1))

    @torch.no_grad()
    def predict_proba(self, tokens: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self(tokens), dim=-1)


@torch.no_grad()
def attention_weights(model: SentimentTransformer, tokens: torch.Tensor) -> dict[str, torch.Tensor]:
    """Attention of one review (tokens (1, T)) read from the trained weights.

    ``decoder``: the learned query's cross-attention over the review in the last decoder layer,
    per head, (H, queries, T); ``encoder``: the first encoder layer's self-attention, (H, T, T).
    The layers are pre-norm, so each attention sees the layer-normalised input, as in forward.
    """
    model.eval()
    memory, padding = model.encode(tokens)
    x = model.embed(tokens)
    first = model.encoder.layers[0]
    normed = first.norm1(x)
    _, encoder = first.self_attn(
        normed,
        normed,
        normed,
        key_padding_mask=padding,
        need_weights=True,
        average_attn_weights=False,
    )
    query = model.query.expand(tokens.size(0), -1, -1)
    for layer in model.decoder.layers[:-1]:
        query = layer(query, memory, memory_key_padding_mask=padding)
    last = model.decoder.layers[-1]
    query = query + last._sa_block(last.norm1(query), None, None)
    _, decoder = last.multihead_attn(
        last.norm2(query),
        memory,
        memory,
        key_padding_mask=padding,
        need_weights=True,
        average_attn_weights=False,
    )
    return {"decoder": decoder[0], "encoder": encoder[0]}
