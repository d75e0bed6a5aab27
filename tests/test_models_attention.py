import pytest
import torch

from builders import random_sequences
from medna_interp.core.errors import MednaError
from medna_interp.models.attention import LayerInput, cls_attention_row, layer_index
from medna_interp.models.dnabert import eager_attention, load_dnabert
from medna_interp.models.dnabert2 import load_dnabert2
from medna_interp.data.tokenize import BpeTokenizer


@pytest.fixture
def encoders(kmer_dir, bpe_dir):
    kmer, kmer_tokenizer = load_dnabert(kmer_dir)
    bpe = load_dnabert2(bpe_dir)
    return {"kmer": (kmer.eval(), kmer_tokenizer),
            "bpe": (bpe.eval(), BpeTokenizer.from_file(bpe_dir / "tokenizer.json"))}


def full_maps(encoder, batch, mask):
    """Every layer's attention maps the slow way, (B, heads, L, L) each."""
    if hasattr(encoder.config, "_attn_implementation"):
        with eager_attention(encoder):
            return encoder(input_ids=batch.input_ids, attention_mask=mask, output_attentions=True).attentions
    return encoder(input_ids=batch.input_ids, attention_mask=mask, output_attentions=True).attentions


@pytest.mark.parametrize("view", ["kmer", "bpe"])
@pytest.mark.parametrize("masked", [True, False])
def test_cls_row_equals_the_full_attention_map_in_every_layer(encoders, view, masked):
    encoder, tokenizer = encoders[view]
    batch = tokenizer.encode(random_sequences(5, seed=8) + ["ACGT" * 10 + "A"])
    mask = batch.attention_mask if masked else None
    if view == "bpe":
        assert (batch.attention_mask == 0).any(), "need a padded batch"
    with torch.inference_mode():
        maps = full_maps(encoder, batch, mask)
        for index in range(len(maps)):
            with LayerInput(encoder, index, stop=True) as captured:
                encoder(input_ids=batch.input_ids, attention_mask=mask)
            row = cls_attention_row(encoder, index, captured.hidden, mask)
            assert row.shape == maps[index][:, :, 0, :].shape
            assert torch.allclose(row, maps[index][:, :, 0, :], atol=1e-6), (view, index)


def test_stopping_at_a_layer_skips_the_rest(encoders):
    encoder, tokenizer = encoders["kmer"]
    ran = []
    handle = encoder.encoder.layer[-1].register_forward_hook(lambda *args: ran.append(1))
    batch = tokenizer.encode(random_sequences(2))
    with torch.inference_mode():
        with LayerInput(encoder, 0, stop=True) as captured:
            encoder(input_ids=batch.input_ids, attention_mask=batch.attention_mask)
        assert captured.hidden.shape == (2, 38, encoder.config.hidden_size) and not ran
        with LayerInput(encoder, 0) as captured:
            encoder(input_ids=batch.input_ids, attention_mask=batch.attention_mask)
    handle.remove()
    assert ran == [1]
    assert not encoder.encoder.layer[0]._forward_pre_hooks


def test_layer_out_of_range_is_a_user_error(encoders):
    encoder, _ = encoders["bpe"]
    n = len(encoder.encoder.layer)
    assert layer_index(encoder, -1, "bpe") == n - 1
    with pytest.raises(MednaError, match=f"has {n} layers"):
        layer_index(encoder, n, "bpe")
