import math

import pytest
import torch

from builders import random_sequences
from medna_interp.core.errors import MednaError
from medna_interp.models.dnabert2 import (DnaBert2Config, DnaBert2Model, alibi_bias, alibi_slopes,
                                          load_dnabert2)
from medna_interp.data.tokenize import BpeTokenizer


def test_alibi_slopes_for_a_power_of_two():
    # n = 8: start = 2^(-2^-(log2(8) - 3)) = 2^-1, slope_i = start^(i + 1)
    assert torch.allclose(alibi_slopes(8), torch.tensor([2.0 ** -(i + 1) for i in range(8)]))
    start = 2.0 ** (-(2.0 ** -(math.log2(16) - 3)))
    assert torch.allclose(alibi_slopes(16), torch.tensor([start ** (i + 1) for i in range(16)]))


def test_alibi_slopes_for_12_heads():
    expected = [2.0 ** -i for i in range(1, 9)] + [2.0 ** -0.5, 2.0 ** -1.5, 2.0 ** -2.5, 2.0 ** -3.5]
    assert torch.allclose(alibi_slopes(12), torch.tensor(expected))


def test_alibi_bias_is_symmetric_distance_penalty():
    bias = alibi_bias(4, 5)
    assert bias.shape == (4, 5, 5)
    assert torch.equal(bias, bias.transpose(1, 2))
    assert bias[1, 0, 3] == pytest.approx(-alibi_slopes(4)[1].item() * 3)


@pytest.fixture
def encoder(bpe_dir):
    return load_dnabert2(bpe_dir).eval(), BpeTokenizer.from_file(bpe_dir / "tokenizer.json")


def test_attention_rows_sum_to_one_and_masked_keys_get_zero(encoder):
    model, tokenizer = encoder
    batch = tokenizer.encode(random_sequences(6, seed=11))
    assert (batch.attention_mask == 0).any(), "need a padded batch"
    out = model(batch.input_ids, batch.attention_mask, output_attentions=True)
    assert len(out.attentions) == model.config.num_hidden_layers
    for probs in out.attentions:
        assert torch.allclose(probs.sum(-1), torch.ones_like(probs.sum(-1)), atol=1e-5)
        masked = (batch.attention_mask == 0)[:, None, None, :].expand_as(probs)
        assert probs[masked].abs().max() < 1e-6


def test_attention_equals_direct_softmax_with_alibi(encoder):
    model, tokenizer = encoder
    batch = tokenizer.encode(random_sequences(3, seed=2))
    captured = {}
    last = model.encoder.layer[-1]
    handle = last.register_forward_pre_hook(lambda module, args: captured.update(hidden=args[0]))
    out = model(batch.input_ids, batch.attention_mask, output_attentions=True)
    handle.remove()
    hidden = captured["hidden"]
    heads, head_dim = model.config.num_attention_heads, model.config.head_dim
    qkv = last.attention.self.Wqkv(hidden)
    q, k, _ = qkv.split(model.config.hidden_size, dim=-1)
    q = q.view(*q.shape[:2], heads, head_dim).transpose(1, 2)
    k = k.view(*k.shape[:2], heads, head_dim).transpose(1, 2)
    length = hidden.shape[1]
    position = torch.arange(length)
    slopes = torch.tensor([2.0 ** -(2 * (i + 1)) for i in range(heads)])  # 4 heads: start 2^-2
    alibi = -slopes[:, None, None] * (position[None, :] - position[:, None]).abs()
    mask = (1 - batch.attention_mask[:, None, None, :].float()) * -10000.0
    direct = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(head_dim) + alibi + mask, dim=-1)
    assert torch.allclose(out.attentions[-1], direct, atol=1e-6)


def test_fast_path_equals_attention_path(encoder):
    model, tokenizer = encoder
    batch = tokenizer.encode(random_sequences(5, seed=4))
    fast = model(batch.input_ids, batch.attention_mask).last_hidden_state
    slow = model(batch.input_ids, batch.attention_mask, output_attentions=True).last_hidden_state
    real = batch.attention_mask.bool()
    assert torch.allclose(fast[real], slow[real], atol=1e-5)


def test_loads_public_layout_strictly_with_mlm_head_and_bin(tmp_path):
    config = DnaBert2Config(vocab_size=20, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                            intermediate_size=32)
    model = DnaBert2Model(config, add_pooler=False)
    state = {f"bert.{k}": v for k, v in model.state_dict().items()}
    state["cls.predictions.decoder.weight"] = torch.zeros(20, 16)
    import json

    (tmp_path / "config.json").write_text(json.dumps(config.to_dict()))
    torch.save(state, tmp_path / "pytorch_model.bin")
    loaded = load_dnabert2(tmp_path)
    assert loaded.pooler is None
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value)

    state["bert.encoder.layer.0.mlp.wo.weight"] = torch.zeros(3, 3)
    torch.save(state, tmp_path / "pytorch_model.bin")
    with pytest.raises(MednaError, match="shape mismatch"):
        load_dnabert2(tmp_path)


def test_public_parameter_names(bpe_dir):
    names = set(load_dnabert2(bpe_dir).state_dict())
    for name in ("embeddings.word_embeddings.weight", "embeddings.token_type_embeddings.weight",
                 "embeddings.LayerNorm.weight", "encoder.layer.0.attention.self.Wqkv.weight",
                 "encoder.layer.0.attention.output.dense.bias", "encoder.layer.0.attention.output.LayerNorm.bias",
                 "encoder.layer.0.mlp.gated_layers.weight", "encoder.layer.0.mlp.wo.weight",
                 "encoder.layer.0.mlp.layernorm.weight"):
        assert name in names
    assert "encoder.layer.0.mlp.gated_layers.bias" not in names
