"""Strand consistency: reverse-complement windows predicted and explained, scores mapped back."""

import numpy as np
import pandas as pd
import pytest

from builders import random_sequences
from medna_interp.interpret.strand import strand_consistency
from medna_interp.core.sequence import reverse_complement
from medna_interp.models.checkpoint import from_pretrained
from medna_interp.core.settings import Common
from medna_interp.runs.explain import run_cwga
from medna_interp.data.synth import Grammar, write_synthetic
from medna_interp.training.train import TrainConfig, train


def _indicator(bases: str):
    return lambda windows: np.array([[float(b in bases) for b in w] for w in windows])


def test_scores_are_mapped_back_to_forward_coordinates(tiny_checkpoint):
    model = from_pretrained(tiny_checkpoint)
    windows = random_sequences(30, seed=4)
    # G/C at a position is the same fact on both strands; A at a position is T on the other
    explain = {"gc": _indicator("GC"), "a": _indicator("A"), "position": lambda w: np.tile(np.arange(41.0), (len(w), 1))}
    labels = np.arange(30) % 2
    check = strand_consistency(model, windows, labels, {name: f(windows) for name, f in explain.items()}, explain)
    table = check.table.set_index("method")
    assert table.loc["gc", "mean_r"] == pytest.approx(1.0)
    assert table.loc["a", "mean_r"] < 0  # mapped back, an A becomes a T: never the same base
    assert table.loc["position", "mean_r"] == pytest.approx(-1.0)  # position i came from RC position 40 - i
    assert table.loc["gc", "mean_r_negatives"] == pytest.approx(1.0)
    assert check.mapped_back["a"].shape == (30, 41)
    assert (check.mapped_back["a"] == _indicator("T")(windows)).all()
    assert 0.0 <= table.loc["gc", "prediction_agreement"] <= 1.0 and not check.consistent
    assert reverse_complement("AACGTN") == "NACGTT"


def test_ism_s_strand_check_writes_its_table(tiny_checkpoint, labelled_tsv, tmp_path):
    from medna_interp.runs.explain import run_ism

    run_ism(tiny_checkpoint, labelled_tsv, tmp_path / "run", max_per_class=3, min_selected=3, strand_check=True,
            common=Common(device="cpu"))
    table = pd.read_csv(tmp_path / "run" / "strand_ism.tsv", sep="\t")
    assert table.method.tolist() == ["ism"] and table.windows.iloc[0] >= 4 and -1 <= table.mean_r.iloc[0] <= 1
    # the report reads an ISM strand check in a run without a CWGA step
    from medna_interp.core.provenance import read_provenance
    from medna_interp.reporting.collect import _strands

    strand = _strands(read_provenance(tmp_path / "run")["steps"])
    assert [row["method"] for row in strand["methods"]] == ["ism"] and strand["rc_average"] is False


PALINDROME = """\
# a palindromic core over the centre (TGATCA reads the same on both strands)
motifs:
  - {name: core, sequence: TGATCA, start_min: 18, start_max: 18}
"""


def test_a_model_trained_on_both_strands_explains_both_alike(tmp_path):
    from medna_interp.interpret.strand import is_consistent
    from medna_interp.runs.explain import run_ism

    (tmp_path / "grammar.yaml").write_text(PALINDROME)
    data = write_synthetic(tmp_path / "data", Grammar.from_file(tmp_path / "grammar.yaml"), n_train=2000, n_test=600,
                           seed=5)
    checkpoint, _ = train(data / "train.tsv", tmp_path / "model", size="tiny", device="cpu", progress=False,
                          config=TrainConfig(epochs=8, rc_augment=0.5, seed=0))
    common = Common(device="cpu")
    run_cwga(checkpoint, data / "test.tsv", tmp_path / "run", n_samples=60, steps=16, progress=False,
             strand_check=True, common=common)
    run_ism(checkpoint, data / "test.tsv", tmp_path / "run", max_per_class=30, strand_check=True, common=common)
    table = pd.concat([pd.read_csv(tmp_path / "run" / f"strand_{m}.tsv", sep="\t") for m in ("cwga", "ism")])
    table = table.set_index("method")
    # the k-mer view and ISM read both strands alike; BPE cuts the other strand into other tokens
    assert (table.loc[["cwga_kmer", "ism"], "mean_r"] >= 0.8).all(), table
    assert (table.prediction_agreement >= 0.9).all() and is_consistent(table.reset_index().to_dict("records"))
