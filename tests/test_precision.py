"""The bf16 path: choosing the precision, where it is recorded, and the agreement of its
predictions and explanations with fp32 on the demo checkpoint."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

from conftest import DEMO_CHECKPOINT, needs_native_bf16
from medna_interp.core import precision as precision_module
from medna_interp.core.agreement import attribution_agreement, cad_agreement
from medna_interp.api.windows import load, synthetic
from medna_interp.cli import main
from medna_interp.core.errors import MednaError
from medna_interp.interpret.cwga import cwga
from medna_interp.core.metrics import roc_auc
from medna_interp.models.predict import predict_proba
from medna_interp.core.precision import native_bf16, resolve_precision
from medna_interp.core.settings import Common
from medna_interp.runs.resume import expected_fingerprint
from medna_interp.core.provenance import read_provenance
from medna_interp.runs.explain import run_cad
from medna_interp.data.synth import write_synthetic
from medna_interp.training.train import TrainConfig, train

needs_demo = pytest.mark.skipif(not (DEMO_CHECKPOINT / "model.safetensors").exists(), reason="no demo checkpoint")


def test_auto_follows_the_hardware_and_bad_values_name_the_choices():
    assert resolve_precision("fp32", "cpu") == "fp32"
    assert resolve_precision("auto", "cpu") == ("bf16" if native_bf16("cpu") else "fp32")
    with pytest.raises(MednaError, match="fp32, bf16, auto"):
        resolve_precision("fp16", "cpu")


def test_emulated_bf16_warns_once_and_goes_on(monkeypatch, capsys):
    monkeypatch.setattr(precision_module, "native_bf16", lambda device: False)
    monkeypatch.setattr(precision_module, "_warned", set())
    assert resolve_precision("bf16", "cpu") == "bf16" and resolve_precision("bf16", "cpu") == "bf16"
    assert capsys.readouterr().err.count("emulated") == 1
    assert resolve_precision("auto", "cpu") == "fp32"


@pytest.mark.parametrize("value", ["fp16", "foo"])
def test_a_bad_precision_exits_2_with_one_line(tmp_path, capsys, value):
    out = tmp_path / "cad"
    assert main(["cad", str(DEMO_CHECKPOINT), str(tmp_path / "x.tsv"), "-o", str(out), "--precision", value]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "fp32" in err and "bf16" in err and "auto" in err and not out.exists()


@pytest.fixture(scope="module")
def demo_windows(tmp_path_factory):
    return write_synthetic(tmp_path_factory.mktemp("precision") / "d", n_train=0, n_test=1500, seed=23) / "test.tsv"


@needs_demo
@needs_native_bf16
def test_bf16_predictions_match_fp32_and_come_back_as_fp32():
    data = synthetic(2000, seed=5)
    fp32, bf16 = load(DEMO_CHECKPOINT, device="cpu"), load(DEMO_CHECKPOINT, device="cpu", precision="bf16")
    output = bf16.run(bf16.tokenize(data.sequences[:8]))
    assert output.logits.dtype == output.h_mod.dtype == torch.float32
    p32, p16 = predict_proba(fp32, data.sequences), predict_proba(bf16, data.sequences)
    assert not np.array_equal(p32, p16)  # bf16 really ran
    assert np.abs(p32 - p16).max() < 0.05
    assert round(roc_auc(data.labels, p32), 3) == round(roc_auc(data.labels, p16), 3)


@needs_demo
@needs_native_bf16
def test_cad_tables_of_both_precisions_agree_from_the_command_line(demo_windows, tmp_path, capsys):
    tables = {}
    for value in ("fp32", "bf16"):
        out = tmp_path / value
        assert main(["cad", str(DEMO_CHECKPOINT), str(demo_windows), "-o", str(out), "--precision", value,
                     "--device", "cpu"]) == 0, capsys.readouterr().err
        assert json.loads((out / "provenance.json").read_text())["steps"]["cad"]["config"]["precision"] == value
        tables[value] = {view: pd.read_csv(out / f"cad_{view}.tsv", sep="\t") for view in ("kmer", "bpe")}
    for view in ("kmer", "bpe"):
        agreement = cad_agreement(tables["fp32"][view], tables["bf16"][view], min_count=10)
        assert agreement["n_tokens"] >= 20 and agreement["spearman"] >= 0.99, (view, agreement)
        assert agreement["jaccard"] >= 0.9, (view, agreement)


@needs_demo
@needs_native_bf16
def test_cwga_attributions_of_both_precisions_agree_window_by_window():
    data = synthetic(400, seed=9)
    chosen = np.r_[np.flatnonzero(data.labels == 1)[:15], np.flatnonzero(data.labels == 0)[:15]]
    sequences, labels = [data.sequences[i] for i in chosen], data.labels[chosen]
    model = load(DEMO_CHECKPOINT, device="cpu")
    results = {}
    for value in ("fp32", "bf16"):
        model.precision = value
        results[value] = cwga(model, sequences, labels, top_dims=40, steps=32)
    for view in ("kmer", "bpe"):
        a, b = (results[v].attributions[view] for v in ("fp32", "bf16"))
        assert a.per_base.dtype == b.per_base.dtype
        assert not np.array_equal(a.per_base, b.per_base)
        agreement = attribution_agreement(a.per_base, b.per_base)
        assert agreement["n_windows"] == 30 and agreement["median_spearman"] >= 0.98, (view, agreement)


def test_agreement_measures_can_fail():
    rng = np.random.default_rng(0)
    a = pd.DataFrame({"token": list("abcdefghij"), "n_pos": 20, "n_neg": 20, "cad": rng.normal(size=10),
                      "q_value": [0.01] * 5 + [0.5] * 5})
    b = a.assign(cad=-a.cad, q_value=a.q_value[::-1].to_numpy())
    assert cad_agreement(a, b)["spearman"] == pytest.approx(-1.0) and cad_agreement(a, b)["jaccard"] == 0.0
    x = rng.normal(size=(5, 41))
    assert attribution_agreement(x, -x)["median_spearman"] == pytest.approx(-1.0)


@needs_demo
def test_the_precision_is_recorded_and_changes_the_fingerprint(demo_windows, tmp_path):
    run_dir = tmp_path / "run"
    common = Common(device="cpu")
    run_cad(DEMO_CHECKPOINT, demo_windows, run_dir, common=common)
    step = read_provenance(run_dir)["steps"]["cad"]
    assert step["config"]["precision"] == "fp32"
    same = expected_fingerprint("cad", run_dir, {}, common, DEMO_CHECKPOINT, demo_windows)
    other = expected_fingerprint("cad", run_dir, {}, Common(device="cpu", precision="bf16"), DEMO_CHECKPOINT,
                                 demo_windows)
    assert same == step["fingerprint"] and other != same


@needs_native_bf16
def test_bf16_training_keeps_fp32_weights_and_records_its_precision(tmp_path):
    data = write_synthetic(tmp_path / "d", n_train=256, n_test=0, seed=3)
    path, result = train(data / "train.tsv", tmp_path / "ckpt", config=TrainConfig(epochs=1, precision="bf16"),
                         device="cpu", progress=False)
    config = json.loads((path / "config.json").read_text())
    assert config["provenance"]["config"]["train"]["precision"] == "bf16"
    assert result.history[0]["seconds"] > 0
    model = load(path, device="cpu")
    assert model.precision == "fp32" and all(p.dtype == torch.float32 for p in model.parameters())
