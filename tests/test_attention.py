"""The from-scratch attention agrees with PyTorch's, has correct gradients, and masks."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from a2dl.attention import MultiHeadAttention, causal_mask, scaled_dot_product_attention

E, B, L, S = 16, 3, 5, 7


def _pair(heads: int, bias: bool = True) -> tuple[MultiHeadAttention, nn.MultiheadAttention]:
    reference = nn.MultiheadAttention(E, heads, bias=bias, batch_first=True).eval()
    if bias:  # PyTorch initialises biases to zero; make them matter
        with torch.no_grad():
            reference.in_proj_bias.normal_()
            reference.out_proj.bias.normal_()
    ours = MultiHeadAttention(E, heads, bias=bias).eval().load_from_torch(reference)
    return ours, reference


def _padding(batch: int, source: int) -> torch.Tensor:
    mask = torch.zeros(batch, source, dtype=torch.bool)
    mask[0, -2:] = True  # first sequence: last two keys are padding
    mask[1, -1] = True
    return mask


@pytest.mark.parametrize("heads", [1, 4])
@pytest.mark.parametrize("mask_kind", ["none", "padding", "causal", "both", "float"])
@pytest.mark.parametrize("cross", [False, True])
def test_matches_torch_multihead_attention(heads, mask_kind, cross):
    ours, reference = _pair(heads)
    x = torch.randn(B, L, E)
    memory = torch.randn(B, S, E) if cross else x
    source = memory.size(1)
    padding = _padding(B, source) if mask_kind in ("padding", "both") else None
    attn_mask = causal_mask(L, source) if mask_kind in ("causal", "both") else None
    if mask_kind == "float":
        attn_mask = torch.randn(L, source)
    expected, expected_weights = reference(
        x, memory, memory, key_padding_mask=padding, attn_mask=attn_mask, need_weights=True
    )
    actual, weights = ours(x, memory, memory, key_padding_mask=padding, attn_mask=attn_mask)
    torch.testing.assert_close(actual, expected, atol=1e-5, rtol=0)
    torch.testing.assert_close(weights, expected_weights, atol=1e-5, rtol=0)


def test_is_causal_equals_an_explicit_causal_mask():
    ours, _ = _pair(2)
    x = torch.randn(B, L, E)
    torch.testing.assert_close(ours(x, is_causal=True)[0], ours(x, attn_mask=causal_mask(L))[0])


def test_per_head_weights_match_torch_without_bias():
    ours, reference = _pair(4, bias=False)
    x = torch.randn(B, L, E)
    _, expected = reference(x, x, x, need_weights=True, average_attn_weights=False)
    _, actual = ours(x, average_attn_weights=False)
    assert actual.shape == (B, 4, L, L)
    torch.testing.assert_close(actual, expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize("use_mask", [False, True])
def test_core_matches_torch_scaled_dot_product_attention(use_mask):
    q, k, v = torch.randn(2, 3, L, 8), torch.randn(2, 3, S, 8), torch.randn(2, 3, S, 6)
    mask = causal_mask(L, S) if use_mask else None
    expected = nn.functional.scaled_dot_product_attention(
        q, k, v, attn_mask=None if mask is None else ~mask
    )  # PyTorch's functional form uses True = "may attend"
    actual, weights = scaled_dot_product_attention(q, k, v, mask=mask)
    torch.testing.assert_close(actual, expected, atol=1e-5, rtol=0)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 3, L))


def test_gradients_are_correct_in_float64():
    module = MultiHeadAttention(6, 2).double()
    x = torch.randn(2, 4, 6, dtype=torch.double, requires_grad=True)
    padding = torch.tensor([[False, False, False, True], [False, False, False, False]])
    assert torch.autograd.gradcheck(lambda t: module(t, key_padding_mask=padding)[0], (x,))


def test_masked_keys_get_zero_weight_and_their_content_is_ignored():
    ours, _ = _pair(2)
    x = torch.randn(B, S, E)
    padding = _padding(B, S)
    out, weights = ours(x[:, :L], x, x, key_padding_mask=padding)
    assert torch.all(weights[0, :, -2:] == 0) and torch.all(weights[1, :, -1] == 0)
    changed = x.clone()
    changed[0, -2:] = 1e3 * torch.randn(2, E)
    changed[1, -1] = -7.0
    out_changed, _ = ours(x[:, :L], changed, changed, key_padding_mask=padding)
    torch.testing.assert_close(out_changed, out)


def test_heads_must_divide_the_width():
    with pytest.raises(ValueError, match="not divisible"):
        MultiHeadAttention(10, 3)


def test_comparison_table_has_one_row_per_mask_and_the_head_counts_side_by_side():
    import pandas as pd

    from a2dl.attention_check import by_mask

    long = pd.DataFrame(
        {
            "heads": [1, 1, 8, 8],
            "mask": ["none", "causal", "none", "causal"],
            "output": [0.0, 1.0, 2.0, 3.0],
            "weights": [4.0, 5.0, 6.0, 7.0],
        }
    )
    wide = by_mask(long)
    assert list(wide["mask"]) == ["none", "causal"]  # the order measured, not alphabetical
    assert list(wide.columns[1:]) == [
        "1 head: output", "1 head: weights", "8 heads: output", "8 heads: weights",
    ]  # fmt: skip
    assert wide.iloc[1, 1:].tolist() == [1.0, 5.0, 3.0, 7.0]
