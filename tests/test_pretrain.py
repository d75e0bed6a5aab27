"""Masked-LM pretraining, pooled training from a checkpoint, encoder export, and a run on a weak model."""

import json

import numpy as np
import pytest
import torch

from builders import random_sequences
from conftest import DEMO_CHECKPOINT
from medna_interp.cli import main
from medna_interp.models.checkpoint import from_encoders, from_pretrained, read_checkpoint_config
from medna_interp.models.dnabert import load_dnabert
from medna_interp.models.dnabert2 import load_dnabert2, load_dnabert2_mlm, read_weights
from medna_interp.training.pretrain import (PretrainConfig, mask_bpe_tokens, mask_kmer_spans, pretrain,
                                            pretraining_windows)
from medna_interp.data.synth import write_synthetic
from medna_interp.data.tokenize import KmerTokenizer, kmer_vocabulary, train_bpe_tokenizer

QUICK = PretrainConfig(epochs=2, batch_size=32, seed=3)


def _windows_file(path, sequences, labelled=True):
    rows = ["index\tlabel\ttext"] + [f"{i}\t{i % 2}\t{s}" for i, s in enumerate(sequences)] if labelled \
        else list(sequences)
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    return write_synthetic(tmp_path_factory.mktemp("synth") / "data", n_train=300, n_test=100, seed=4)


@pytest.fixture(scope="module")
def pretrained(synthetic, tmp_path_factory):
    out = tmp_path_factory.mktemp("pretrained") / "encoders"
    return pretrain([synthetic / "train.tsv"], out, config=QUICK, exclude=[synthetic / "test.tsv"], device="cpu",
                    progress=False)


def test_kmer_masking_hides_contiguous_spans_of_k_tokens_and_never_specials():
    tokenizer = KmerTokenizer(kmer_vocabulary(6), 6)
    batch = tokenizer.encode(random_sequences(200, seed=1))
    ids, labels = mask_kmer_spans(batch, 0.15, 6, np.random.default_rng(0), tokenizer)
    masked = (labels != -100).numpy()
    assert not masked[~batch.is_sequence_token].any()
    assert torch.equal(labels[labels != -100], batch.input_ids[labels != -100])
    fraction = masked.sum() / batch.is_sequence_token.sum()
    assert 0.10 < fraction < 0.20  # about the rate asked for
    # runs of masked tokens: at least k long except where a span meets the end of the window
    for row, tokens in zip(masked, batch.is_sequence_token):
        edges = np.flatnonzero(np.diff(np.r_[0, row.astype(int), 0]))
        for start, stop in zip(edges[::2], edges[1::2]):
            assert stop - start >= 6 or stop == np.flatnonzero(tokens)[-1] + 1
    corrupted = ids[labels != -100]
    assert 0.7 < (corrupted == tokenizer.mask_id).float().mean() < 0.9  # 80 % become [MASK]


def test_bpe_masking_rate_and_every_window_has_a_target():
    sequences = random_sequences(300, seed=2)
    tokenizer = train_bpe_tokenizer(sequences, 64)
    batch = tokenizer.encode(sequences)
    _, labels = mask_bpe_tokens(batch, 0.15, np.random.default_rng(0), tokenizer)
    masked = (labels != -100).numpy()
    assert not masked[~batch.is_sequence_token].any() and masked.any(axis=1).all()
    assert 0.12 < masked.sum() / batch.is_sequence_token.sum() < 0.22


