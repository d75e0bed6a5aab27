import pytest
import torch

from builders import random_sequences
from medna_interp.models.checkpoint import from_encoders, from_pretrained, import_fusion, save_pretrained
from medna_interp.models.medna_dfm import MednaConfig
from medna_interp.models.sizes import new_model
from medna_interp.data.tokenize import train_bpe_tokenizer


def _logits(model, sequences):
    with torch.no_grad():
        return model.run(model.tokenize(sequences)).logits


def test_round_trip_through_encoder_dirs_and_checkpoint(kmer_dir, bpe_dir, tmp_path, sequences):
    torch.manual_seed(0)
    model = from_encoders(kmer_dir, bpe_dir, MednaConfig(expert_ff=32)).eval()
    before = _logits(model, sequences)
    save_pretrained(model, tmp_path / "ckpt")
    reloaded = from_pretrained(tmp_path / "ckpt")
    assert torch.equal(before, _logits(reloaded, sequences))


def test_forward_returns_every_intermediate(tiny_checkpoint, sequences, device):
    model = from_pretrained(tiny_checkpoint, device)
    out = model.run(model.tokenize(sequences), output_attentions=True)
    n, d = len(sequences), model.width
    for name in ("h_kmer", "h_bpe", "gamma", "beta", "h_mod", "h_moe"):
        assert getattr(out, name).shape == (n, d), name
    assert out.gate.shape == (n, 4) and torch.allclose(out.gate.sum(1), torch.ones(n, device=device))
    assert out.logits.shape == (n, 2)
    assert out.logits.device.type == device.type
    assert torch.allclose(out.h_mod, out.gamma * out.h_kmer + out.beta)
    assert out.kmer_attentions[-1].shape == (n, 4, 38, 38)
    assert out.bpe_attentions[-1].shape[:2] == (n, 4)


def test_sdpa_is_restored_after_attention_request(tiny_checkpoint, sequences):
    model = from_pretrained(tiny_checkpoint)
    before = model.kmer_encoder.config._attn_implementation
    model.run(model.tokenize(sequences[:2]), output_attentions=True)
    assert model.kmer_encoder.config._attn_implementation == before


@pytest.mark.parametrize("fusion", ["film", "concat", "kmer_only", "reverse_film"])
@pytest.mark.parametrize("experts", [0, 1, 2, 4, 8])
def test_ablation_variants(fusion, experts):
    tokenizer = train_bpe_tokenizer(random_sequences(100), 64)
    model = new_model("tiny", tokenizer, config=MednaConfig(fusion=fusion, n_experts=experts, expert_ff=32)).eval()
    out = model.run(model.tokenize(random_sequences(3)))
    assert out.logits.shape == (3, 2)
    assert (out.gate is None) == (experts == 0)
    assert (out.gamma is None) == (fusion not in ("film", "reverse_film"))
    assert (out.h_bpe is None) == (fusion == "kmer_only")


def test_masked_pooling_is_padding_invariant_unmasked_is_not(tiny_checkpoint):
    model = from_pretrained(tiny_checkpoint)
    seqs = random_sequences(16, seed=9)
    lengths = model.bpe_tokenizer.encode(seqs).attention_mask.sum(1)
    shortest = int(lengths.argmin())
    assert lengths[shortest] < lengths.max(), "need a sequence that gets padded"
    alone = _logits(model, [seqs[shortest]])
    padded = _logits(model, seqs)[shortest : shortest + 1]
    assert torch.allclose(alone, padded, atol=1e-5)

    model.config.bpe_pooling = "unmasked_mean"
    alone = _logits(model, [seqs[shortest]])
    padded = _logits(model, seqs)[shortest : shortest + 1]
    assert not torch.allclose(alone, padded, atol=1e-4)


def test_paper_size_forward_on_two_sequences():
    tokenizer = train_bpe_tokenizer(random_sequences(50), 64)
    model = new_model("base", tokenizer).eval()
    assert model.width == 768
    assert model.kmer_encoder.config.num_hidden_layers == 12 and model.bpe_encoder.config.num_hidden_layers == 12
    assert model.kmer_encoder.config.vocab_size == 4101
    # the paper's DNABERT-2 vocabulary is 4096; enlarge ours to that size for the shape check
    model.bpe_encoder.embeddings.word_embeddings = torch.nn.Embedding(4096, 768)
    out = model.run(model.tokenize(random_sequences(2)))
    assert out.logits.shape == (2, 2) and torch.isfinite(out.logits).all()


def _authors_state_dict(model) -> dict:
    """The documented Fusion key layout, written from the names in reference-notes.md."""
    layout = {"kmer_encoder.": "bertone.bert.", "bpe_encoder.": "berttwo.bert.", "film.": "film_mer."}
    state = {}
    for key, value in model.state_dict().items():
        for ours, theirs in layout.items():
            if key.startswith(ours):
                key = theirs + key[len(ours):]
                break
        state[key] = value.clone()
    # transformers 4.18 (the authors' version) saved position_ids as a buffer
    state["bertone.bert.embeddings.position_ids"] = torch.arange(64)[None]
    return state


def test_authors_fusion_state_dict_imports_and_predicts_identically(kmer_dir, bpe_dir, tmp_path, sequences):
    torch.manual_seed(5)
    native = from_encoders(kmer_dir, bpe_dir, MednaConfig(expert_ff=32, bpe_pooling="unmasked_mean")).eval()
    with torch.no_grad():  # weights that differ from the encoder directories
        for parameter in native.parameters():
            parameter.add_(0.05 * torch.randn_like(parameter))
    state = _authors_state_dict(native)
    fusion_only = {k.split(".")[0] for k in state}
    assert fusion_only == {"bertone", "berttwo", "film_mer", "gating", "experts", "output_layer", "classification"}
    assert "film_mer.mlp.0.weight" in state and "classification.3.weight" in state
    assert "experts.3.transformer_encoder.layers.0.self_attn.in_proj_weight" in state
    torch.save(state, tmp_path / "fusion.pt")

    out = import_fusion(tmp_path / "fusion.pt", kmer_dir, bpe_dir, tmp_path / "imported")
    imported = from_pretrained(out)
    assert imported.config.bpe_pooling == "unmasked_mean"
    assert torch.allclose(_logits(native, sequences), _logits(imported, sequences), atol=1e-6)
