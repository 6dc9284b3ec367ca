"""Computational graphs drawn with Graphviz (Part I's autoencoder, Part III's attention).

Each function returns a :class:`Graph` (a ``graphviz.Digraph`` that displays as SVG): as a
chapter cell's last expression it becomes a numbered figure, with no browser needed for the PDF.
One visual vocabulary throughout: tensors are plain ovals, trainable parameters are shaded
boxes with their shapes, operations are small grey circles or rounded boxes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import graphviz

# dot lays labels out with one face's real metrics (Liberation Sans, metric-compatible with
# Arial and Helvetica); the SVG then names the metric-compatible faces in turn, so that browsers
# and Typst draw the text where dot put it. (A family list given to dot itself makes it guess
# widths, and text after a subscript drifts.)
FONT = "Liberation Sans"
SVG_FONTS = "Liberation Sans,Arial,Helvetica,sans-serif"
TENSOR = {"shape": "oval", "style": "filled", "fillcolor": "#e8f1fb", "color": "#3b6ea5"}
PARAMETER = {"shape": "box", "style": "filled", "fillcolor": "#fdf0d5", "color": "#b07d2b"}
OPERATION = {"shape": "box", "style": "rounded,filled", "fillcolor": "#eeeeee", "color": "#666666"}
SCRIPT_GAP = '<BR/><FONT POINT-SIZE="4"> </FONT><BR/>'  # a line break with a 4-pt empty line
LOSS = {"shape": "doubleoctagon", "style": "filled", "fillcolor": "#f8d7da", "color": "#aa3333"}


SCRIPT_TEXT = re.compile(
    r'<text (?P<before>[^>]*?)y="(?P<y>[-\d.]+)"(?P<middle>[^>]*?)'
    r' baseline-shift="(?P<shift>sub|super)" font-size="(?P<size>[\d.]+)"'
)


def shift_scripts(svg: str) -> str:
    """Graphviz writes an HTML label's subscript as a separate ``<text>`` with
    ``baseline-shift``, which browsers honour but Typst's SVG renderer ignores (W₁ came out
    as "W 1"). Move each such text down (or up) in coordinates that every renderer reads; its
    smaller size is set in the label itself, so that dot leaves the right room for it."""

    def moved(match: re.Match[str]) -> str:
        size = float(match["size"])  # already the script's size: dot laid the label out with it
        offset = 0.35 * size if match["shift"] == "sub" else -0.55 * size
        return (
            f'<text {match["before"]}y="{float(match["y"]) + offset:.2f}"{match["middle"]}'
            f' font-size="{size:.2f}"'
        )

    svg = svg.replace(f'font-family="{FONT}"', f'font-family="{SVG_FONTS}"')
    # dot splits a label line at each script into pieces such as " x + b"; renderers drop a
    # piece's leading space unless told to keep it, which shifts the rest of the line.
    svg = svg.replace("<svg ", '<svg xml:space="preserve" ', 1)
    return SCRIPT_TEXT.sub(moved, svg)


CANVAS = re.compile(
    r'width="(?P<w>[\d.]+)pt" height="(?P<h>[\d.]+)pt"\s+'
    r'viewBox="0\.00 0\.00 (?P<vw>[\d.]+) (?P<vh>[\d.]+)"'
)


def pad_canvas(svg: str, margin: float = 2.0) -> str:
    """Graphviz truncates a scaled drawing's canvas to whole points (``size`` scales 762.6 pt
    to 533.8 and writes 533), which cuts the bottom of the last node flat; a margin of a few
    points on the right and bottom restores it."""

    def padded(match: re.Match[str]) -> str:
        w, h = float(match["w"]) + margin, float(match["h"]) + margin
        vw, vh = float(match["vw"]) + margin, float(match["vh"]) + margin
        return f'width="{w:.2f}pt" height="{h:.2f}pt"\n viewBox="0.00 0.00 {vw:.2f} {vh:.2f}"'

    return CANVAS.sub(padded, svg, count=1)


@dataclass(frozen=True)
class Graph:
    """A Graphviz graph that displays as SVG with sub- and superscripts every renderer
    draws (:func:`shift_scripts`); ``source`` is the DOT text."""

    digraph: graphviz.Digraph

    @property
    def source(self) -> str:
        return self.digraph.source

    def _repr_svg_(self) -> str:
        return pad_canvas(shift_scripts(self.digraph.pipe(format="svg", encoding="utf-8")))


def _digraph(name: str, *, rankdir: str, size: str) -> graphviz.Digraph:
    graph = graphviz.Digraph(name, format="svg")
    graph.attr(rankdir=rankdir, size=size, nodesep="0.25", ranksep="0.3", fontname=FONT)
    graph.attr("node", fontname=FONT, fontsize="11", height="0.3")
    graph.attr("edge", fontname=FONT, fontsize="9", color="#555555", arrowsize="0.6")
    return graph


def _html(text: str) -> str:
    """A Graphviz HTML label: ``_{k}`` becomes a subscript, ``\n`` a line break, so that the
    figure writes W<sub>q</sub> and d<sub>k</sub> as the equations do."""
    import re

    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # A thin space after a subscript that a character follows directly ("b₁)"): renderers set
    # the text a little wider than dot measures it, and the slack keeps the two apart.
    escaped = re.sub(r"_\{([^}]*)\}(?=[^ \n])", r"_{\1}&#8201;", escaped)
    escaped = re.sub(r"_\{([^}]*)\}", r'<SUB><FONT POINT-SIZE="8">\1</FONT></SUB>', escaped)
    lines = escaped.split("\n")
    # a subscript hangs below its line: a thin empty line after it keeps it off the next one
    joined = lines[0] + "".join(
        (SCRIPT_GAP if "<SUB>" in before else "<BR/>") + line
        for before, line in zip(lines, lines[1:], strict=False)
    )
    return "<" + joined + ">"


def autoencoder_graph(
    widths: tuple[int, ...] = (1000, 512, 32, 512, 1000),
    activations: tuple[str, ...] = ("ReLU", "", "ReLU", "sigmoid"),
) -> Graph:
    """The forward pass and loss of a dense autoencoder, one node per operation, drawn as a U.

    Layer l computes act(W_l h + b_l) as three operations: a matrix product with its weight
    W_l, the addition of its bias b_l and its activation (``activations[l - 1]``; an empty
    string is a linear layer: the bottleneck). The encoder runs down the left side to the code
    z at the bottom, the decoder back up the right side, each parameter beside the operation
    it feeds, outside the U; between the two sides the MSE compares the reconstruction with
    the target, which for an autoencoder is the input x itself. Tensors are named as in the
    chapter's equations: x, h_1, z (the code), h_3, and the reconstruction x̂ (in words: the
    PDF's SVG fonts lack the combining accent). Nodes are placed on a grid (neato with pinned
    positions): dot's ranking would not keep each parameter on its side.
    """
    if len(activations) != len(widths) - 1:
        raise ValueError("one activation (or '') per layer: len(activations) == len(widths) - 1")
    layers = len(widths) - 1
    bottleneck = min(range(1, layers), key=lambda layer: widths[layer])
    graph = graphviz.Digraph("autoencoder", format="svg", engine="neato")
    graph.attr(size="6.1,8", fontname=FONT, splines="true", outputorder="edgesfirst")
    graph.attr("node", fontname=FONT, fontsize="11", height="0.3")
    graph.attr("edge", fontname=FONT, fontsize="9", color="#555555", arrowsize="0.6")
    # each side of the U as a list of (node, parameter or None), in the order data flows
    sides: dict[str, list[tuple[str, str | None]]] = {"down": [], "up": []}
    graph.node("t0", _html(f"input x\n{widths[0]:,}"), **TENSOR)
    sides["down"].append(("t0", None))
    edges: list[tuple[str, str, str]] = []
    previous = "t0"
    for layer, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:], strict=True), start=1):
        side = sides["down" if layer <= bottleneck else "up"]
        activation = activations[layer - 1]
        graph.node(f"matmul{layer}", "matmul", **OPERATION)
        graph.node(f"W{layer}", _html(f"W_{{{layer}}}\n{n_out:,} × {n_in:,}"), **PARAMETER)
        graph.node(f"add{layer}", "add", **OPERATION)
        graph.node(f"b{layer}", _html(f"b_{{{layer}}}\n{n_out:,}"), **PARAMETER)
        side += [(f"matmul{layer}", f"W{layer}"), (f"add{layer}", f"b{layer}")]
        edges += [(previous, f"matmul{layer}", ""), (f"matmul{layer}", f"add{layer}", "")]
        last = f"add{layer}"
        if activation:
            graph.node(f"act{layer}", activation, **OPERATION)
            side.append((f"act{layer}", None))
            edges.append((last, f"act{layer}", ""))
            last = f"act{layer}"
        if layer == layers:
            label = f"reconstruction\n{n_out:,}"
        elif layer == bottleneck:
            label = f"code z\n{n_out:,}"
        else:
            label = f"h_{{{layer}}}\n{n_out:,}"
        graph.node(f"t{layer}", _html(label), **TENSOR)
        if layer != bottleneck:
            side.append((f"t{layer}", None))
        edges.append((last, f"t{layer}", ""))
        previous = f"t{layer}"
    # rows counted up from the code z at the bottom: both sides end next to it
    step, middle, column, parameter_offset = 0.6, 3.1, 1.45, 1.1
    bottom = max(len(sides["down"]), len(sides["up"]))
    for name, sign in (("down", -1), ("up", 1)):
        for k, (node, parameter) in enumerate(
            reversed(sides[name]) if name == "down" else sides[name], start=1
        ):
            y = k * step
            x = middle + sign * column
            graph.node(node, pos=f"{x:.2f},{y:.2f}!")
            if parameter:
                graph.node(parameter, pos=f"{x + sign * parameter_offset:.2f},{y:.2f}!")
                edges.append((parameter, node, ""))
    graph.node(f"t{bottleneck}", pos=f"{middle:.2f},0!")
    top = bottom * step
    graph.node(
        "mse",
        _html(f"MSE: mean over the\n{widths[0]:,} sensors of\n(reconstruction − target)²"),
        pos=f"{middle:.2f},{top - 1.1:.2f}!",
        **OPERATION,
    )
    graph.node("loss", "loss L", pos=f"{middle:.2f},{top - 2.3:.2f}!", **LOSS)
    edges += [(f"t{layers}", "mse", ""), ("t0", "mse", " target x"), ("mse", "loss", "")]
    for tail, head, label in edges:
        graph.edge(tail, head, label=label)
    return Graph(graph)


def self_attention_graph(
    n: str = "N", d_model: str = "d", d_k: str = "d_{k}", d_v: str = "d_{v}"
) -> Graph:
    """Single-head self-attention from the input X to the representation Z (rows x_i, z_i),
    one node per operation and named as the chapter's equations name the tensors.

    Three parallel linear maps, each a matrix product with its weight and the addition of its
    bias, give Q, K, V (@eq-qkv); the product QKᵀ scaled by 1/√d_k is the score matrix S
    (@eq-scores), optionally masked, normalised row-wise by softmax into A (@eq-softmax) and
    used to weight V into H (@eq-weighted-sum); W_o and b_o map H to Z (@eq-output). Shapes
    are symbolic. Nodes sit on a grid (neato with pinned positions), each parameter beside
    the operation it feeds, so that the figure stays within the page at full size.
    """
    graph = graphviz.Digraph("self_attention", format="svg", engine="neato")
    graph.attr(size="6.1,8", fontname=FONT, splines="true", outputorder="edgesfirst")
    graph.attr("node", fontname=FONT, fontsize="11", height="0.26", margin="0.08,0.02")
    graph.attr("edge", fontname=FONT, fontsize="9", color="#555555", arrowsize="0.6")
    step = 0.41  # inches between rows

    def place(name: str, label: str, column: float, row: float, style: dict[str, str]) -> None:
        graph.node(name, label, pos=f"{column:.2f},{-row * step:.2f}!", **style)

    place("x", _html(f"input X: {n} × {d_model}"), 3.1, -0.5, TENSOR)  # room for the fan-out
    # keys, queries and values side by side: weight and bias to the left of the operation
    branches = (("k", "K", d_k, 1.4), ("q", "Q", d_k, 3.4), ("v", "V", d_v, 5.4))
    for key, name, width, column in branches:
        place(f"W{key}", _html(f"W_{{{key}}}: {d_model} × {width}"), column - 1.0, 1, PARAMETER)
        place(f"mm{key}", "matmul", column, 1, OPERATION)
        place(f"b{key}", _html(f"b_{{{key}}}: {width}"), column - 1.0, 2, PARAMETER)
        place(f"add{key}", "add", column, 2, OPERATION)
        place(name, _html(f"{name}: {n} × {width}"), column, 3, TENSOR)
        graph.edge("x", f"mm{key}", headport="n")  # from above, clear of the weight boxes
        graph.edge(f"W{key}", f"mm{key}")
        graph.edge(f"mm{key}", f"add{key}")
        graph.edge(f"b{key}", f"add{key}")
        graph.edge(f"add{key}", name)
    # the transpose beside the product it feeds, and the weighted sum beside the weights A:
    # a row each saved, so that the figure leaves room on its page for the table that follows
    scores = 2.7
    place("kt", "transpose", 1.2, 4, OPERATION)
    place(
        "product",
        f'<matmul Q K<SUP><FONT POINT-SIZE="8">T</FONT></SUP>{SCRIPT_GAP.removesuffix("<BR/>")}>',
        scores,
        4,
        OPERATION,
    )
    place("scale", _html(f"× 1/√{d_k}"), scores, 5, OPERATION)
    place("S", _html(f"scores S: {n} × {n}"), scores, 6, TENSOR)
    place(
        "mask",
        "+ mask M (optional): −∞ where not allowed",
        scores,
        7,
        {**OPERATION, "style": "rounded,dashed,filled"},
    )
    place("softmax", "softmax (each row)", scores, 8, OPERATION)
    place("A", _html(f"attention weights A: {n} × {n}"), scores, 9, TENSOR)
    output = 5.4
    place("weighted", "matmul A V", output, 9, OPERATION)
    place("H", _html(f"H: {n} × {d_v}"), output, 10, TENSOR)
    place("Wo", _html(f"W_{{o}}: {d_v} × {d_model}"), output - 1.4, 11, PARAMETER)
    place("out", "matmul", output, 11, OPERATION)
    place("bo", _html(f"b_{{o}}: {d_model}"), output - 1.4, 12, PARAMETER)
    place("add", "add", output, 12, OPERATION)
    place("z", _html(f"representation Z: {n} × {d_model}"), output - 0.4, 13, TENSOR)
    graph.edges(
        [("K", "kt"), ("Q", "product"), ("kt", "product"), ("product", "scale"), ("scale", "S"),
         ("S", "mask"), ("mask", "softmax"), ("softmax", "A"), ("A", "weighted"),
         ("V", "weighted"), ("weighted", "H"), ("H", "out"), ("Wo", "out"), ("out", "add"),
         ("bo", "add"), ("add", "z")]
    )  # fmt: skip
    return Graph(graph)


def sentiment_transformer_graph(
    d_model: int,
    heads: int,
    encoder_layers: int,
    decoder_layers: int,
    ff_dim: int,
    max_len: int,
    vocab_size: int,
    queries: int = 1,
) -> Graph:
    """The Part IV model: the encoder over the review; the decoder's learned queries over its
    output (fine-tuning), or, dashed, the decoder writing the cut-out spans (pre-training)."""
    graph = _digraph("sentiment_transformer", rankdir="TB", size="6.1,7.5")
    graph.node("tokens", f"review tokens\n(B × T), T ≤ {max_len}, padding masked", **TENSOR)
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
        "padding masked; feed-forward; a final LayerNorm)",
        **OPERATION,
    )
    graph.node("pooled", f"answer a: mean over the queries\n(B × {d_model})", **TENSOR)
    graph.node("linear", f"Linear {d_model} → 2 (W, b)", **PARAMETER)
    graph.node("softmax", "softmax → P(negative), P(positive)", **OPERATION)
    graph.node(
        "loss", "cross-entropy with the target\n(the label mixed with the teacher’s)", **LOSS
    )
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
    pretraining = {"style": "dashed", "color": "#777777", "fontcolor": "#555555"}
    graph.node(
        "spans",
        "pre-training only: the cut-out spans,\nshifted right (causal self-attention)",
        **TENSOR | pretraining | {"style": "dashed,filled", "fillcolor": "#f6f6f6"},
    )
    graph.node(
        "reconstruction",
        "pre-training only: next-token logits\n(embeddingᵀ + bias), reconstruction loss",
        **LOSS | pretraining | {"style": "dashed,filled", "fillcolor": "#f6f6f6"},
    )
    graph.edge("spans", "decoder", **pretraining)
    graph.edge("decoder", "reconstruction", **pretraining)
    return Graph(graph)
