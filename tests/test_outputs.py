"""The output layer: nothing a command did not write is ever removed or overwritten."""

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

from builders import random_sequences
from conftest import DEMO_CHECKPOINT
from medna_interp.cli import main
from medna_interp.core.errors import MednaError
from medna_interp.core.outputs import claim_directory, claim_file, output_kind, staged, step_outputs


def snapshot(folder: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every file under ``folder``."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def cli(capsys, *argv):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_refused(code, err, *fragments):
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err


@pytest.fixture(scope="module")
def demo_data(tmp_path_factory) -> Path:
    from medna_interp.data.synth import write_synthetic

    return write_synthetic(tmp_path_factory.mktemp("synth") / "d", n_train=0, n_test=200, seed=3) / "test.tsv"


@pytest.fixture
def data_dir(tmp_path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    rows = ["index\tlabel\ttext"] + [f"{i}\t{i % 2}\t{s}" for i, s in enumerate(random_sequences(40, seed=8))]
    (folder / "train.tsv").write_text("\n".join(rows) + "\n")
    (folder / "test.tsv").write_text("\n".join(rows[:21]) + "\n")
    (folder / "notes.txt").write_text("my notes\n")
    return folder


# ---------------------------------------------------------------- the reported data-loss cases

def test_evaluate_into_the_folder_of_its_test_file_is_refused(tiny_checkpoint, data_dir, tmp_path, capsys):
    before = snapshot(tmp_path)
    code, _, err = cli(capsys, "evaluate", tiny_checkpoint, "--test", data_dir / "test.tsv", "-o", data_dir)
    assert_refused(code, err, f"output directory {data_dir} contains the input", "choose another output path")
    assert snapshot(tmp_path) == before


def test_train_into_the_folder_of_its_training_data_is_refused(data_dir, tmp_path, capsys):
    before = snapshot(tmp_path)
    code, _, err = cli(capsys, "train", data_dir / "train.tsv", "-o", data_dir, "--epochs", "1", "--quiet")
    assert_refused(code, err, "contains the input")
    code, _, err = cli(capsys, "train", data_dir / "train.tsv", "-o", data_dir, "--force", "--quiet")
    assert_refused(code, err, "contains the input")  # --force never reaches inputs
    assert snapshot(tmp_path) == before


def test_synth_over_a_checkpoint_is_refused(tiny_checkpoint, tmp_path, capsys):
    checkpoint = tmp_path / "ckpt"
    shutil.copytree(tiny_checkpoint, checkpoint)
    before = snapshot(checkpoint)
    code, _, err = cli(capsys, "synth", "-o", checkpoint, "--n-train", "10", "--n-test", "10")
    assert_refused(code, err, "holds a medna-interp checkpoint, not a synthetic")
    assert snapshot(checkpoint) == before


def test_a_foreign_non_empty_folder_needs_force_and_keeps_its_files(demo_data, tmp_path, capsys):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "thesis.tex").write_text("chapter 1\n")
    (folder / "sub").mkdir()
    (folder / "sub" / "figure.png").write_bytes(b"\x89PNG")
    before = snapshot(folder)
    code, _, err = cli(capsys, "cad", DEMO_CHECKPOINT, demo_data, "-o", folder, "--view", "kmer")
    assert_refused(code, err, "is not empty and was not written by medna-interp", "--force")
    assert snapshot(folder) == before
    code, _, err = cli(capsys, "cad", DEMO_CHECKPOINT, demo_data, "-o", folder, "--view", "kmer", "--force")
    assert code == 0, err
    after = snapshot(folder)
    assert {k: after[k] for k in before} == before and "cad_kmer.tsv" in after


@pytest.mark.parametrize("where", ["cwd", "file", "inside_checkpoint", "checkpoint", "data"])
def test_outputs_that_are_cwd_files_or_inputs_are_refused(tiny_checkpoint, labelled_tsv, tmp_path, capsys,
                                                          monkeypatch, where):
    checkpoint = tmp_path / "ckpt"
    shutil.copytree(tiny_checkpoint, checkpoint)
    monkeypatch.chdir(tmp_path)
    output = {"cwd": ".", "file": labelled_tsv, "inside_checkpoint": checkpoint / "run",
              "checkpoint": checkpoint, "data": labelled_tsv}[where]
    before = snapshot(tmp_path)
    code, _, err = cli(capsys, "cad", checkpoint, labelled_tsv, "-o", output, "--force")
    assert_refused(code, err, "output directory")
    assert snapshot(tmp_path) == before
    assert not any(".medna-stage." in p.name for p in tmp_path.rglob("*"))


def test_predict_never_overwrites_its_input_or_a_foreign_file(tiny_checkpoint, labelled_tsv, tmp_path, capsys):
    original = labelled_tsv.read_bytes()
    code, _, err = cli(capsys, "predict", tiny_checkpoint, labelled_tsv, "-o", labelled_tsv, "--force")
    assert_refused(code, err, "is the input")
    assert labelled_tsv.read_bytes() == original
    foreign = tmp_path / "results.tsv"
    foreign.write_text("my own table\n")
    code, _, err = cli(capsys, "predict", tiny_checkpoint, labelled_tsv, "-o", foreign)
    assert_refused(code, err, "exists and was not written by this command", "--force")
    assert foreign.read_text() == "my own table\n"
    ours = tmp_path / "pred.tsv"
    assert cli(capsys, "predict", tiny_checkpoint, labelled_tsv, "-o", ours)[0] == 0
    assert cli(capsys, "predict", tiny_checkpoint, labelled_tsv, "-o", ours)[0] == 0  # its own file: replaced
    assert cli(capsys, "predict", tiny_checkpoint, labelled_tsv, "-o", foreign, "--force")[0] == 0
    assert foreign.read_text().startswith("id\tsequence\tp_modified")


def test_retraining_into_a_checkpoint_replaces_only_checkpoint_files(labelled_tsv, tmp_path, capsys):
    checkpoint = tmp_path / "ckpt"
    args = ["train", labelled_tsv, "-o", checkpoint, "--epochs", "1", "--quiet", "--device", "cpu",
            "--valid-fraction", "0.3"]
    assert cli(capsys, *args)[0] == 0
    (checkpoint / "README.md").write_text("my model card\n")
    first = snapshot(checkpoint)
    assert cli(capsys, *args, "--seed", "3")[0] == 0
    second = snapshot(checkpoint)
    assert second["README.md"] == first["README.md"] and second["model.safetensors"] != first["model.safetensors"]
    assert output_kind(checkpoint) == "checkpoint"


def test_evaluate_rerun_removes_its_own_stale_outputs_only(tiny_checkpoint, labelled_tsv, tmp_path, capsys):
    other = tmp_path / "other.tsv"
    shutil.copy(labelled_tsv, other)
    out = tmp_path / "eval"
    assert cli(capsys, "evaluate", tiny_checkpoint, "--test", labelled_tsv, other, "-o", out)[0] == 0
    assert (out / "matrix_auc.tsv").exists()
    (out / "mine.txt").write_text("keep me\n")
    assert cli(capsys, "evaluate", tiny_checkpoint, "--test", labelled_tsv, "-o", out)[0] == 0
    assert not (out / "matrix_auc.tsv").exists()  # ours, from the earlier run, no longer true
    assert (out / "mine.txt").read_text() == "keep me\n"


def test_install_meme_never_replaces_a_foreign_prefix(tmp_path, capsys):
    prefix = tmp_path / "home"
    prefix.mkdir()
    (prefix / "important.txt").write_text("do not delete\n")
    code, _, err = cli(capsys, "install-meme", "--prefix", prefix, "--force")
    assert_refused(code, err, "holds no MEME build of ours")
    assert (prefix / "important.txt").read_text() == "do not delete\n"


# ---------------------------------------------------------------- failure paths leave nothing

def test_a_failing_step_leaves_no_folder_and_no_stray_stage(tiny_checkpoint, labelled_tsv, tmp_path, capsys):
    output = tmp_path / "a" / "b" / "run"
    code, _, err = cli(capsys, "cad", tiny_checkpoint, labelled_tsv, "-o", output, "--confidence", "0.99999",
                         "--min-selected", "0")
    assert code == 2 and "correctly classified" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.tsv"]


def test_staged_publishes_together_and_cleans_up_on_failure(tmp_path):
    target = tmp_path / "new" / "out"
    with pytest.raises(RuntimeError):
        with staged(target) as stage:
            (stage.path / "half.tsv").write_text("x")
            raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []
    with staged(target) as stage:
        (stage.path / "a.tsv").write_text("1")
        (stage.path / "folder").mkdir()
    assert stage.names == ["a.tsv", "folder"] and (target / "a.tsv").read_text() == "1"
    (target / "user.txt").write_text("u")
    with staged(target, replaces=["a.tsv", "folder"]) as stage:
        (stage.path / "b.tsv").write_text("2")
    assert sorted(p.name for p in target.iterdir()) == ["b.tsv", "user.txt"]


def test_step_outputs_records_checksums_and_marks_the_folder_ours(tmp_path):
    with step_outputs(tmp_path / "run", "cad", {"config": {}}) as stage:
        (stage.path / "cad_kmer.tsv").write_text("token\tcad\n")
    record = json.loads((tmp_path / "run" / "provenance.json").read_text())
    assert record["tool"] == "medna-interp" and record["kind"] == "run"
    step = record["steps"]["cad"]
    assert step["outputs"] == {"cad_kmer.tsv": hashlib.sha256(b"token\tcad\n").hexdigest()}
    assert step["resources"]["wall_seconds"] >= 0 and step["resources"]["peak_rss_mb"] > 10


def test_claims_are_library_errors_that_are_value_errors(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="current directory"):
        claim_directory(".", "run")
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "f").write_text("")
    with pytest.raises(MednaError) as caught:
        claim_directory("x", "run")
    assert "--force" not in str(caught.value) and "--force" in caught.value.hint
    assert claim_directory("x", "run", force=True) == Path("x")
    with pytest.raises(MednaError, match="is a directory"):
        claim_file("x")
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        with pytest.raises(MednaError, match="cannot write"):
            claim_directory(locked / "out", "run")
