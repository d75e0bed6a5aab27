import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from safetensors.torch import load_file, save_file

from builders import random_sequences
from medna_interp.cli import main


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_predict_writes_tsv(tiny_checkpoint, labelled_tsv, tmp_path, capsys):
    out = tmp_path / "pred.tsv"
    code, stdout, _ = run_cli(capsys, "predict", tiny_checkpoint, labelled_tsv, "-o", out, "--device", "cpu")
    assert code == 0 and "20 windows" in stdout
    lines = out.read_text().splitlines()
    assert lines[0].split("\t") == ["id", "sequence", "p_modified", "label_pred", "label"]
    assert len(lines) == 21
    from medna_interp.data.io import read_sequences
    from medna_interp.models.checkpoint import from_pretrained
    from medna_interp.models.predict import predict_proba

    expected = predict_proba(from_pretrained(tiny_checkpoint), read_sequences(labelled_tsv).sequences)
    written = [float(line.split("\t")[2]) for line in lines[1:]]
    assert written == pytest.approx(expected.tolist(), abs=1e-6)
    assert all(line.split("\t")[3] == str(int(p > 0.5)) for line, p in zip(lines[1:], written))


def test_info_reports_parameter_counts(tiny_checkpoint, capsys):
    code, stdout, _ = run_cli(capsys, "info", tiny_checkpoint)
    info = json.loads(stdout)
    assert code == 0
    assert info["parameters"]["total"] == sum(v for k, v in info["parameters"].items() if k != "total")
    assert info["tokenizers"]["kmer"].startswith("6-mer")


def _bad_tsv(tmp_path, body):
    path = tmp_path / "bad.tsv"
    path.write_text(body)
    return path


GOOD = random_sequences(1)[0]


@pytest.mark.parametrize("body, expected", [
    (f"index\tlabel\ttext\n0\t1\t{GOOD[:-1]}N\n", "bad.tsv:2: invalid base 'N'"),
    (f"index\tlabel\ttext\n0\t1\t{GOOD}\n1\t0\t{GOOD[:30]}\n", "bad.tsv:3: sequence has length 30, expected 41"),
    ("", "bad.tsv: no sequences found"),
    (f"index\tlabel\n0\t1\n", "bad.tsv:1: missing column 'text'"),
    (f"index\tlabel\ttext\n0\tyes\t{GOOD}\n", "bad.tsv:2: label must be 0 or 1"),
])
def test_bad_data_exits_2_with_one_line_and_no_output(tiny_checkpoint, tmp_path, capsys, body, expected):
    out = tmp_path / "pred.tsv"
    code, stdout, stderr = run_cli(capsys, "predict", tiny_checkpoint, _bad_tsv(tmp_path, body), "-o", out)
    assert code == 2
    assert expected in stderr and len(stderr.strip().splitlines()) == 1
    assert not out.exists() and list(tmp_path.iterdir()) == [tmp_path / "bad.tsv"]


@pytest.mark.parametrize("missing", ["config.json", "model.safetensors", "tokenizer.json"])
def test_checkpoint_missing_files(tiny_checkpoint, labelled_tsv, tmp_path, capsys, missing):
    broken = tmp_path / "ckpt"
    shutil.copytree(tiny_checkpoint, broken)
    (broken / missing).unlink()
    out = tmp_path / "pred.tsv"
    code, _, stderr = run_cli(capsys, "predict", broken, labelled_tsv, "-o", out)
    assert code == 2 and missing in stderr and not out.exists()


def test_weights_that_do_not_fit_the_config(tiny_checkpoint, labelled_tsv, tmp_path, capsys):
    broken = tmp_path / "ckpt"
    shutil.copytree(tiny_checkpoint, broken)
    state = load_file(str(broken / "model.safetensors"))
    state["classification.3.weight"] = state["classification.3.weight"][:, :5].contiguous()
    save_file(state, str(broken / "model.safetensors"))
    out = tmp_path / "pred.tsv"
    code, _, stderr = run_cli(capsys, "predict", broken, labelled_tsv, "-o", out)
    assert code == 2 and "do not fit the config" in stderr and "classification.3.weight" in stderr
    assert not out.exists()


def test_console_script_prints_no_traceback(tmp_path):
    script = Path(sys.executable).parent / "medna-interp"
    result = subprocess.run([str(script), "predict", str(tmp_path / "nope"), str(tmp_path / "x.tsv"),
                             "-o", str(tmp_path / "p.tsv")], capture_output=True, text=True)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1
