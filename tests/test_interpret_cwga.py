import numpy as np
import pytest
import torch

from builders import random_sequences
from medna_interp.cli import main
from medna_interp.interpret.cwga import _Target, _baseline_vectors, attribute_view, cwga, rank_dimensions
from medna_interp.models.checkpoint import from_pretrained


@pytest.fixture(scope="module")
def model(tiny_checkpoint, device):
    torch.manual_seed(0)
    return from_pretrained(tiny_checkpoint, device)


def test_fused_equals_per_dimension(model):
    seqs = random_sequences(8, seed=12)
    labels = np.array([1, 0] * 4)
    fused = cwga(model, seqs, labels, top_dims=6, steps=8, internal_batch_size=64, min_count=1)
    per_dim = cwga(model, seqs, labels, top_dims=6, steps=8, internal_batch_size=64, per_dim=True, min_count=1)
    for view in ("kmer", "bpe"):
        a = fused.tokens[view].set_index("token").sort_index()
        b = per_dim.tokens[view].set_index("token").sort_index()
        assert len(a) > 20 and a.index.equals(b.index)
        assert np.abs(a.scaled_contribution - b.scaled_contribution).max() <= 1e-4
        assert np.allclose(fused.attributions[view].per_base, per_dim.attributions[view].per_base, atol=1e-5)


@pytest.mark.parametrize("view", ["kmer", "bpe"])
def test_completeness_within_delta_and_delta_shrinks(model, view):
    seqs = random_sequences(4, seed=13)
    ranking = rank_dimensions(np.random.default_rng(0).normal(size=(4, model.width)),
                              np.zeros((4, model.width)), np.array([1, 1, 0, 0]), top_dims=5)
    coarse = attribute_view(model, seqs, view, ranking.dims, ranking.weights, steps=2)
    fine = attribute_view(model, seqs, view, ranking.dims, ranking.weights, steps=64)

    inputs = model.tokenize(seqs).to(model.device)
    batch = inputs.kmer if view == "kmer" else inputs.bpe
    target = _Target(model, view, torch.as_tensor(ranking.dims, device=model.device),
                     torch.as_tensor(ranking.weights, dtype=torch.float32, device=model.device))
    with torch.no_grad():
        if view == "kmer":
            other = model.encode_bpe(inputs.bpe.input_ids, inputs.bpe.attention_mask)[0]
            embeds = model.kmer_encoder.get_input_embeddings()(batch.input_ids)
        else:
            other = model.encode_kmer(inputs.kmer.input_ids, inputs.kmer.attention_mask)[0]
            embeds = model.bpe_encoder.get_input_embeddings()(batch.input_ids)
        reference = _baseline_vectors(model, view, batch, embeds, "zero" if view == "kmer" else "pad")
        gap = (target(embeds, batch.attention_mask, other) - target(reference, batch.attention_mask, other)).cpu().numpy()
    for result in (coarse, fine):
        assert np.all(np.abs(result.total - gap) <= np.abs(result.delta) + 1e-5)
    assert np.abs(fine.delta).mean() < np.abs(coarse.delta).mean()
    assert np.abs(fine.delta).max() < 0.05 * np.abs(gap).max()
    # per-base arrays conserve the attribution of the sequence tokens
    assert np.allclose(fine.per_base.sum(1), [s.sum() for s in fine.scores], atol=1e-5)


def test_rank_dimensions_picks_the_largest_effects():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(40, 10))
    labels = np.array([1, 0] * 20)
    values[labels == 1, 3] += 3.0
    values[labels == 1, 7] -= 2.0
    ranking = rank_dimensions(values, values, labels, top_dims=2)
    assert set(ranking.dims) == {3, 7}
    assert ranking.weights[list(ranking.dims).index(7)] < 0
    impact = rank_dimensions(values, values, labels, top_dims=2, score="impact")
    assert np.all(impact.table.d == 0)  # h_mod - h_kmer is zero here


def test_cwga_bad_inputs(tiny_checkpoint, labelled_tsv, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["cwga", str(tiny_checkpoint), str(labelled_tsv), "-o", str(run), "--top-dims", "1000"]) == 2
    assert "larger than the model width" in capsys.readouterr().err and not run.exists()
    assert main(["cwga", str(tiny_checkpoint), str(labelled_tsv), "-o", str(run), "--confidence", "0",
                 "--top-dims", "4", "--min-selected", "0"]) == 2
    err = capsys.readouterr().err
    assert "need 2" in err and not run.exists()


def test_rare_tokens_leave_the_token_table():
    from medna_interp.interpret.cwga import ViewAttribution, aggregate_tokens

    tokens = [["AAA", "CCC"], ["AAA", "GGG"], ["AAA", "CCC"], ["CCC"]]
    scores = [np.array([1.0, 2.0]), np.array([3.0, 9.0]), np.array([0.5, 1.0]), np.array([0.2])]
    attribution = ViewAttribution(tokens, [], scores, np.zeros((4, 3)), np.zeros(4), np.zeros(4))
    table = aggregate_tokens(attribution, np.array([1, 1, 0, 0]), min_count=2).set_index("token")
    assert "GGG" not in table.index  # a single occurrence
    assert table.loc["AAA", "summed_contribution"] == pytest.approx(2.0 - 0.5)
    assert table.scaled_contribution.abs().max() == pytest.approx(1.0)
