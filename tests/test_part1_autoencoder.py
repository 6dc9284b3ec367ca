import re
import shutil

import pytest
import torch

from a2dl.anomaly.models import DenseAutoencoder, DenseAutoencoderConfig, manufacturing_config
from a2dl.graphs import autoencoder_graph
from a2dl.modelinfo import count_parameters, dense_layer_parameters, linear_layer_table


def test_manufacturing_autoencoder_has_the_derived_parameter_count():
    model = DenseAutoencoder(manufacturing_config())
    assert count_parameters(model) == 1_058_824
    table = linear_layer_table(model)
    assert table["weights"].tolist() == [512_000, 16_384, 16_384, 512_000]
    assert table["biases"].tolist() == [512, 32, 512, 1000]


def test_dense_layer_formula_matches_torch_for_any_shape():
    for n_in, n_out in [(1, 1), (7, 3), (1000, 512)]:
        weights, biases = dense_layer_parameters(n_in, n_out)
        assert weights + biases == count_parameters(torch.nn.Linear(n_in, n_out))


def test_forward_shape_and_output_range():
    model = DenseAutoencoder(manufacturing_config())
    out = model(torch.randn(4, 1000))
    assert out.shape == (4, 1000)
    assert torch.all((out > 0) & (out < 1)), "sigmoid output must lie in (0, 1)"


def test_widths_mirror_the_encoder():
    config = DenseAutoencoderConfig(input_dim=20, hidden=(16, 8), latent_dim=4)
    assert config.widths == (20, 16, 8, 4, 8, 16, 20)
    assert len(linear_layer_table(DenseAutoencoder(config))) == 6


def test_graph_shows_every_parameter_operation_and_the_loss():
    source = autoencoder_graph().source
    for needed in ["512 × 1,000", "32 × 512", "512 × 32", "1,000 × 512", "ReLU", "sigmoid", "MSE"]:
        assert needed in source
    for layer in range(1, 5):  # every layer's weight and bias, as subscripts, into its operation
        script = f'<SUB><FONT POINT-SIZE="8">{layer}</FONT></SUB>'
        assert f"W{script}" in source and f"b{script}" in source
        # matmul, bias add and activation are separate operations, as R1.2 and Fig. 3.2 have it
        assert f"W{layer} -> matmul{layer}" in source and f"b{layer} -> add{layer}" in source
        assert f"matmul{layer} -> add{layer}" in source
    assert "add1 -> act1" in source and "act1 -> t1" in source  # ReLU after the bias
    assert "add2 -> t2" in source  # the bottleneck is linear: no activation node
    assert "add4 -> act4" in source and "t0 -> mse" in source  # sigmoid; the target is x
    assert "code z" in source and 'h<SUB><FONT POINT-SIZE="8">2' not in source  # z, as in (1.1)


def test_graph_rejects_mismatched_activations():
    import pytest

    with pytest.raises(ValueError, match="one activation"):
        autoencoder_graph((10, 5, 10), ("ReLU",))


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
@pytest.mark.parametrize("name", ["autoencoder", "self_attention", "sentiment_transformer"])
def test_every_node_of_a_report_graph_lies_inside_its_canvas(name):
    # dot rounds a scaled canvas down to whole points and cut the last node of Fig. 3.2 flat
    from a2dl import graphs

    graph = {
        "autoencoder": lambda: graphs.autoencoder_graph(
            (1000, 512, 32, 512, 1000), ("ReLU", "", "ReLU", "sigmoid")
        ),
        "self_attention": graphs.self_attention_graph,
        "sentiment_transformer": lambda: graphs.sentiment_transformer_graph(
            64, 4, 2, 2, 128, 256, 20_000, 4
        ),
    }[name]()
    svg = graph._repr_svg_()
    canvas = re.search(r'viewBox="0\.00 0\.00 ([\d.]+) ([\d.]+)"', svg)
    scale = re.search(r"scale\(([\d.]+) [\d.]+\) rotate\(0\) translate\(([\d.]+) ([\d.]+)\)", svg)
    width, height = float(canvas[1]), float(canvas[2])
    s, dx, dy = (float(v) for v in scale.groups())
    for cx, cy, rx, ry in re.findall(
        r'<ellipse[^>]*cx="([-\d.]+)" cy="([-\d.]+)" rx="([\d.]+)" ry="([\d.]+)"', svg
    ):
        assert (float(cy) + float(ry) + dy) * s <= height, "a node's bottom is cut off"
        assert (float(cx) + float(rx) + dx) * s <= width, "a node's right side is cut off"


def test_forward_equations_write_every_layer_and_width_as_the_prose_does():
    from a2dl.modelinfo import dense_stack_equations

    lines = dense_stack_equations(
        (1000, 512, 32, 512, 1000), ("ReLU", "", "ReLU", "sigmoid"), ("h_1", "z", "h_3", "y")
    )
    assert len(lines) == 4
    assert lines[0].startswith(r"h_1 &= \mathrm{ReLU}(W_1 \mathbf{x} + \mathbf{b}_1)")
    assert lines[1].startswith(r"z &= W_2 h_1 + \mathbf{b}_2,")  # the code is linear
    assert lines[3].startswith(r"y &= \sigma(W_4 h_3")
    assert r"\mathbb{R}^{\text{512} \times \text{1,000}}" in lines[0]  # 1,000, never 1000
    assert r"\mathbb{R}^{\text{1,000} \times \text{512}}" in lines[3]
