"""Computational graphs drawn with Graphviz (Part I's autoencoder, Part III's attention).

Each function returns a ``graphviz.Digraph``: as a chapter cell's last expression it renders as
SVG, which Quarto includes as a numbered figure, with no browser needed for the PDF.
One visual vocabulary throughout: tensors are plain ovals, trainable parameters are shaded
boxes with their shapes, operations are small grey circles or rounded boxes.
"""

from __future__ import annotations

import graphviz

TENSOR = {"shape": "oval", "style": "filled", "fillcolor": "#e8f1fb", "color": "#3b6ea5"}
PARAMETER = {"shape": "box", "style": "filled", "fillcolor": "#fdf0d5", "color": "#b07d2b"}
OPERATION = {"shape": "box", "style": "rounded,filled", "fillcolor": "#eeeeee", "color": "#666666"}
LOSS = {"shape": "doubleoctagon", "style": "filled", "fillcolor": "#f8d7da", "color": "#aa3333"}


def _digraph(name: str, *, rankdir: str, size: str) -> graphviz.Digraph:
    graph = graphviz.Digraph(name, format="svg")
    graph.attr(rankdir=rankdir, size=size, nodesep="0.25", ranksep="0.3", fontname="Helvetica")
    graph.attr("node", fontname="Helvetica", fontsize="11", height="0.3")
    graph.attr("edge", fontname="Helvetica", fontsize="9", color="#555555", arrowsize="0.6")
    return graph


def autoencoder_graph(
    widths: tuple[int, ...] = (1000, 512, 32, 512, 1000),
    activations: tuple[str, ...] = ("ReLU", "", "ReLU", "sigmoid"),
) -> graphviz.Digraph:
    """The forward pass and loss of a dense autoencoder, one matmul/add/activation per layer.

    ``activations[i]`` follows layer ``i``; an empty string is a linear layer (the bottleneck).
    The target of an autoencoder is its own input, drawn as its own node beside the output.
    """
    if len(activations) != len(widths) - 1:
        raise ValueError("one activation (or '') per layer: len(activations) == len(widths) - 1")
    graph = _digraph("autoencoder", rankdir="TB", size="6.5,9")
    graph.node("x", f"input x\n{widths[0]}", **TENSOR)
    previous = "x"
    for layer, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:], strict=True), start=1):
        weight, bias = f"W{layer}", f"b{layer}"
        matmul, add = f"matmul{layer}", f"add{layer}"
        with graph.subgraph() as row:
            row.attr(rank="same")
            row.node(weight, f"W{layer}\n{n_out} × {n_in}", **PARAMETER)
            row.node(matmul, "matmul", **OPERATION)
        with graph.subgraph() as row:
            row.attr(rank="same")
            row.node(bias, f"b{layer}\n{n_out}", **PARAMETER)
            row.node(add, "+", **OPERATION)
        graph.edge(previous, matmul, label=f" {n_in}")
        graph.edge(weight, matmul)
        graph.edge(matmul, add, label=f" {n_out}")
        graph.edge(bias, add)
        previous = add
        name = activations[layer - 1]
        if name:
            node = f"act{layer}"
            graph.node(node, name, **OPERATION)
            graph.edge(previous, node)
            previous = node
        label = "x̂ (reconstruction)" if layer == len(widths) - 1 else f"h{layer}"
        graph.node(f"h{layer}", f"{label}\n{n_out}", **TENSOR)
        graph.edge(previous, f"h{layer}")
        previous = f"h{layer}"
    with graph.subgraph() as row:
        row.attr(rank="same")
        row.node("target", f"target x\n{widths[0]}", **TENSOR)
        row.node(previous)
    graph.node("mse", "MSE\n(1/n) Σ (x̂ − x)²", **OPERATION)
    graph.node("loss", "loss L", **LOSS)
    graph.edge(previous, "mse")
    graph.edge("target", "mse")
    graph.edge("mse", "loss")
    return graph


