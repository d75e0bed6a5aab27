import shutil

import pytest
import torch
import torch.nn.functional as F

from medna_interp.cli import main
from medna_interp.models.checkpoint import from_pretrained, read_checkpoint_config
from medna_interp.data.synth import write_synthetic
from medna_interp.training.train import FGM, flooding_loss


def test_flooding_equals_ce_above_level_and_reflects_below():
    high = torch.tensor(0.5, requires_grad=True)
    assert flooding_loss(high, 0.1).item() == pytest.approx(0.5)
    flooding_loss(high, 0.1).backward()
    assert high.grad.item() == pytest.approx(1.0)
    low = torch.tensor(0.02, requires_grad=True)
    assert flooding_loss(low, 0.1).item() == pytest.approx(0.18)  # 2b - L
    flooding_loss(low, 0.1).backward()
    assert low.grad.item() == pytest.approx(-1.0)  # gradient ascent below the flood level


def test_fgm_restores_weights_exactly_and_changes_the_gradient():
    torch.manual_seed(0)
    embedding = torch.nn.Embedding(10, 4)
    head = torch.nn.Linear(4, 2)
    ids, target = torch.tensor([[1, 2, 3], [4, 5, 6]]), torch.tensor([0, 1])

    def loss():
        return F.cross_entropy(head(embedding(ids).mean(1)), target)

    original = embedding.weight.detach().clone()
    loss().backward()
    clean_grad = embedding.weight.grad.clone()
    fgm = FGM([embedding.weight], epsilon=1.0)
    fgm.attack()
    delta = embedding.weight.detach() - original
    assert delta.norm().item() == pytest.approx(1.0, rel=1e-5)  # r = eps * g / ||g||
    loss().backward()
    fgm.restore()
    assert torch.equal(embedding.weight.detach(), original)
    assert not torch.allclose(embedding.weight.grad, 2 * clean_grad)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    return write_synthetic(tmp_path_factory.mktemp("synth") / "data", n_train=300, n_test=100, seed=1)


def test_training_smoke_one_epoch_writes_checkpoint(synthetic, tmp_path, capsys):
    out = tmp_path / "ckpt"
    code = main(["train", str(synthetic / "train.tsv"), "-o", str(out), "--size", "tiny", "--epochs", "1",
                 "--device", "cpu", "--quiet"])
    assert code == 0, capsys.readouterr().err
    payload = read_checkpoint_config(out)
    assert payload["provenance"]["training"]["best_epoch"] == 1
    assert payload["provenance"]["inputs"]["train"]["sha256"]
    assert 0.0 <= payload["metrics"]["validation"]["auprc"] <= 1.0
    assert payload["provenance"]["training"]["n_valid"] == 30
    model = from_pretrained(out)
    assert model.run(model.tokenize(["A" * 41])).logits.shape == (1, 2)


def test_evaluate_writes_table_and_cross_matrix(synthetic, tiny_checkpoint, tmp_path, capsys):
    other = tmp_path / "other.tsv"
    shutil.copy(synthetic / "test.tsv", other)
    out = tmp_path / "eval"
    code = main(["evaluate", str(tiny_checkpoint), "--test", str(synthetic / "test.tsv"), str(other),
                 "-o", str(out), "--device", "cpu"])
    assert code == 0
    rows = (out / "metrics.tsv").read_text().splitlines()
    assert rows[0].split("\t")[:4] == ["checkpoint", "dataset", "n", "n_pos"] and len(rows) == 3
    from medna_interp.data.io import read_sequences
    from medna_interp.core.metrics import binary_metrics
    from medna_interp.models.predict import predict_proba

    data = read_sequences(synthetic / "test.tsv")
    expected = binary_metrics(data.labels, predict_proba(from_pretrained(tiny_checkpoint), data.sequences))
    header = rows[0].split("\t")
    first = dict(zip(header, rows[1].split("\t")))
    assert first["dataset"] == "data" and int(first["n"]) == 100  # test.tsv is named by its folder
    assert float(first["auc"]) == pytest.approx(expected.auc, abs=1e-4)
    assert float(first["acc"]) == pytest.approx(expected.acc, abs=1e-4)
    matrix = (out / "matrix_auc.tsv").read_text().splitlines()
    assert matrix[1].split("\t")[1] == matrix[1].split("\t")[2] == first["auc"]  # the same windows twice


