import numpy as np
import pandas as pd
import pytest
import torch

from builders import random_sequences
from medna_interp.cli import main
from medna_interp.interpret.cad import cls_attention, positional_profile, token_statistics
from medna_interp.models.checkpoint import from_pretrained, save_pretrained
from medna_interp.models.medna_dfm import MednaConfig
from medna_interp.models.sizes import new_model


def test_every_occurrence_of_a_repeated_token_counts():
    tokens = [["AAA", "CCC", "AAA"], ["AAA", "GGG", "CCC"], ["AAA", "CCC"], ["CCC", "AAA", "AAA"]]
    scores = [np.array([1.0, 0.5, 3.0]), np.array([2.0, 0.1, 0.2]), np.array([0.5, 0.3]), np.array([0.4, 0.6, 0.8])]
    labels = np.array([1, 1, 0, 0])
    table = token_statistics(tokens, scores, labels, min_samples=1).set_index("token")
    assert table.loc["AAA", "n_pos"] == 3 and table.loc["AAA", "n_neg"] == 3
    assert table.loc["AAA", "mean_pos"] == pytest.approx(2.0)  # 1, 3 and 2: the last-only bug would give 2.5
    per_window = token_statistics(tokens, scores, labels, min_samples=1, per_sequence_mean=True).set_index("token")
    assert per_window.loc["AAA", "n_pos"] == 2 and per_window.loc["AAA", "mean_pos"] == pytest.approx(2.0)
    strict = token_statistics(tokens, scores, labels, min_samples=2)
    assert "GGG" not in strict.token.tolist()  # one positive occurrence, no negative
    assert list(strict.cad) == sorted(strict.cad, reverse=True)


def test_positional_profile_averages_overlapping_tokens():
    spans = [np.array([[0, 3], [1, 4], [2, 5]]), np.array([[0, 3]])]
    profile = positional_profile(spans, [np.array([3.0, 6.0, 9.0]), np.array([1.0])], np.array([1, 0]), 6)
    assert profile.per_base[0].tolist() == pytest.approx([3.0, 4.5, 6.0, 7.5, 9.0, 0.0])
    assert profile.difference.tolist() == pytest.approx([2.0, 3.5, 5.0, 7.5, 9.0, 0.0])


def test_kmer_view_tokens_are_real_6mers(tiny_checkpoint):
    model = from_pretrained(tiny_checkpoint)
    attention = cls_attention(model, random_sequences(5), "kmer", batch_size=2)
    for row in attention.tokens:
        assert len(row) == 36 and all(len(t) == 6 and set(t) <= set("ACGT") for t in row)
    assert all(len(s) == 36 for s in attention.scores)
    assert all(np.all(s > 0) for s in attention.scores)


def test_batched_equals_one_at_a_time(tiny_checkpoint):
    model = from_pretrained(tiny_checkpoint)
    seqs = random_sequences(6, seed=4)
    for view in ("kmer", "bpe"):
        batched = cls_attention(model, seqs, view, batch_size=6)
        single = cls_attention(model, seqs, view, batch_size=1)
        for a, b in zip(batched.scores, single.scores):
            assert np.allclose(a, b, atol=1e-5)


def test_cad_cli_writes_run_dir(tmp_path, capsys):
    from conftest import DEMO_CHECKPOINT
    from medna_interp.data.synth import write_synthetic

    data = write_synthetic(tmp_path / "data", n_train=0, n_test=200, seed=3)
    run = tmp_path / "run"
    code = main(["cad", str(DEMO_CHECKPOINT), str(data / "test.tsv"), "-o", str(run), "--device", "cpu",
                 "--heads", "0,1"])
    assert code == 0, capsys.readouterr().err
    for name in ("selection.tsv", "cad_kmer.tsv", "cad_bpe.tsv", "cad_positional_kmer.tsv",
                 "cad_positional.npz", "provenance.json"):
        assert (run / name).exists(), name
    table = pd.read_csv(run / "cad_kmer.tsv", sep="\t")
    assert list(table.columns[:4]) == ["token", "cad", "p_value", "q_value"]
    assert not table[["cad", "p_value", "q_value"]].isna().any().any()
    profile = np.load(run / "cad_positional.npz")
    assert profile["kmer_per_base"].shape[1] == 41


