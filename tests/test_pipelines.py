import sys

import pytest
from pathlib import Path

from medna_interp.synth import write_synthetic

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pipelines"))
import idna_ms  # noqa: E402


def test_idna_ms_pipeline_trains_each_dataset_and_builds_the_cross_matrix(tmp_path):
    for name, seed in (("setA", 1), ("setB", 2)):
        write_synthetic(tmp_path / "data" / name, n_train=200, n_test=60, seed=seed)
    idna_ms.main([str(tmp_path / "data"), "-o", str(tmp_path / "out"), "--size", "tiny", "--epochs", "1",
                  "--device", "cpu"])
    matrix = (tmp_path / "out" / "evaluation" / "matrix_auc.tsv").read_text().splitlines()
    assert matrix[0].split("\t")[1:] == ["setA", "setB"] and len(matrix) == 3
    normalised = (tmp_path / "out" / "evaluation" / "matrix_auc_normalised.tsv").read_text().splitlines()
    assert normalised[1].split("\t")[1] == "1.0000"  # the diagonal divided by itself


def test_transfer_heatmaps_are_normalised_by_each_source_and_ordered_by_modification(tmp_path):
    for name, seed in (("6mA_setA", 1), ("5hmC_setB", 2)):
        write_synthetic(tmp_path / "data" / name, n_train=200, n_test=60, seed=seed)
    idna_ms.main([str(tmp_path / "data"), "-o", str(tmp_path / "out"), "--size", "tiny", "--epochs", "1",
                  "--device", "cpu"])
    evaluation = tmp_path / "out" / "evaluation"
    rows = [line.split("\t") for line in (evaluation / "transfer.tsv").read_text().splitlines()]
    assert rows[0] == ["checkpoint", "source", "dataset", "acc", "auc", "mcc", "acc_normalised"]
    assert [r[1] for r in rows[1:]] == ["5hmC_setB"] * 2 + ["6mA_setA"] * 2  # 5hmC before 6mA
    assert [r[2] for r in rows[1:]] == ["5hmC_setB", "6mA_setA"] * 2
    own = {r[1]: float(r[3]) for r in rows[1:] if r[1] == r[2]}
    for r in rows[1:]:
        assert float(r[6]) == pytest.approx(float(r[3]) / own[r[1]], abs=2e-4)
    assert all((evaluation / f"{stem}{suffix}").stat().st_size > 0
               for stem in ("transfer", "transfer_normalised") for suffix in (".png", ".svg"))
