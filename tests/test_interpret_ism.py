"""Saturation mutagenesis: batched equals one variant at a time, and it finds the planted sites."""

import numpy as np
import pandas as pd
import pytest

from builders import random_sequences
from conftest import DEMO_CHECKPOINT
from medna_interp.cli import main
from medna_interp.interpret.ism import ism, ism_one_at_a_time
from medna_interp.core.metrics import roc_auc
from medna_interp.models.checkpoint import from_pretrained
from medna_interp.data.synth import planted_mask, write_synthetic


def test_batched_ism_equals_one_variant_at_a_time(tiny_checkpoint, device):
    model = from_pretrained(tiny_checkpoint, device)
    sequences = random_sequences(2, seed=9)
    batched, reference = ism(model, sequences, batch_size=50), ism_one_at_a_time(model, sequences[:1])
    assert batched.scores.shape == (2, 41, 4)
    batched_first = ism(model, sequences[:1], batch_size=7)  # batch composition does not matter
    assert np.allclose(batched_first.scores, batched.scores[:1], atol=1e-4)
    assert np.allclose(batched.scores[:1], reference.scores, atol=1e-4)
    assert np.allclose(batched.reference[:1], reference.reference, atol=1e-5)
    wild = np.array([[["ACGT".index(b) == k for k in range(4)] for b in s] for s in sequences])
    assert np.all(batched.delta[wild] == 0)  # the wild-type base changes nothing
    assert np.allclose(batched.mean_drop, -batched.delta.sum(2) / 3)


@pytest.mark.skipif(not (DEMO_CHECKPOINT / "model.safetensors").exists(), reason="no demo checkpoint")
def test_ism_finds_the_planted_sites_and_feeds_motifs(tmp_path, capsys):
    data = write_synthetic(tmp_path / "d", n_train=0, n_test=300, seed=23)
    run = tmp_path / "run"
    assert main(["ism", str(DEMO_CHECKPOINT), str(data / "test.tsv"), "-o", str(run), "--max-per-class", "40",
                 "--device", "cpu"]) == 0
    capsys.readouterr()
    selection = pd.read_csv(run / "ism_selection.tsv", sep="\t", dtype={"id": str})
    arrays = np.load(run / "ism.npz")
    positives = selection.label.to_numpy() == 1
    truth = planted_mask(list(selection.id[positives]), data / "sites.tsv", 41)
    auroc = roc_auc(truth.ravel(), arrays["bases_per_base"][positives].ravel())
    assert auroc >= 0.9
    from medna_interp.motifs.export import ExportOptions, available_sources, export

    assert ("ism", "bases") in available_sources(run)
    exported = export(run, "ism", "bases", tmp_path / "fa", ExportOptions(window=8))
    assert exported.n_primary > 0
