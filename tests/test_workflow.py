"""The Snakemake workflow over many datasets (pipelines/Snakefile) and its config check."""

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import DEMO_CHECKPOINT
from medna_interp.core.errors import MednaError
from medna_interp.data.synth import write_synthetic
from medna_interp.workflow import IDNA_MS, check_config, subsample, write_config

pytest.importorskip("snakemake")

REPO = Path(__file__).resolve().parents[1]
SNAKEFILE = REPO / "pipelines" / "Snakefile"
SHARED = REPO.parent / "shared" / "data" / "idna_ms"
SHARED_SETS = ["4mC_C.equisetifolia", "5hmC_M.musculus", "6mA_C.elegans", "6mA_D.melanogaster"]


def snakemake(config: Path, workdir: Path, *extra: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "snakemake", "-s", str(SNAKEFILE), "--configfile", str(config),
               "--cores", "2", *extra]
    return subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=1200)


def planned_jobs(result: subprocess.CompletedProcess) -> dict[str, int]:
    """rule -> count from the 'Job stats' table of a dry run."""
    text = result.stdout + result.stderr
    assert "Job stats:" in text, text[-2000:]
    table = text.split("Job stats:", 1)[1]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M) if m.group(1) != "total"}


def tiny_tree(root: Path, names) -> Path:
    for name in names:
        (root / name).mkdir(parents=True)
        for split in ("train", "test"):
            (root / name / f"{split}.tsv").write_text("index\tlabel\ttext\n0\t1\t" + "A" * 41 + "\n")
    return root


def test_the_shipped_config_names_the_17_idna_ms_datasets():
    config = yaml.safe_load((REPO / "pipelines" / "config" / "idna_ms.yaml").read_text())
    assert set(config["datasets"]) == set(IDNA_MS) and len(IDNA_MS) == 17
    assert {entry["modification"] for entry in config["datasets"].values()} == {"4mC", "5hmC", "6mA"}


def test_a_dry_run_over_all_17_datasets_plans_every_job(tmp_path):
    tree = tiny_tree(tmp_path / "data", IDNA_MS)
    out = tmp_path / "out"
    result = snakemake(REPO / "pipelines" / "config" / "idna_ms.yaml", tmp_path, "-n",
                       "--config", f"data_root={tree}", f"output={out}")
    assert result.returncode == 0, result.stderr[-2000:]
    # one pretraining, one domain-adaptive stage per modification type (4mC, 5hmC, 6mA), then each set
    assert planned_jobs(result) == {"pretrain": 1, "adapt": 3, "train": 17, "evaluate": 1, "explain": 17,
                                    "summary": 1, "all": 1}
    # subsampled smoke runs add one job per file; a reused checkpoint takes its dataset out of training
    config = yaml.safe_load((REPO / "pipelines" / "config" / "idna_ms.yaml").read_text())
    config.update(data_root=str(tree), output=str(out), max_windows=100)
    config["datasets"]["6mA_D.melanogaster"]["checkpoint"] = str(DEMO_CHECKPOINT)
    (tmp_path / "reuse.yaml").write_text(yaml.safe_dump(config))
    result = snakemake(tmp_path / "reuse.yaml", tmp_path, "-n")
    assert result.returncode == 0, result.stderr[-2000:]
    assert planned_jobs(result) == {"subsample": 33, "pretrain": 1, "adapt": 3, "train": 16, "evaluate": 1,
                                    "explain": 17, "summary": 1, "all": 1}
    assert not out.exists()