def test_cad_bad_inputs_exit_2_and_write_nothing(tiny_checkpoint, tmp_path, capsys):
    unlabelled = tmp_path / "u.txt"
    unlabelled.write_text("\n".join(random_sequences(4)) + "\n")
    run = tmp_path / "run"
    assert main(["cad", str(tiny_checkpoint), str(unlabelled), "-o", str(run)]) == 2
    assert "no labels" in capsys.readouterr().err and not run.exists()

    labelled = tmp_path / "l.tsv"
    labelled.write_text("index\tlabel\ttext\n" + "".join(f"{i}\t{i % 2}\t{s}\n" for i, s in
                                                          enumerate(random_sequences(10))))
    assert main(["cad", str(tiny_checkpoint), str(labelled), "-o", str(run), "--confidence", "0.9999",
                 "--min-selected", "0"]) == 2  # strict selection; relaxing is tested in test_pretrain.py
    assert "confidence > 0.9999" in capsys.readouterr().err and not run.exists()

    torch.manual_seed(0)
    kmer_only = save_pretrained(new_model("tiny", None, config=MednaConfig(fusion="kmer_only")), tmp_path / "ko")
    assert main(["cad", str(kmer_only), str(labelled), "-o", str(run), "--view", "bpe"]) == 2
    assert "no BPE view" in capsys.readouterr().err and not run.exists()


def test_attention_from_standalone_encoders(tiny_checkpoint, kmer_dir, bpe_dir):
    from medna_interp.interpret.cad import cad
    from medna_interp.models.dnabert import load_dnabert
    from medna_interp.models.dnabert2 import load_dnabert2
    from medna_interp.data.tokenize import BpeTokenizer

    model = from_pretrained(tiny_checkpoint)
    seqs = random_sequences(10, seed=6)
    labels = np.array([1, 0] * 5)
    own = cad(model, seqs, labels, min_samples=1)
    kmer_encoder, kmer_tokenizer = load_dnabert(kmer_dir)
    standalone = {"kmer": (kmer_encoder, kmer_tokenizer),
                  "bpe": (load_dnabert2(bpe_dir), BpeTokenizer.from_file(bpe_dir / "tokenizer.json"))}
    theirs = cad(model, seqs, labels, min_samples=1, standalone=standalone)
    assert theirs.options["encoders"] == "standalone"
    # tiny_checkpoint's encoders were built from these very directories, untrained since,
    # so both routes must give the same tables
    for view in ("kmer", "bpe"):
        a, b = own.tokens[view].set_index("token").sort_index(), theirs.tokens[view].set_index("token").sort_index()
        assert a.index.equals(b.index) and np.allclose(a.cad, b.cad, atol=1e-4)


def test_scan_predicts_and_reads_attention_in_one_pass(tiny_checkpoint):
    from medna_interp.interpret.cad import scan
    from medna_interp.models.predict import predict_proba

    model = from_pretrained(tiny_checkpoint)
    seqs = random_sequences(9, seed=12)
    probabilities, attention = scan(model, seqs, heads=[0, 2], batch_size=4)
    assert np.allclose(probabilities, predict_proba(model, seqs, batch_size=4), atol=1e-6)
    for view in ("kmer", "bpe"):
        alone = cls_attention(model, seqs, view, heads=[0, 2], batch_size=4)
        assert attention[view].tokens == alone.tokens
        for a, b in zip(attention[view].scores, alone.scores):
            assert np.allclose(a, b, atol=1e-6)
        picked = attention[view].subset([7, 1])
        assert picked.tokens == [alone.tokens[7], alone.tokens[1]]


def test_unmasked_pooling_reads_attention_as_the_model_runs(bpe_dir):
    """Authors' checkpoints run DNABERT-2 without a mask: CAD must read that attention."""
    from medna_interp.interpret.cad import scan
    from medna_interp.data.tokenize import BpeTokenizer

    torch.manual_seed(2)
    model = new_model("tiny", BpeTokenizer.from_file(bpe_dir / "tokenizer.json"),
                      config=MednaConfig(bpe_pooling="unmasked_mean")).eval()
    seqs = random_sequences(6, seed=13)
    _, attention = scan(model, seqs, views=("bpe",), batch_size=6)
    batch = model.bpe_tokenizer.encode(seqs)
    assert (batch.attention_mask == 0).any(), "need a padded batch"
    with torch.inference_mode():
        maps = model.encode_bpe(batch.input_ids, batch.attention_mask, output_attentions=True)[1]
    expected = maps[-1][:, :, 0, :].mean(1).numpy()
    for row, scores in enumerate(attention["bpe"].scores):
        assert np.allclose(scores, expected[row][batch.sequence_tokens(row)[2]], atol=1e-6)


@pytest.mark.parametrize("option, message", [(["--layer", "99"], "layer 99 is out of range: the kmer encoder has"),
                                             (["--heads", "7"], "head indices [7] are out of range: the kmer encoder has"),
                                             (["--heads=-20"], "--heads: head indices are 0-based"),
                                             (["--heads", "0,x"], "--heads: must be 'all' or comma-separated")])
def test_layer_and_heads_out_of_range_exit_2_and_write_nothing(tiny_checkpoint, labelled_tsv, tmp_path, capsys,
                                                               option, message):
    run = tmp_path / "run"
    assert main(["cad", str(tiny_checkpoint), str(labelled_tsv), "-o", str(run), "--confidence", "0"] + option) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and not run.exists()