@pytest.mark.parametrize("body, expected", [
    ("index\tlabel\ttext\n0\t1\t" + "ACGT" * 10 + "A\n1\t0\t" + "ACGT" * 10 + "Z\n", "train.tsv:3: invalid base 'Z'"),
    ("index\tlabel\ttext\n" + "".join(f"{i}\t1\t{'ACGT' * 10}A\n" for i in range(20)), "only class 1"),
])
def test_training_on_bad_data_fails_at_once_without_checkpoint(tmp_path, capsys, body, expected):
    path = tmp_path / "train.tsv"
    path.write_text(body)
    out = tmp_path / "ckpt"
    code = main(["train", str(path), "-o", str(out), "--quiet"])
    assert code == 2 and expected in capsys.readouterr().err
    assert not out.exists()


def test_warmup_then_linear_decay():
    from medna_interp.training.train import warmup_then_decay

    factor = warmup_then_decay(total_steps=100, warmup=0.1)
    assert factor(0) == pytest.approx(0.1) and factor(9) == pytest.approx(1.0)
    assert factor(10) == pytest.approx(1.0) and factor(55) == pytest.approx(0.5) and factor(100) == 0.0
    assert warmup_then_decay(100, 0.0)(0) == 1.0


def _split_by_label(path, tmp_path):
    lines = path.read_text().splitlines()[1:]
    positives, negatives = tmp_path / "pos.fa", tmp_path / "neg.fa"
    positives.write_text("".join(f">{f[0]}\n{f[2]}\n" for f in (l.split("\t") for l in lines) if f[1] == "1"))
    negatives.write_text("".join(f">{f[0]}\n{f[2]}\n" for f in (l.split("\t") for l in lines) if f[1] == "0"))
    return positives, negatives


def test_training_from_scratch_defaults_are_shown_and_recorded(synthetic, tmp_path, capsys):
    positives, negatives = _split_by_label(synthetic / "train.tsv", tmp_path)
    out = tmp_path / "ckpt"
    code = main(["train", str(positives), "--negatives", str(negatives), "-o", str(out), "--size", "tiny",
                 "--epochs", "1", "--device", "cpu"])
    assert code == 0, capsys.readouterr().err
    shown = capsys.readouterr().out
    assert "training from random weights, size tiny: lr 0.0005, FGM epsilon 0 (off)" in shown
    assert "warm-up 0.1" in shown and "head dropout 0.5" in shown
    payload = read_checkpoint_config(out)
    recorded = payload["provenance"]
    assert recorded["config"]["train"]["fgm_epsilon"] == 0.0 and recorded["config"]["train"]["warmup"] == 0.1
    assert set(recorded["inputs"]) == {"train", "negatives"}
    assert recorded["training"]["n_train"] + recorded["training"]["n_valid"] == 300  # both files were read
    assert recorded["resources"]["wall_seconds"] > 0 and recorded["resources"]["peak_rss_mb"] > 0


def test_training_from_dnabert_takes_the_papers_values():
    from medna_interp.training.recipes import DEFAULTS
    from medna_interp.training.train import TrainConfig

    config = TrainConfig().resolved("pretrained", 1e-5)
    assert (config.fgm_epsilon, config.warmup, config.augment, config.lr) == (1.0, 0.0, 0.0, 1e-5)
    assert {k: getattr(config, k) for k in DEFAULTS["pretrained"]} == DEFAULTS["pretrained"]
    assert TrainConfig(fgm_epsilon=0.3).resolved("pretrained", 1e-5).fgm_epsilon == 0.3  # the user's value wins


