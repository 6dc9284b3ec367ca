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
        assert f"W{layer} -> op{layer}" in source and f"b{layer} -> op{layer}" in source
    assert "code z" in source and 'h<SUB><FONT POINT-SIZE="8">2' not in source  # z, as in (1.1)


def test_graph_rejects_mismatched_activations():
    import pytest

    with pytest.raises(ValueError, match="one activation"):
        autoencoder_graph((10, 5, 10), ("ReLU",))
