import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from medna_interp.training.evaluate import evaluate
from medna_interp.data.synth import write_synthetic
from medna_interp.training.train import TrainConfig, train

GENERATOR = Path(__file__).resolve().parents[1] / "pipelines" / "idna_ms.py"


def test_the_config_generator_writes_one_entry_per_dataset_folder(tmp_path):
    for name, seed in (("6mA_D.melanogaster", 1), ("5hmC_setB", 2)):
        write_synthetic(tmp_path / "data" / name, n_train=20, n_test=10, seed=seed)
    (tmp_path / "data" / "not_a_dataset").mkdir()
    done = subprocess.run([sys.executable, str(GENERATOR), str(tmp_path / "data"), "-o", str(tmp_path / "c.yaml"),
                           "--size", "tiny"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    config = yaml.safe_load((tmp_path / "c.yaml").read_text())
    assert config["size"] == "tiny" and config["data_root"] == str(tmp_path / "data")
    assert config["datasets"] == {"5hmC_setB": {"modification": "5hmC", "jaspar_tax": "all"},
                                  "6mA_D.melanogaster": {"modification": "6mA", "jaspar_tax": "insects"}}
    again = subprocess.run([sys.executable, str(GENERATOR), str(tmp_path / "data"), "-o", str(tmp_path / "c.yaml")],
                           capture_output=True, text=True)
    assert again.returncode == 2 and again.stderr.count("\n") == 1 and "exists" in again.stderr


def test_transfer_heatmaps_are_normalised_by_each_source_and_ordered_by_modification(tmp_path):
    checkpoints, tests = [], []
    for name, seed in (("6mA_setA", 1), ("5hmC_setB", 2)):
        data = write_synthetic(tmp_path / "data" / name, n_train=200, n_test=60, seed=seed)
        path, _ = train(data / "train.tsv", tmp_path / "models" / name, size="tiny", device="cpu",
                        config=TrainConfig(epochs=1), progress=False)
        checkpoints.append(path)
        tests.append(data / "test.tsv")
    evaluation = tmp_path / "evaluation"
    evaluate(checkpoints, tests, evaluation, device="cpu")
    matrix = (evaluation / "matrix_auc.tsv").read_text().splitlines()
    assert matrix[0].split("\t")[1:] == ["6mA_setA", "5hmC_setB"] and len(matrix) == 3
    rows = [line.split("\t") for line in (evaluation / "transfer.tsv").read_text().splitlines()]
    assert rows[0] == ["checkpoint", "source", "dataset", "acc", "auc", "mcc", "acc_normalised"]
    assert [r[1] for r in rows[1:]] == ["5hmC_setB"] * 2 + ["6mA_setA"] * 2  # 5hmC before 6mA
    assert [r[2] for r in rows[1:]] == ["5hmC_setB", "6mA_setA"] * 2
    own = {r[1]: float(r[3]) for r in rows[1:] if r[1] == r[2]}
    for r in rows[1:]:
        assert float(r[6]) == pytest.approx(float(r[3]) / own[r[1]], abs=2e-4)
    assert all((evaluation / f"{stem}{suffix}").stat().st_size > 0
               for stem in ("transfer", "transfer_normalised") for suffix in (".png", ".svg"))
