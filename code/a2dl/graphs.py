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
    """The forward pass and loss of a dense autoencoder, one operation node per layer.

    Layer l computes act(W_l h + b_l); ``activations[l - 1]`` names its activation (an empty
    string is a linear layer: the bottleneck). Tensors are named as in the chapter's
    equations: x, h_1, z (the code), h_3, x̂. The target of an autoencoder is its own input.
    """
    if len(activations) != len(widths) - 1:
        raise ValueError("one activation (or '') per layer: len(activations) == len(widths) - 1")
    layers = len(widths) - 1
    bottleneck = min(range(1, layers), key=lambda layer: widths[layer])
    graph = _digraph("autoencoder", rankdir="TB", size="6.3,8")
    graph.attr(ranksep="0.22", nodesep="0.35")
    graph.node("x", _html(f"input x\n{widths[0]:,}"), **TENSOR)
    previous, previous_name = "x", "x"
    for layer, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:], strict=True), start=1):
        activation = activations[layer - 1]
        affine = f"W_{{{layer}}} {previous_name} + b_{{{layer}}}"
        operation = f"{activation}({affine})" if activation else affine
        with graph.subgraph() as row:
            row.attr(rank="same")
            row.node(f"W{layer}", _html(f"W_{{{layer}}}\n{n_out:,} × {n_in:,}"), **PARAMETER)
            row.node(f"op{layer}", _html(operation), **OPERATION)
            row.node(f"b{layer}", _html(f"b_{{{layer}}}\n{n_out:,}"), **PARAMETER)
        graph.edge(previous, f"op{layer}", label=f" {n_in:,}")
        graph.edge(f"W{layer}", f"op{layer}")
        graph.edge(f"b{layer}", f"op{layer}")
        if layer == layers:
            name, label = "reconstruction", f"reconstruction\n{n_out:,}"
        elif layer == bottleneck:
            name, label = "z", f"code z\n{n_out:,}"
        else:
            name, label = f"h_{{{layer}}}", f"h_{{{layer}}}\n{n_out:,}"
        graph.node(f"t{layer}", _html(label), **TENSOR)
        graph.edge(f"op{layer}", f"t{layer}")
        previous, previous_name = f"t{layer}", name
    with graph.subgraph() as row:
        row.attr(rank="same")
        row.node("target", _html(f"target x\n{widths[0]:,}"), **TENSOR)
        row.node(
            "mse",
            # x̂ would need a combining accent that the PDF's SVG fonts lack: say it in words
            _html(
                "MSE of reconstruction and target\n"
                f"mean over the {widths[0]:,} sensors\nof (reconstruction − x)²"
            ),
            **OPERATION,
        )
    graph.node("loss", "loss L", **LOSS)
    graph.edge(previous, "mse")
    graph.edge("target", "mse")
    graph.edge("mse", "loss")
    return Graph(graph)


def self_attention_graph(
    n: str = "N", d_model: str = "d", d_k: str = "d_{k}", d_v: str = "d_{v}"
) -> Graph:
    """Single-head self-attention from the input X to the representation Z (rows x_i, z_i).

    Three parallel linear maps give Q, K, V; the scores QKᵀ are scaled by 1/√d_k, optionally
    masked, normalised row-wise by softmax, and used to weight V; W_o and b_o map the result
    to z. Shapes are symbolic so that the figure matches the chapter's equations.
    """
    graph = _digraph("self_attention", rankdir="TB", size="6.5,7.4")
    # x on its own top rank: its three edges then fall between the parameter boxes, not across
    with graph.subgraph() as top:
        top.attr(rank="source")
        top.node("x", _html(f"input X\n{n} × {d_model}"), **TENSOR)
    projections = (("q", "Q", d_k, "queries"), ("k", "K", d_k, "keys"), ("v", "V", d_v, "values"))
    with graph.subgraph() as weights_row:
        weights_row.attr(rank="same")
        for key, _, width, _ in projections:
            weights_row.node(f"W{key}", _html(f"W_{{{key}}}\n{d_model} × {width}"), **PARAMETER)
            weights_row.node(f"b{key}", _html(f"b_{{{key}}}\n{width}"), **PARAMETER)
    with graph.subgraph() as projected_row:
        projected_row.attr(rank="same")
        for key, name, width, role in projections:
            graph.node(f"mm{key}", "matmul + add", **OPERATION)
            graph.edge("x", f"mm{key}")
            graph.edge(f"W{key}", f"mm{key}")
            graph.edge(f"b{key}", f"mm{key}")
            projected_row.node(key.upper(), _html(f"{name} ({role})\n{n} × {width}"), **TENSOR)
            graph.edge(f"mm{key}", key.upper())
    graph.node("kt", "transpose", **OPERATION)
    graph.node(
        "scores",
        f'<{SCRIPT_GAP.removeprefix("<BR/>")}matmul Q K<SUP><FONT POINT-SIZE="8">T</FONT></SUP>'
        f"<BR/>scores S: {n} × {n}>",
        **OPERATION,
    )
    graph.node("scale", _html(f"× 1/√{d_k}"), **OPERATION)
    graph.node(
        "mask",
        "+ mask M (optional)\n−∞ where not allowed",
        **{**OPERATION, "style": "rounded,dashed,filled"},
    )
    graph.node("softmax", "softmax (each row)", **OPERATION)
    graph.node("A", _html(f"attention weights A\n{n} × {n}, rows sum to 1"), **TENSOR)
    graph.node("weighted", "matmul A V\n(weighted sum of values)", **OPERATION)
    # W_o and b_o sit beside H, one rank above the map they feed, as the input projections do
    with graph.subgraph() as output_row:
        output_row.attr(rank="same")
        output_row.node("H", _html(f"H\n{n} × {d_v}"), **TENSOR)
        output_row.node("Wo", _html(f"W_{{o}}\n{d_v} × {d_model}"), **PARAMETER)
        output_row.node("bo", _html(f"b_{{o}}\n{d_model}"), **PARAMETER)
    graph.node("out", "matmul + add\n(output map)", **OPERATION)
    graph.node("z", _html(f"representation Z\n{n} × {d_model}"), **TENSOR)
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
    graph = _digraph("sentiment_transformer", rankdir="TB", size="6.5,7.5")
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