def self_attention_graph(
    n: str = "N", d_model: str = "d", d_k: str = "d_k", d_v: str = "d_v"
) -> graphviz.Digraph:
    """Single-head self-attention from the input x to the representation z.

    Three parallel linear maps give Q, K, V; the scores QKᵀ are scaled by 1/√d_k, optionally
    masked, normalised row-wise by softmax, and used to weight V; W_o and b_o map the result
    to z. Shapes are symbolic so that the figure matches the chapter's equations.
    """
    graph = _digraph("self_attention", rankdir="TB", size="6.5,8.5")
    graph.node("x", f"input x\n{n} × {d_model}", **TENSOR)
    projections = (("q", "Q", d_k, "queries"), ("k", "K", d_k, "keys"), ("v", "V", d_v, "values"))
    with graph.subgraph() as weights_row:
        weights_row.attr(rank="same")
        for key, _, width, _ in projections:
            weights_row.node(f"W{key}", f"W_{key}\n{d_model} × {width}", **PARAMETER)
            weights_row.node(f"b{key}", f"b_{key}\n{width}", **PARAMETER)
    with graph.subgraph() as projected_row:
        projected_row.attr(rank="same")
        for key, name, width, role in projections:
            graph.node(f"mm{key}", "matmul + add", **OPERATION)
            graph.edge("x", f"mm{key}")
            graph.edge(f"W{key}", f"mm{key}")
            graph.edge(f"b{key}", f"mm{key}")
            projected_row.node(key.upper(), f"{name} ({role})\n{n} × {width}", **TENSOR)
            graph.edge(f"mm{key}", key.upper())
    graph.node("kt", "transpose", **OPERATION)
    graph.node("scores", "matmul  Q Kᵀ\nscores S: " + f"{n} × {n}", **OPERATION)
    graph.node("scale", f"× 1/√{d_k}", **OPERATION)
    graph.node(
        "mask",
        "+ mask M (optional)\n−∞ where not allowed",
        **{**OPERATION, "style": "rounded,dashed,filled"},
    )
    graph.node("softmax", "softmax (each row)", **OPERATION)
    graph.node("A", f"attention weights A\n{n} × {n}, rows sum to 1", **TENSOR)
    graph.node("weighted", "matmul  A V\n(weighted sum of values)", **OPERATION)
    graph.node("H", f"H\n{n} × {d_v}", **TENSOR)
    with graph.subgraph() as output_row:
        output_row.attr(rank="same")
        output_row.node("Wo", f"W_o\n{d_v} × {d_model}", **PARAMETER)
        output_row.node("bo", f"b_o\n{d_model}", **PARAMETER)
        output_row.node("out", "matmul + add\n(optional output map)", **OPERATION)
    graph.node("z", f"representation z\n{n} × {d_model}", **TENSOR)
    graph.edge("K", "kt")
    graph.edge("Q", "scores")
    graph.edge("kt", "scores")
    graph.edge("scores", "scale")
    graph.edge("scale", "mask")
    graph.edge("mask", "softmax")
    graph.edge("softmax", "A")
    graph.edge("A", "weighted")
    graph.edge("V", "weighted")
    graph.edge("weighted", "H")
    graph.edge("H", "out")
    graph.edge("Wo", "out")
    graph.edge("bo", "out")
    graph.edge("out", "z")
    return graph


def sentiment_transformer_graph(
    d_model: int,
    heads: int,
    encoder_layers: int,
    decoder_layers: int,
    ff_dim: int,
    max_len: int,
    vocab_size: int,
    queries: int = 1,
) -> graphviz.Digraph:
    """The Part IV classifier: encoder over the review, decoder query over its output."""
    graph = _digraph("sentiment_transformer", rankdir="TB", size="6.5,7.5")
    graph.node("tokens", f"review tokens\n(B × T), T ≤ {max_len}, <pad> masked", **TENSOR)
    graph.node(
        "embed",
        f"embedding {vocab_size:,} × {d_model}\n× √{d_model} + sinusoidal positions",
        **PARAMETER,
    )
    graph.node(
        "encoder",
        f"nn.TransformerEncoder: {encoder_layers} × TransformerEncoderLayer\n"
        f"(pre-norm; {heads}-head self-attention, feed-forward {d_model}→{ff_dim}→{d_model})",
        **OPERATION,
    )
    graph.node("memory", f"memory\n(B × T × {d_model})", **TENSOR)
    graph.node(
        "query",
        f"learned query token{'s' if queries > 1 else ''}\n({queries} × {d_model})",
        **PARAMETER,
    )
    graph.node(
        "decoder",
        f"nn.TransformerDecoder: {decoder_layers} × TransformerDecoderLayer\n"
        "(self-attention over the queries; cross-attention to the memory,\n"
        "padding masked; feed-forward)",
        **OPERATION,
    )
    graph.node("pooled", f"answer\n(B × {d_model})", **TENSOR)
    graph.node("linear", f"LayerNorm, Linear {d_model} → 2", **PARAMETER)
    graph.node("softmax", "softmax → P(negative), P(positive)", **OPERATION)
    graph.node("loss", "cross-entropy with the label", **LOSS)
    graph.edges(
        [
            ("tokens", "embed"),
            ("embed", "encoder"),
            ("encoder", "memory"),
            ("memory", "decoder"),
            ("query", "decoder"),
            ("decoder", "pooled"),
            ("pooled", "linear"),
            ("linear", "softmax"),
            ("softmax", "loss"),
        ]
    )
    return graph
