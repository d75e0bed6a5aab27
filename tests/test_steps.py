import numpy as np
import pytest

from conftest import DEMO_CHECKPOINT
from medna_interp.runs import cache, explain
from medna_interp.core.settings import Common
from medna_interp.runs.explain import run_cad, run_cwga
from medna_interp.data.synth import write_synthetic

pytestmark = pytest.mark.skipif(not (DEMO_CHECKPOINT / "model.safetensors").exists(), reason="no demo checkpoint")


def test_cwga_reuses_the_predictions_cad_made_for_the_same_inputs(tmp_path, monkeypatch):
    data = write_synthetic(tmp_path / "a", n_train=0, n_test=200, seed=4) / "test.tsv"
    calls = []  # forward passes over the whole data set, predicting or scanning
    for module, name in ((explain, "predict_proba"), (explain, "scan"), (cache, "predict_proba")):
        original = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *a, original=original, **k: calls.append(1) or original(*a, **k))
    run = tmp_path / "run"
    cwga_options = dict(views=("kmer",), n_samples=5, steps=4, top_dims=8, progress=False)
    run_cad(DEMO_CHECKPOINT, data, run, views=("kmer",), common=Common(device="cpu"))
    run_cwga(DEMO_CHECKPOINT, data, run, common=Common(device="cpu"), **cwga_options)
    assert len(calls) == 1 and (run / "predictions.npz").exists()
    cached = np.load(run / "predictions.npz")["p_modified"]
    assert cached.shape == (200,) and np.all((cached >= 0) & (cached <= 1))

    other = write_synthetic(tmp_path / "b", n_train=0, n_test=200, seed=5) / "test.tsv"
    run_cwga(DEMO_CHECKPOINT, other, run, common=Common(device="cpu"), **cwga_options)
    assert len(calls) == 2  # other data: the cache does not apply


def test_cad_reads_the_same_attention_with_or_without_cached_predictions(tmp_path):
    import pandas as pd

    data = write_synthetic(tmp_path / "a", n_train=0, n_test=120, seed=6) / "test.tsv"
    options = dict(views=("kmer", "bpe"), common=Common(device="cpu"))
    run_cad(DEMO_CHECKPOINT, data, tmp_path / "scanned", **options)  # one pass: predict + attention
    warm = tmp_path / "cached"
    warm.mkdir()
    (warm / "predictions.npz").write_bytes((tmp_path / "scanned" / "predictions.npz").read_bytes())
    run_cad(DEMO_CHECKPOINT, data, warm, force=True, **options)  # predictions cached: attention pass on the selection
    for view in ("kmer", "bpe"):
        a = pd.read_csv(tmp_path / "scanned" / f"cad_{view}.tsv", sep="\t").set_index("token").sort_index()
        b = pd.read_csv(warm / f"cad_{view}.tsv", sep="\t").set_index("token").sort_index()
        assert a.index.equals(b.index) and np.allclose(a.cad, b.cad, atol=1e-4)
