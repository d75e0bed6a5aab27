"""Baselines: the linear and CNN models, their directory, and where the toolkit shows them."""

import json
import re
import shutil

import numpy as np
import pytest

from conftest import DEMO_CHECKPOINT
from medna_interp.core.margin import EXPLAINING_MARGIN, Versus
from medna_interp.core.metrics import roc_auc
from medna_interp.training.baseline import checkpoint_linear, features, fit_linear, linear_importance, load_baselines
from medna_interp.cli import main
from medna_interp.data.io import SequenceSet, read_sequences
from medna_interp.data.synth import write_synthetic


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    return write_synthetic(tmp_path_factory.mktemp("synth") / "data", n_train=800, n_test=200, seed=5)


def test_features_are_one_hot_bases_then_dinucleotides():
    x = features(["ACGTA", "TTTTT"])
    assert x.shape == (2, 5 * 4 + 4 * 16)
    assert x[0, :20].reshape(5, 4).argmax(1).tolist() == [0, 1, 2, 3, 0]
    pairs = x[0, 20:].reshape(4, 16)
    assert pairs.argmax(1).tolist() == [0 * 4 + 1, 1 * 4 + 2, 2 * 4 + 3, 3 * 4 + 0]  # AC, CG, GT, TA
    assert x.sum(1).tolist() == [5 + 4, 5 + 4]


def test_linear_baseline_learns_a_planted_base_and_points_at_it():
    rng = np.random.default_rng(0)
    sequences = ["".join(rng.choice(list("ACGT"), 21)) for _ in range(600)]
    labels = np.array([int(s[10] == "G") for s in sequences])
    data = SequenceSet([str(i) for i in range(600)], sequences, labels)
    model, metrics = fit_linear(data.subset(range(500)), data.subset(range(500, 600)))
    assert metrics["auc"] > 0.99
    importance = linear_importance(model)
    assert np.unravel_index(importance.argmax(), importance.shape) == (10, 2)  # G at position 11


