"""Parameter bookkeeping shared by every part: counts per layer and in total."""

from __future__ import annotations

import pandas as pd
from torch import nn

from a2dl.numberstyle import tex_count


def count_parameters(model: nn.Module, *, trainable_only: bool = True) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def dense_layer_parameters(n_in: int, n_out: int) -> tuple[int, int]:
    """A fully connected layer from ``n_in`` to ``n_out`` units: (weights, biases)."""
    return n_in * n_out, n_out


def linear_layer_table(model: nn.Module) -> pd.DataFrame:
    """One row per ``nn.Linear``: its shape, weights, biases and total, as PyTorch counts them."""
    rows = []
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear):
            biases = module.bias.numel() if module.bias is not None else 0
            rows.append(
                {
                    "layer": name,
                    "in": module.in_features,
                    "out": module.out_features,
                    "weights": module.weight.numel(),
                    "biases": biases,
                    "total": module.weight.numel() + biases,
                }
            )
    return pd.DataFrame(rows)


def parameter_derivation(widths: tuple[int, ...]) -> list[str]:
    """The lines of the per-layer parameter count of a dense stack as LaTeX (aligned on
    ``=``): P_l = n_in · n_out + n_out for each layer, then the weights, biases and total."""

    n = tex_count
    shapes = list(zip(widths[:-1], widths[1:], strict=True))
    layers = [dense_layer_parameters(a, b) for a, b in shapes]
    lines = [
        rf"P_{i} &= {n(a)} \cdot {n(b)} + {n(b)} = {n(w)} + {n(bias)} = {n(w + bias)}"
        for i, ((a, b), (w, bias)) in enumerate(zip(shapes, layers, strict=True), 1)
    ]
    weights, biases = sum(w for w, _ in layers), sum(b for _, b in layers)
    terms = " + ".join(f"P_{i}" for i in range(1, len(layers) + 1))
    lines.append(rf"P &= {terms} = {n(weights)}\ \text{{weights}} + {n(biases)}\ \text{{biases}}")
    lines.append(rf"&= {n(weights + biases)}")
    return lines


ACTIVATIONS_TEX = {"ReLU": r"\mathrm{ReLU}", "sigmoid": r"\sigma", "": ""}


def dense_stack_equations(
    widths: tuple[int, ...], activations: tuple[str, ...], outputs: tuple[str, ...]
) -> list[str]:
    r"""The forward pass of a dense stack as aligned LaTeX lines, one per layer:
    ``out_l = act(W_l in_l + b_l)`` beside the shape of ``W_l``, with every width written by
    :func:`a2dl.report.tex_count` (so 1,000 reads as in the prose). ``outputs`` names each
    layer's result in LaTeX; the input is ``\mathbf{x}``. An empty activation is a linear layer."""
    if not len(activations) == len(outputs) == len(widths) - 1:
        raise ValueError("one activation and one output name per layer")
    inputs = [r"\mathbf{x}", *outputs[:-1]]
    lines = []
    for layer, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:], strict=True), start=1):
        affine = rf"W_{layer} {inputs[layer - 1]} + \mathbf{{b}}_{layer}"
        act = ACTIVATIONS_TEX[activations[layer - 1]]
        value = rf"{act}({affine})" if act else affine
        shape = rf"\mathbb{{R}}^{{{tex_count(n_out)} \times {tex_count(n_in)}}}"
        lines.append(rf"{outputs[layer - 1]} &= {value}, &\qquad W_{layer} &\in {shape},")
    return lines