def test_the_slurm_profile_asks_for_gpus_and_runs_their_rules_on_cuda(tmp_path):
    pytest.importorskip("snakemake_executor_plugin_slurm")
    tree = tiny_tree(tmp_path / "data", ["6mA_D.melanogaster"])
    result = snakemake(REPO / "pipelines" / "config" / "idna_ms.yaml", tmp_path, "-n", "-p",
                       "--profile", str(REPO / "pipelines" / "profiles" / "slurm"),
                       "--config", f"data_root={tree}", f"output={tmp_path / 'out'}", "only=[6mA_D.melanogaster]")
    assert result.returncode == 0, result.stderr[-2000:]
    text = result.stdout + result.stderr
    commands = [line for line in text.splitlines() if "-m medna_interp " in line]
    train = next(c for c in commands if " train " in c)
    summary = next(c for c in commands if " summary " in c)
    assert "--device cuda" in train and "--device" not in summary
    assert re.search(r"rule train:(.|\n)*?resources:.*slurm_partition=gpu.*gpu=1", text)


def _commands(result: subprocess.CompletedProcess, command: str) -> list[str]:
    text = result.stdout + result.stderr
    return [line for line in text.splitlines() if f"-m medna_interp {command} " in line]


def test_the_default_path_pretrains_on_training_files_only_and_adapts_per_modification(tmp_path):
    names = ["6mA_D.melanogaster", "6mA_C.elegans", "5hmC_M.musculus"]
    tree = tiny_tree(tmp_path / "data", names)
    config = {"output": str(tmp_path / "out"), "data_root": str(tree),
              "datasets": {n: {"modification": n.split("_")[0], "jaspar_tax": "all"} for n in names}}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    result = snakemake(tmp_path / "c.yaml", tmp_path, "-n", "-p")
    assert result.returncode == 0, result.stderr[-2000:]
    # one stage for the two 6mA sets, one on all three training files for the lone 5hmC set
    assert planned_jobs(result) == {"pretrain": 1, "adapt": 2, "train": 3, "evaluate": 1, "explain": 3,
                                    "summary": 1, "all": 1}
    (pretrain,) = _commands(result, "pretrain")
    reads, held_out = pretrain.split(" --exclude ")[0], pretrain.split(" --exclude ")[1].split(" -o ")[0]
    assert all(str(tree / n / "train.tsv") in reads and str(tree / n / "test.tsv") in held_out for n in names)
    assert "test.tsv" not in reads and "--size tiny" in pretrain
    adapts = {c.split(" -o ")[1].split()[0].rsplit("/", 1)[1]: c for c in _commands(result, "train")
              if "adaptive_models" in c}
    pooled = {group: command.split(" -o ")[0] for group, command in adapts.items()}
    assert set(adapts) == {"6mA", "all_types"} and all("encoders/pretrained/kmer" in c for c in adapts.values())
    assert str(tree / "6mA_D.melanogaster" / "train.tsv") in pooled["6mA"] and "5hmC" not in pooled["6mA"]
    assert all(str(tree / n / "train.tsv") in pooled["all_types"] for n in names) and "test.tsv" not in pooled["all_types"]
    trains = {n: next(c for c in _commands(result, "train") if f"models/{n} " in c) for n in names}
    # the 6mA sets start from their type's adapted encoders, the lone 5hmC set from those of all types
    assert "encoders/adapted/6mA/kmer" in trains["6mA_C.elegans"] and "encoders/adapted/6mA/bpe" in trains["6mA_C.elegans"]
    assert "encoders/adapted/all_types/kmer" in trains["5hmC_M.musculus"] and "--size" not in trains["5hmC_M.musculus"]
    # without the adaptive stage every set starts from the pretrained encoders
    result = snakemake(tmp_path / "c.yaml", tmp_path, "-n", "-p", "--config", "adapt=false")
    assert "adapt" not in planned_jobs(result)
    assert all("encoders/pretrained/kmer" in c for c in _commands(result, "train"))
    # from scratch: no pretraining, each set at the config's size
    result = snakemake(tmp_path / "c.yaml", tmp_path, "-n", "-p", "--config", "start=scratch")
    assert planned_jobs(result) == {"train": 3, "evaluate": 1, "explain": 3, "summary": 1, "all": 1}
    assert all("--size tiny" in c and "--kmer-encoder" not in c for c in _commands(result, "train"))


