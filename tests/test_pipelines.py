import sys
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