def test_pretrained_encoders_load_through_the_published_code_path(pretrained, synthetic, tmp_path, capsys):
    assert len(pretrained.history) == 2 and pretrained.resumed_from == 0
    first, last = pretrained.history
    assert last["kmer_train_loss"] < first["kmer_train_loss"] and last["bpe_train_loss"] < first["bpe_train_loss"]
    assert last["windows_per_second"] > 0 and 0 <= last["kmer_valid_accuracy"] <= 1
    # the files are DNABERT's and DNABERT-2's, masked-LM heads included
    assert json.loads((pretrained.kmer_encoder / "config.json").read_text())["architectures"] == ["BertForMaskedLM"]
    assert any(k.startswith("cls.predictions.") for k in read_weights(pretrained.bpe_encoder))
    assert any(k.startswith("bert.encoder.") for k in read_weights(pretrained.bpe_encoder))
    kmer, _ = load_dnabert(pretrained.kmer_encoder)
    bpe = load_dnabert2(pretrained.bpe_encoder)
    model = from_encoders(pretrained.kmer_encoder, pretrained.bpe_encoder)
    for ours, loaded in ((model.kmer_encoder, kmer), (model.bpe_encoder, bpe)):
        for name, value in loaded.state_dict().items():
            if not name.startswith("pooler."):  # DNABERT's pooler is new in every classifier
                assert torch.equal(ours.state_dict()[name], value), name
    # the masked-LM head round-trips too, for continued pretraining
    mlm = load_dnabert2_mlm(pretrained.bpe_encoder)
    assert mlm.cls.predictions.decoder.weight.data_ptr() == mlm.bert.get_input_embeddings().weight.data_ptr()
    record = json.loads((pretrained.directory / "provenance.json").read_text())
    assert record["finished"] and record["kind"] == "pretrained encoders"
    assert not (pretrained.directory / "resume.pt").exists()
    # train takes them as it takes the published encoders
    out = tmp_path / "ckpt"
    code = main(["train", str(synthetic / "train.tsv"), "-o", str(out), "--kmer-encoder", str(pretrained.kmer_encoder),
                 "--bpe-encoder", str(pretrained.bpe_encoder), "--epochs", "1", "--device", "cpu", "--quiet"])
    assert code == 0, capsys.readouterr().err
    assert read_checkpoint_config(out)["provenance"]["config"]["kmer_encoder"] == str(pretrained.kmer_encoder)