def test_evaluate_names_checkpoints_apart_and_takes_negatives(synthetic, tiny_checkpoint, tmp_path, capsys):
    for parent in ("x", "y"):
        shutil.copytree(tiny_checkpoint, tmp_path / parent / "model")
    positives, negatives = _split_by_label(synthetic / "test.tsv", tmp_path)
    out = tmp_path / "eval"
    code = main(["evaluate", str(tmp_path / "x" / "model"), str(tmp_path / "y" / "model"), "--test", str(positives),
                 "--negatives", str(negatives), "-o", str(out), "--device", "cpu"])
    assert code == 0, capsys.readouterr().err
    rows = [line.split("\t") for line in (out / "metrics.tsv").read_text().splitlines()[1:]]
    assert [r[0] for r in rows] == ["x/model", "y/model"]
    assert [int(r[2]) for r in rows] == [100, 100] and int(rows[0][3]) == sum(1 for l in positives.read_text().splitlines() if l.startswith(">"))
    matrix = (out / "matrix_auc.tsv").read_text().splitlines()
    assert [line.split("\t")[0] for line in matrix[1:]] == ["x/model", "y/model"]


def test_one_class_data_is_told_it_needs_both_classes(tiny_checkpoint, tmp_path, capsys):
    from builders import random_sequences

    path = tmp_path / "pos.tsv"
    path.write_text("index\tlabel\ttext\n" + "".join(f"{i}\t1\t{s}\n" for i, s in enumerate(random_sequences(10))))
    assert main(["cad", str(tiny_checkpoint), str(path), "-o", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "holds only positives (label 1); contrasting the classes needs both" in err and "--confidence" not in err


def test_scratch_defaults_augment_and_pretrained_ones_do_not():
    from medna_interp.training.train import TrainConfig, _substitute

    assert TrainConfig().resolved("scratch", 5e-4).augment == 0.2
    assert TrainConfig().resolved("scratch", 5e-4).epochs == 40
    assert TrainConfig().resolved("pretrained", 1e-5).augment == 0.0
    assert TrainConfig(augment=0.05).resolved("scratch", 5e-4).augment == 0.05
    import numpy as np

    windows = ["A" * 41] * 200
    changed = _substitute(windows, 0.2, np.random.default_rng(0))
    assert all(w[20] == "A" for w in changed)
    fraction = np.mean([c != "A" for w in changed for c in w])
    assert 0.12 < fraction < 0.18  # 0.2 x 3/4 of draws land on another base, centre excluded


def test_narrow_pretrained_encoders_get_the_scratch_recipe_at_a_lower_rate():
    from types import SimpleNamespace

    from medna_interp.training.recipes import DEFAULT_LR, DEFAULTS
    from medna_interp.training.train import start_kind

    assert start_kind(SimpleNamespace(width=768)) == "pretrained"
    assert start_kind(SimpleNamespace(width=64)) == "pretrained_narrow"
    # the scratch recipe, last epoch kept, at a lower rate; DNABERT-size encoders keep the best epoch
    assert DEFAULTS["pretrained_narrow"] == DEFAULTS["scratch"] and DEFAULTS["pretrained_narrow"]["keep"] == "last"
    assert DEFAULT_LR["pretrained_narrow"] == 2e-4 and DEFAULTS["pretrained"]["keep"] == "best"


def test_from_scratch_the_last_epoch_is_kept_and_patience_does_not_stop_it(synthetic, tmp_path):
    from medna_interp.training.train import TrainConfig, train

    assert TrainConfig().resolved("scratch", 5e-4).keep == "last"
    assert TrainConfig().resolved("pretrained", 1e-5).keep == "best"
    # a rate too small to change the scores: validation AUPRC never improves after epoch 1
    frozen = dict(epochs=3, lr=1e-30, patience=1, augment=0.0, flood=0.0)
    _, last = train(synthetic / "train.tsv", tmp_path / "last", size="tiny", config=TrainConfig(**frozen),
                    device="cpu", progress=False)
    assert (last.best_epoch, len(last.history)) == (3, 3) and last.validation == last.history[-1]
    _, best = train(synthetic / "train.tsv", tmp_path / "best", size="tiny",
                    config=TrainConfig(**frozen, keep="best"), device="cpu", progress=False)
    assert (best.best_epoch, len(best.history)) == (1, 2) and best.validation == best.history[0]


def test_an_unknown_keep_is_refused_before_anything_is_written(synthetic, tmp_path):
    from medna_interp.core.errors import MednaError
    from medna_interp.training.train import TrainConfig, train

    with pytest.raises(MednaError, match="keep must be one of best, last"):
        train(synthetic / "train.tsv", tmp_path / "ckpt", config=TrainConfig(keep="first"), device="cpu")
    assert not (tmp_path / "ckpt").exists()