def _two_sets(tmp_path):
    tree = tiny_tree(tmp_path / "data", ["6mA_D.melanogaster", "5hmC_M.musculus"])
    config = {"output": str(tmp_path / "out"), "data_root": str(tree),
              "datasets": {"6mA_D.melanogaster": {"modification": "6mA", "jaspar_tax": "insects"},
                           "5hmC_M.musculus": {"modification": "5hmC", "jaspar_tax": "vertebrates"}}}
    return tree, config


@pytest.mark.parametrize("change, message", [
    (lambda c, tree: c["datasets"]["6mA_D.melanogaster"].update(jaspar_tax="martians"),
     "dataset 6mA_D.melanogaster: unknown JASPAR taxonomic group 'martians'"),
    (lambda c, tree: (tree / "5hmC_M.musculus" / "test.tsv").unlink(),
     "dataset 5hmC_M.musculus: test file"),
])
def test_a_bad_config_stops_snakemake_before_any_job_with_one_line(tmp_path, change, message):
    tree, config = _two_sets(tmp_path)
    change(config, tree)
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(config))
    result = snakemake(tmp_path / "bad.yaml", tmp_path)
    assert result.returncode != 0
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0] and str(tmp_path / "bad.yaml") in lines[0], lines
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("change, message", [
    (lambda c: c.update(only=["6mA_X"]), "'only' names '6mA_X', which is not under 'datasets'"),
    (lambda c: c.update(size="huge"), "size must be one of tiny, small, base"),
    (lambda c: c.update(max_windows=5), "max_windows must be an integer >= 10"),
    (lambda c: c.update(start="pretrain"), "start must be one of pretrained, scratch, got 'pretrain'"),
    (lambda c: c.update(adapt="yes"), "adapt must be true or false"),
    (lambda c: c.update(colour="red"), "unknown key 'colour'"),
    (lambda c: c["datasets"]["5hmC_M.musculus"].pop("modification"), "'modification' is missing"),
    (lambda c: c["datasets"]["5hmC_M.musculus"].update(modification="all_types"), "names the pooled adaptive stage"),
])
def test_check_config_names_what_is_wrong(tmp_path, change, message):
    _, config = _two_sets(tmp_path)
    change(config)
    with pytest.raises(MednaError, match=re.escape(message)):
        check_config(config, "my.yaml")


def test_check_config_reads_defaults_and_reused_checkpoints(tmp_path):
    tree = tiny_tree(tmp_path, ["a_set"])
    flow = check_config({"data_root": str(tree), "datasets": {
        "a_set": {"modification": "6mA", "jaspar_tax": "all"},
        "demo": {"modification": "6mA", "jaspar_tax": "insects", "checkpoint": str(DEMO_CHECKPOINT),
                 "test": str(tree / "a_set" / "test.tsv")}}})
    assert flow.size == "tiny" and flow.max_windows is None and flow.threads == 2
    # the default path starts from pretrained encoders; one trained 6mA set has nothing to pool
    assert flow.start == "pretrained" and flow.adapt and flow.trained == ["a_set"] and flow.adaptive_groups == {}
    assert flow.datasets["a_set"].train == tree / "a_set" / "train.tsv"
    assert flow.datasets["demo"].train is None and flow.datasets["demo"].checkpoint == DEMO_CHECKPOINT
    with pytest.raises(MednaError, match="not a checkpoint directory"):
        check_config({"datasets": {"x": {"modification": "6mA", "jaspar_tax": "all", "checkpoint": str(tree)}}})


def test_subsample_keeps_the_class_shares_and_the_file_order(tmp_path):
    data = write_synthetic(tmp_path / "d", n_train=0, n_test=300, seed=4) / "test.tsv"
    small = pd.read_csv(subsample(data, tmp_path / "s.tsv", 60, seed=0), sep="\t")
    full = pd.read_csv(data, sep="\t")
    assert len(small) == 60 and small.label.sum() == 30
    assert small["index"].tolist() == sorted(small["index"], key=full["index"].tolist().index)


