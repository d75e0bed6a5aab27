"""The workflow's default path (`start: pretrained`) on the four shared iDNA-MS sets, several
seeds: test AUC and MCC beside the linear baseline each checkpoint carries and the paper, and
CPU minutes per stage (Snakemake's benchmark record of every job).

    .venv/bin/python benchmarks/default_path_idna_ms.py --stage pretrain          # once
    .venv/bin/python benchmarks/default_path_idna_ms.py --stage train --seeds 0 1 2 [--threads 1]
    .venv/bin/python benchmarks/default_path_idna_ms.py --stage collect --seeds 0 1 2

Every option of the workflow is at its default (size tiny, `pretrain` and `train` with no
extra options) except `max_windows: 0` (the whole sets) and the seed. Each seed is its own
workflow output under benchmarks/work/default_path/seedS and reruns the domain-adaptive
stage and every per-set training with that seed. The masked-LM pretraining runs once, at
seed 0, and every seed's workflow starts from those encoders: they stand for the weights a
user would be given, and pretraining three times would cost more CPU than this machine had
for the benchmark. Resumable: a rerun continues where Snakemake stopped.

`collect` also scores the seeds' models of each set as one ensemble (their test
probabilities averaged) and as one model soup (their weights averaged), the cheapest of
the options the recipe rounds left open.

Writes benchmarks/results/default_path_idna_ms.json (rows, per-set summary with the
ensemble and the soup, CPU minutes per job) and .tsv (one row per set and seed).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import PAPER, RESULTS, ROOT, SETS, SHARED, machine, workflow_command, workflow_jobs  # noqa: E402

WORK = ROOT / "benchmarks" / "work" / "default_path"


def run_workflow(output: Path, seed: int, threads: int, target: str) -> None:
    # the shared pretraining was copied in, not made by this workflow: judge it by date alone
    command = workflow_command(output, threads, [
        "size=tiny", "max_windows=0", f"seed={seed}", f"threads={threads}", "pretrain_options=", "train_options=",
        "run_options="], target=output / target, options=("--rerun-triggers", "mtime"))
    subprocess.run(command + ["--unlock"], cwd=ROOT, check=True, capture_output=True)
    subprocess.run(command, cwd=ROOT, check=True)


def cpu_minutes(output: Path) -> dict:
    """Each job's wall and CPU minutes in a workflow output."""
    return {job: {"wall_minutes": round(r["wall_seconds"] / 60, 2), "cpu_minutes": round(r["cpu_seconds"] / 60, 2)}
            for job, r in workflow_jobs(output).items()}


def measured(name: str, seed: int, own) -> dict:
    """A set's row of test scores at one seed, from its own line of `evaluate`'s metrics.tsv."""
    return {"set": name, "seed": seed, "test_auc": round(float(own.auc), 4), "test_mcc": round(float(own.mcc), 4),
            "linear_test_auc": round(float(own.linear_auc), 4), "margin": round(float(own.auc - own.linear_auc), 4),
            "verdict": own.verdict}


def paper(name: str) -> dict:
    """The paper's test AUC and MCC for a set, where our notes have them."""
    return {"paper_auc": PAPER.get(name, {}).get("auc"), "paper_mcc": PAPER.get(name, {}).get("mcc")}


def seed_means(of_set: pd.DataFrame) -> dict:
    """The means over one set's seed rows, and how many seeds are above the linear baseline."""
    return {"mean_test_auc": round(of_set.test_auc.mean(), 4), "mean_test_mcc": round(of_set.test_mcc.mean(), 4),
            "mean_linear_test_auc": round(of_set.linear_test_auc.mean(), 4),
            "mean_margin": round(of_set.margin.mean(), 4), "seeds_above_linear": int((of_set.margin > 0).sum())}


def _combined(name: str, seeds: list[int]):
    """The seeds' models of one set combined two ways, scored on its test set: as an ensemble
    (test probabilities averaged) and as a soup (weights averaged into one model, which `run`
    could explain; the seeds start from the same pretrained encoders)."""
    import torch

    from medna_interp.core.metrics import binary_metrics
    from medna_interp.data.io import read_sequences
    from medna_interp.models.checkpoint import from_pretrained
    from medna_interp.models.predict import predict_proba

    test = read_sequences(SHARED / name / "test.tsv")
    models = [from_pretrained(WORK / f"seed{seed}" / "models" / name) for seed in seeds]
    ensemble = binary_metrics(test.labels, np.mean([predict_proba(m, test.sequences) for m in models], axis=0))
    states = [m.state_dict() for m in models]
    models[0].load_state_dict({key: torch.stack([s[key] for s in states]).mean(0) if value.is_floating_point()
                               else value for key, value in states[0].items()})
    return ensemble, binary_metrics(test.labels, predict_proba(models[0], test.sequences))


def collect(seeds: list[int]) -> None:
    rows, stages = [], {"pretrain (seed 0, shared)": cpu_minutes(WORK / "pretrain")}
    for seed in seeds:
        output = WORK / f"seed{seed}"
        metrics = pd.read_csv(output / "evaluation" / "metrics.tsv", sep="\t")
        stages[f"seed {seed}"] = cpu_minutes(output)
        for name in SETS:
            config = json.loads((output / "models" / name / "config.json").read_text())["provenance"]
            own = metrics[(metrics.checkpoint == name) & (metrics.dataset == name)].iloc[0]
            rows.append({**measured(name, seed, own), "best_epoch": config["training"]["best_epoch"],
                         "epochs_run": len(config["training"]["history"]), **paper(name)})
    table = pd.DataFrame(rows)
    summary = []
    for name in SETS:
        of_set = table[table.set == name]
        ensemble, soup = _combined(name, seeds)
        summary.append({"set": name, "seeds": len(of_set), **seed_means(of_set),
                        "ensemble_test_auc": round(ensemble.auc, 4), "ensemble_test_mcc": round(ensemble.mcc, 4),
                        "soup_test_auc": round(soup.auc, 4), "soup_test_mcc": round(soup.mcc, 4)})
    RESULTS.mkdir(exist_ok=True)
    table.to_csv(RESULTS / "default_path_idna_ms.tsv", sep="\t", index=False)
    result = {"benchmark": "default_path_idna_ms", "machine": machine(), "seeds": seeds, "rows": rows,
              "summary": summary, "stages": stages}
    (RESULTS / "default_path_idna_ms.json").write_text(json.dumps(result, indent=2) + "\n")
    print(pd.DataFrame(summary).to_string(index=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stage", choices=("pretrain", "train", "collect"), required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    shared = WORK / "pretrain" / "encoders" / "pretrained"
    if args.stage == "pretrain":
        run_workflow(WORK / "pretrain", 0, args.threads, "encoders/pretrained")
    elif args.stage == "train":
        for seed in args.seeds:
            output = WORK / f"seed{seed}"
            if not (output / "encoders" / "pretrained").exists():
                shutil.copytree(shared, output / "encoders" / "pretrained")
            run_workflow(output, seed, args.threads, "evaluation/metrics.tsv")
    else:
        collect(args.seeds)


if __name__ == "__main__":
    main()