def test_pretraining_never_reads_a_held_out_split(synthetic, tmp_path, capsys):
    test_windows = [line.split("\t")[2] for line in (synthetic / "test.tsv").read_text().splitlines()[1:]]
    others = random_sequences(30, seed=9)
    complement = str.maketrans("ACGT", "TGCA")
    mixed = _windows_file(tmp_path / "mixed.txt", others + test_windows[:10] +
                          [s[::-1].translate(complement) for s in test_windows[10:15]], labelled=False)
    windows, sources = pretraining_windows([mixed, mixed], window=41, k=6, exclude=[synthetic / "test.tsv"])
    assert sorted(windows) == sorted(others)  # the file named twice is read once, held-out windows never
    assert sources == [{"path": str(mixed), "windows": 30, "skipped_ambiguous": 0, "removed_held_out": 15}]
    # the test split given on the command line twice, as data and as held out: refused before any work
    out = tmp_path / "enc"
    code = main(["pretrain", str(synthetic / "train.tsv"), str(synthetic / "test.tsv"), "-o", str(out),
                 "--exclude", str(synthetic / "test.tsv"), "--epochs", "1", "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 2 and "given both as pretraining data and as held out" in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_genome_records_are_cut_into_windows_and_ambiguous_pieces_skipped(tmp_path):
    genome = tmp_path / "chr.fa"
    sequence = "ACGT" * 30 + "N" * 41 + "TTGCA" * 20
    genome.write_text(">chr1 test\n" + "\n".join(sequence[i : i + 60] for i in range(0, len(sequence), 60)) + "\n")
    windows, sources = pretraining_windows([genome], window=41, k=6)
    assert all(len(w) == 41 and set(w) <= set("ACGT") for w in windows)
    assert len(windows) + sources[0]["skipped_ambiguous"] == len(sequence) // 41
    assert sources[0]["skipped_ambiguous"] >= 1


def test_an_interrupted_pretraining_resumes_and_ends_as_an_uninterrupted_one(synthetic, tmp_path, monkeypatch):
    import medna_interp.training.pretrain as module

    config = PretrainConfig(epochs=3, batch_size=64, seed=5)
    data = [synthetic / "train.tsv"]
    whole = pretrain(data, tmp_path / "whole", config=config, device="cpu", progress=False)
    real_save, saved = module._save_state, []

    def save_then_stop(*args, **kwargs):
        real_save(*args, **kwargs)
        saved.append(1)
        if len(saved) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(module, "_save_state", save_then_stop)
    with pytest.raises(KeyboardInterrupt):
        pretrain(data, tmp_path / "resumed", config=config, device="cpu", progress=False)
    assert (tmp_path / "resumed" / "resume.pt").exists() and not (tmp_path / "resumed" / "kmer").exists()
    monkeypatch.setattr(module, "_save_state", real_save)
    resumed = pretrain(data, tmp_path / "resumed", config=config, device="cpu", progress=False)
    assert resumed.resumed_from == 2 and [row["epoch"] for row in resumed.history] == [1, 2, 3]
    for sub in ("kmer", "bpe"):
        a, b = read_weights(whole.directory / sub), read_weights(resumed.directory / sub)
        assert a.keys() == b.keys()
        assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a), sub
    assert whole.history[-1]["kmer_valid_loss"] == pytest.approx(resumed.history[-1]["kmer_valid_loss"], abs=1e-4)


def test_continued_pretraining_starts_from_the_given_encoders(pretrained, synthetic, tmp_path):
    again = pretrain([synthetic / "train.tsv"], tmp_path / "more", config=PretrainConfig(epochs=1, batch_size=32),
                     kmer_encoder=pretrained.kmer_encoder, bpe_encoder=pretrained.bpe_encoder, device="cpu",
                     progress=False)
    before = json.loads((pretrained.directory / "provenance.json").read_text())["history"][-1]
    # one more epoch at a tenth of the rate starts where the first run ended, not from random weights
    assert again.history[0]["bpe_valid_loss"] < before["bpe_valid_loss"] + 0.5
    assert (again.bpe_encoder / "tokenizer.json").read_text() == (pretrained.bpe_encoder / "tokenizer.json").read_text()


@pytest.mark.parametrize("body, expected", [
    ("ACGTA\n", "has 5 bases, shorter than the 6-mer size"),
    ("ACGTACGTXX\n", "invalid base 'X'"),
])
def test_bad_pretraining_data_exits_2_with_one_line_and_writes_nothing(tmp_path, capsys, body, expected):
    path = tmp_path / "short.txt"
    path.write_text("ACGT" * 10 + "A\n" + body)
    out = tmp_path / "enc"
    assert main(["pretrain", str(path), "-o", str(out), "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert f"{path}:2:" in err and expected in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_pooled_training_from_a_checkpoint_records_each_source(synthetic, tmp_path, capsys):
    other = write_synthetic(tmp_path / "other", n_train=120, n_test=0, seed=8)
    out = tmp_path / "pooled"
    code = main(["train", str(synthetic / "train.tsv"), str(other / "train.tsv"), "-o", str(out),
                 "--init", str(DEMO_CHECKPOINT), "--epochs", "1", "--device", "cpu", "--quiet"])
    assert code == 0, capsys.readouterr().err
    record = read_checkpoint_config(out)["provenance"]
    sources = record["training"]["sources"]
    assert [s["path"] for s in sources] == [str(synthetic / "train.tsv"), str(other / "train.tsv")]
    assert sum(s["train_positives"] + s["train_negatives"] + s["valid_positives"] + s["valid_negatives"]
               for s in sources) == 420
    assert all(s["valid_positives"] > 0 and s["valid_negatives"] > 0 for s in sources)  # each source validated
    assert record["config"]["init"] == str(DEMO_CHECKPOINT)
    assert record["inputs"]["init"]["sha256"] and record["inputs"]["train_2"]["sha256"]


def test_init_starts_from_every_weight_of_the_checkpoint(synthetic, tmp_path):
    from medna_interp.training.train import TrainConfig, train

    # zero learning rate: the result is the starting checkpoint itself
    path, _ = train(synthetic / "train.tsv", tmp_path / "same", init=DEMO_CHECKPOINT, device="cpu", progress=False,
                    config=TrainConfig(epochs=1, lr=1e-30, flood=0.0))
    start, trained = from_pretrained(DEMO_CHECKPOINT).state_dict(), from_pretrained(path).state_dict()
    assert start.keys() == trained.keys()
    assert all(torch.allclose(start[k].float(), trained[k].float(), atol=1e-6) for k in start)


def test_init_with_encoders_of_other_tokenizers_exits_2_and_writes_nothing(pretrained, synthetic, tmp_path, capsys):
    out = tmp_path / "ckpt"
    code = main(["train", str(synthetic / "train.tsv"), "-o", str(out), "--init", str(DEMO_CHECKPOINT),
                 "--kmer-encoder", str(pretrained.kmer_encoder), "--bpe-encoder", str(pretrained.bpe_encoder),
                 "--device", "cpu", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "tokenizer differs from" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_exported_encoders_are_the_checkpoints_and_start_new_models(tmp_path, capsys):
    out = tmp_path / "encoders"
    assert main(["export-encoders", str(DEMO_CHECKPOINT), "-o", str(out)]) == 0, capsys.readouterr().err
    model = from_pretrained(DEMO_CHECKPOINT)
    started = from_encoders(out / "kmer", out / "bpe")
    for ours, theirs in ((model.kmer_encoder, started.kmer_encoder), (model.bpe_encoder, started.bpe_encoder)):
        state = theirs.state_dict()
        assert all(torch.equal(v, state[k]) for k, v in ours.state_dict().items())
    assert started.kmer_tokenizer.vocabulary == model.kmer_tokenizer.vocabulary
    # and the same encoders with --init pass the tokenizer check
    data = write_synthetic(tmp_path / "d", n_train=100, n_test=0, seed=2)
    code = main(["train", str(data / "train.tsv"), "-o", str(tmp_path / "ck"), "--init", str(DEMO_CHECKPOINT),
                 "--kmer-encoder", str(out / "kmer"), "--bpe-encoder", str(out / "bpe"), "--epochs", "1",
                 "--device", "cpu", "--quiet"])
    assert code == 0, capsys.readouterr().err


def test_run_on_a_weak_model_finishes_with_a_labelled_result(tmp_path):
    from medna_interp.motifs.discover import DatabaseChoice
    from medna_interp.pipeline import RunOptions, run
    from medna_interp.core.settings import Common
    from medna_interp.training.train import TrainConfig, train

    data = write_synthetic(tmp_path / "d", n_train=200, n_test=300, seed=6)
    # one epoch at a tiny learning rate: a deliberately under-trained model
    weak, _ = train(data / "train.tsv", tmp_path / "weak", device="cpu", progress=False,
                    config=TrainConfig(epochs=1, lr=1e-6, augment=0.0))
    # the labelling of a weak model is the subject: the null and the linear source stay out
    options = RunOptions(cwga={"progress": False, "n_samples": 30, "steps": 8},
                         motifs={"database": DatabaseChoice(tax="insects"), "linear": False, "permute_labels": False},
                         insertion={"n_backgrounds": 5, "bootstrap": 50}, embed={"max_windows": 100})
    status = run(weak, data / "test.tsv", tmp_path / "run", options, Common(device="cpu"), log=lambda _: None)
    assert "failed" not in status.values()
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    summary = report["summary"]
    assert summary["weak_model"] is True
    assert summary["selection_cad"]["relaxed"] and summary["selection_cwga"]["relaxed"]
    html = (tmp_path / "run" / "report.html").read_text()
    assert "these explanations describe a weak model" in html and "the most confident were taken instead" in html