def test_baseline_directory_evaluates_beside_a_checkpoint_in_one_matrix(synthetic, tmp_path, capsys):
    out = tmp_path / "base"
    assert main(["baseline", str(synthetic / "train.tsv"), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "linear: valid AUC" in printed and "cnn: valid AUC" in printed
    baselines = load_baselines(out)
    test = read_sequences(synthetic / "test.tsv")
    p = baselines.linear.predict_proba(test.sequences)
    assert p.shape == (200,) and ((p > 0.5) == (test.labels == 1)).mean() > 0.8
    evaluation = tmp_path / "eval"
    assert main(["evaluate", str(DEMO_CHECKPOINT), str(out), "--test", str(synthetic / "test.tsv"),
                 "-o", str(evaluation), "--device", "cpu"]) == 0
    rows = [line.split("\t") for line in (evaluation / "metrics.tsv").read_text().splitlines()[1:]]
    assert [r[0] for r in rows] == ["demo", "base:linear", "base:cnn"]
    predictions = tmp_path / "p.tsv"
    assert main(["predict", str(out), str(synthetic / "test.tsv"), "-o", str(predictions)]) == 0
    written = [float(line.split("\t")[2]) for line in predictions.read_text().splitlines()[1:]]
    assert np.allclose(written, p, atol=1e-6)


def test_explaining_a_baseline_or_one_class_data_is_refused(synthetic, tmp_path, capsys):
    out = tmp_path / "base"
    assert main(["baseline", str(synthetic / "train.tsv"), "-o", str(out), "--no-cnn"]) == 0
    capsys.readouterr()
    for command in ("cad", "cwga"):
        assert main([command, str(out), str(synthetic / "test.tsv"), "-o", str(tmp_path / "run")]) == 2
        err = capsys.readouterr().err
        assert "a baseline directory" in err and "attention and FiLM" in err and len(err.strip().splitlines()) == 1
    one_class = tmp_path / "pos.tsv"
    one_class.write_text("".join(line + "\n" for line in (synthetic / "test.tsv").read_text().splitlines()
                                 if not line.endswith("\t0") and "\t0\t" not in line))
    assert main(["baseline", str(one_class), "-o", str(tmp_path / "b2")]) == 2
    assert "only class 1" in capsys.readouterr().err
    assert not (tmp_path / "run").exists() and not (tmp_path / "b2").exists()


def test_an_under_trained_model_is_told_it_is_below_the_baseline(synthetic, tmp_path, capsys):
    out = tmp_path / "ckpt"
    code = main(["train", str(synthetic / "train.tsv"), "-o", str(out), "--size", "tiny", "--epochs", "1",
                 "--lr", "1e-6", "--device", "cpu"])
    assert code == 0
    captured = capsys.readouterr()
    assert re.search(r"validation AUC: model [01]\.\d{4}, linear baseline [01]\.\d{4}", captured.out)
    assert "warning: the model is below the position-specific linear baseline: validation AUC" in captured.err
    assert "say little a linear model would not" in captured.err
    config = json.loads((out / "config.json").read_text())
    metrics = config["metrics"]
    assert metrics["baseline_validation"]["linear"]["auc"] > metrics["validation"]["auc"]
    # the baseline itself is kept beside the model, so evaluate can score it on any test set
    linear = checkpoint_linear(config)
    assert linear is not None and linear.coef.shape == (4 * 41 + 16 * 40,)
    evaluation = tmp_path / "eval"
    assert main(["evaluate", str(out), "--test", str(synthetic / "test.tsv"), "-o", str(evaluation),
                 "--device", "cpu"]) == 0
    (row,) = json.loads((evaluation / "metrics.json").read_text())
    test = read_sequences(synthetic / "test.tsv")
    assert row["linear_auc"] == pytest.approx(roc_auc(test.labels, linear.predict_proba(test.sequences)))
    assert row["margin"] == pytest.approx(row["auc"] - row["linear_auc"]) and row["verdict"] == "below"
    assert "for a position-specific linear model (margin -" in capsys.readouterr().out


@pytest.mark.skipif(not (DEMO_CHECKPOINT / "model.safetensors").exists(), reason="no demo checkpoint")
def test_report_banner_when_the_explained_model_is_below_its_baseline(tmp_path, capsys):
    from medna_interp.motifs.discover import DatabaseChoice
    from medna_interp.pipeline import RunOptions, run
    from medna_interp.core.settings import Common

    checkpoint = tmp_path / "weak"
    shutil.copytree(DEMO_CHECKPOINT, checkpoint)
    config = json.loads((checkpoint / "config.json").read_text())
    config["metrics"] = {"validation": {"auc": 0.90}, "baseline_validation": {"linear": {"auc": 0.97}}}
    (checkpoint / "config.json").write_text(json.dumps(config))
    data = write_synthetic(tmp_path / "d", n_train=0, n_test=300, seed=2) / "test.tsv"
    options = RunOptions(cad={"views": ("kmer",)}, cwga={"views": ("kmer",), "n_samples": 10, "steps": 4,
                                                          "progress": False},
                         motifs={"database": DatabaseChoice(tax="insects"), "raw_baseline": False},
                         insertion={"n_backgrounds": 5, "bootstrap": 0}, embed=None)
    status = run(checkpoint, data, tmp_path / "run", options, Common(device="cpu"), log=lambda _: None)
    # the representations step was left out: no maps, and a report all the same
    assert status["embed"] == "off" and status["report"] == "ran" and not (tmp_path / "run" / "embed.tsv").exists()
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert report["warnings"][0].startswith("the explained model is below its baseline: validation AUC 0.900")
    versus = report["summary"]["baseline"]
    assert (versus["model_auc"], versus["baseline_auc"], versus["verdict"], versus["below"]) == (0.90, 0.97, "below", True)
    assert versus["margin"] == pytest.approx(-0.07) and versus["needed"] == 0.03
    page = (tmp_path / "run" / "report.html").read_text()
    assert "<b>Below its linear baseline</b>" in page and "position-specific linear baseline 0.970" in page
    assert "below its baseline" in page


def test_the_margin_verdict_separates_below_near_and_adds():
    assert EXPLAINING_MARGIN == 0.03
    assert Versus(0.90, 0.97).verdict == "below" and Versus(0.90, 0.97).below
    assert Versus(0.97, 0.96).verdict == "near" and not Versus(0.97, 0.96).below
    assert Versus(0.99, 0.96).verdict == "adds"  # 0.030 exactly, not short of it by rounding
    assert Versus(0.99, None).verdict == "unknown" and Versus(0.99, None).margin is None
    assert "margin +0.050; 0.03 needed" in Versus(0.95, 0.90, on="test").sentence()


def test_the_demo_card_and_config_state_a_model_clearly_above_its_linear_baseline(tmp_path):
    config = json.loads((DEMO_CHECKPOINT / "config.json").read_text())
    metrics = config["metrics"]
    model, linear = metrics["synthetic_test"]["auc"], metrics["baseline_synthetic_test"]["linear"]["auc"]
    assert model >= 0.97 and model - linear >= 0.03
    assert Versus(metrics["validation"]["auc"], metrics["baseline_validation"]["linear"]["auc"]).verdict == "adds"
    card = (DEMO_CHECKPOINT / "README.md").read_text()
    assert f"{model:.4f}" in card and f"{linear:.4f}" in card and f"{model - linear:.3f}" in card
    # the baseline kept in the checkpoint is the one whose test AUC the card states, on the
    # test set examples/train_demo.py draws (2000 windows, seed 1)
    test = read_sequences(write_synthetic(tmp_path / "t", n_train=0, n_test=2000, seed=1) / "test.tsv")
    assert roc_auc(test.labels, checkpoint_linear(config).predict_proba(test.sequences)) == pytest.approx(linear)