def test_write_config_names_the_known_datasets_and_never_overwrites(tmp_path):
    tree = tiny_tree(tmp_path / "data", ["6mA_C.elegans", "5mC_new.species"])
    path = write_config(tree, tmp_path / "mine.yaml")
    config = yaml.safe_load(path.read_text())
    assert config["datasets"] == {"5mC_new.species": {"modification": "5mC", "jaspar_tax": "all"},
                                  "6mA_C.elegans": {"modification": "6mA", "jaspar_tax": "nematodes"}}
    check_config(config)
    with pytest.raises(MednaError, match="exists"):
        write_config(tree, path)


@pytest.mark.skipif(not all((SHARED / n / "test.tsv").exists() for n in SHARED_SETS), reason="no shared data")
def test_the_four_shared_datasets_end_in_a_summary_and_rerun_only_what_was_deleted(tmp_path):
    out = tmp_path / "out"
    # this test is about the workflow's jobs: the null, the raw and linear sources and the BPE view, each
    # with tests of its own, are left out of the explain jobs
    overrides = ["--config", f"data_root={SHARED}", f"output={out}", "max_windows=120", "threads=1",
                 "pretrain_options=--epochs 1", "train_options=--epochs 1", "run_options=--n-samples 8 --steps 4 --insert-backgrounds 4 "
                 "--nmotifs 1 --no-raw --no-linear --no-permute-labels --min-selected 5 --no-embed --view kmer"]
    config = REPO / "pipelines" / "config" / "idna_ms_shared.yaml"
    result = snakemake(config, tmp_path, *overrides)
    assert result.returncode == 0, result.stderr[-3000:]
    table = pd.read_csv(out / "summary" / "summary.tsv", sep="\t")
    assert table.dataset.tolist() == SHARED_SETS
    assert table.modification.tolist() == ["4mC", "5hmC", "6mA", "6mA"] and table.auc.between(0, 1).all()
    # each model beside the linear baseline kept in it, on the same test set, and the verdict
    assert table.linear_test_auc.between(0, 1).all()
    assert (table.test_margin - (table.auc - table.linear_test_auc)).abs().max() < 1e-9
    assert set(table.verdict) <= {"adds", "near", "below"}
    assert (out / "encoders" / "pretrained" / "kmer").is_dir() and (out / "encoders" / "adapted" / "6mA" / "bpe").is_dir()
    assert (out / "encoders" / "adapted" / "all_types" / "kmer").is_dir()
    page = (out / "summary" / "summary.html").read_text()
    assert all(f"../runs/{n}/report.html" in page for n in SHARED_SETS) and "transfer" in page
    assert "src='http" not in page and 'src="http' not in page

    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file() and ".snakemake" not in p.parts}
    (out / "runs" / "5hmC_M.musculus" / "report.html").unlink()
    plan = snakemake(config, tmp_path, *overrides, "-n")
    assert planned_jobs(plan) == {"explain": 1, "summary": 1, "all": 1}
    result = snakemake(config, tmp_path, *overrides)
    assert result.returncode == 0, result.stderr[-3000:]
    changed = {p.relative_to(out).parts[:2] for p, t in before.items() if not p.exists() or p.stat().st_mtime_ns != t}
    assert changed <= {("runs", "5hmC_M.musculus"), ("summary", "summary.tsv"), ("summary", "summary.html"),
                       ("summary", "provenance.json"), ("logs", "explain"), ("logs", "summary.log"),
                       ("benchmarks", "explain"), ("benchmarks", "summary.tsv")}
    # Snakemake's per-job record: wall and CPU seconds, peak memory
    record = pd.read_csv(out / "benchmarks" / "explain" / "5hmC_M.musculus.tsv", sep="\t")
    assert {"s", "cpu_time", "max_rss"} <= set(record.columns) and record.s.iloc[0] > 0
    assert (out / "runs" / "5hmC_M.musculus" / "report.html").exists()
    # the resumed run redid its report only: the model steps kept their outputs
    cad = out / "runs" / "5hmC_M.musculus" / "cad_kmer.tsv"
    assert before[cad] == cad.stat().st_mtime_ns
