"""Shared set-up for the benchmarks: models of a named size and benchmark windows."""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"
SHARED = ROOT.parent / "shared" / "data" / "idna_ms"
#: the four shared iDNA-MS sets, and what the paper reports for MEDNA-DFM on them where our
#: notes have it (AUC; MCC with and without its domain-adaptive stage for C. equisetifolia)
SETS = ("6mA_D.melanogaster", "6mA_C.elegans", "5hmC_M.musculus", "4mC_C.equisetifolia")
PAPER = {"6mA_D.melanogaster": {"auc": 0.9755},
         "4mC_C.equisetifolia": {"mcc": 0.7664, "mcc_without_adaptive_stage": 0.6679}}


def windows(n: int, seed: int = 0) -> tuple[list[str], list[int], str]:
    """n labelled windows: real D. melanogaster test windows when present, else synthetic."""
    from medna_interp.data.io import read_sequences

    path = SHARED / "6mA_D.melanogaster" / "test.tsv"
    if path.exists():
        import numpy as np

        data = read_sequences(path)  # the file lists positives first: take both classes, interleaved
        rows = np.column_stack([np.flatnonzero(data.labels == 1)[: n // 2],
                                np.flatnonzero(data.labels == 0)[: n // 2]]).ravel()
        return [data.sequences[i] for i in rows], data.labels[rows].tolist(), str(path)
    from medna_interp.data.synth import Grammar, generate
    import numpy as np

    rows, _ = generate(Grammar(), n, np.random.default_rng(seed), "s")
    return [r[2] for r in rows], [r[1] for r in rows], "synthetic"


def model_of_size(size: str, sequences: list[str], seed: int = 0):
    from medna_interp.models.sizes import SIZES, new_model
    from medna_interp.data.tokenize import train_bpe_tokenizer

    torch.manual_seed(seed)
    return new_model(size, train_bpe_tokenizer(sequences, SIZES[size]["bpe_vocab"])).eval()


def machine() -> dict:
    return {"python": platform.python_version(), "torch": torch.__version__, "threads": torch.get_num_threads(),
            "cpu": platform.processor() or platform.machine()}


def matmul_peak_gflops(rows: int = 2432, inner: int = 768, cols: int = 3072, repeats: int = 20,
                       dtype: torch.dtype = torch.float32) -> float:
    """Matrix-multiply throughput (fp32 unless ``dtype``) of this machine at the current
    thread count: the ceiling for any implementation dominated by linear layers."""
    import time

    a, b = torch.randn(rows, inner, dtype=dtype), torch.randn(inner, cols, dtype=dtype)
    for _ in range(3):
        a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return round(2 * rows * inner * cols * repeats / (time.perf_counter() - start) / 1e9, 1)


def save(name: str, payload: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path


def workflow_command(output: Path, cores: int, settings: list[str], target: Path | None = None,
                     options: tuple[str, ...] = ()) -> list[str]:
    """Snakemake over the four shared sets with our local profile; ``settings`` are
    ``key=value`` config overrides, put last because ``--config`` takes every word that
    follows; ``options`` are further Snakemake options."""
    return [sys.executable, "-m", "snakemake", *([str(target)] if target else []), *options,
            "-s", str(ROOT / "pipelines" / "Snakefile"),
            "--configfile", str(ROOT / "pipelines" / "config" / "idna_ms_shared.yaml"),
            "--profile", str(ROOT / "pipelines" / "profiles" / "local"), "--cores", str(cores),
            "--config", f"data_root={SHARED}", f"output={output}", *settings]


def workflow_jobs(output: Path) -> dict:
    """Snakemake's record of each job of a workflow output: CPU seconds hold even where the
    machine was shared."""
    import pandas as pd

    jobs = {}
    for record in sorted((output / "benchmarks").rglob("*.tsv")):
        row = pd.read_csv(record, sep="\t").iloc[0]
        jobs[str(record.relative_to(output / "benchmarks").with_suffix(""))] = {
            "wall_seconds": round(float(row.s), 1), "cpu_seconds": round(float(row.cpu_time), 1),
            "max_rss_mb": round(float(row.max_rss), 1)}
    return jobs
