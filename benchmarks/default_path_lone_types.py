"""The workflow's default path on the two shared sets the all-types adaptive stage changes.

4mC C. equisetifolia and 5hmC M. musculus are the only sets of their modification types among
the four shared ones. Until commit 04163a8 they trained from the pretrained encoders
(`default_path_idna_ms.json`); now they start from encoders adapted on the four training files
pooled (the workflow's `adapt/all_types` job). The 6mA sets' path (pretraining, 6mA adaptive
stage, training) did not change, so their rows are carried over from `default_path_idna_ms.json`.

    .venv/bin/python benchmarks/default_path_lone_types.py --stage train --seeds 0 --threads 1
    .venv/bin/python benchmarks/default_path_lone_types.py --stage collect --seeds 0 1 2

`train` runs the workflow itself, every option at the default path's (as in
default_path_idna_ms.py), with the two sets' models as targets, then scores each on its test
set with `evaluate`. It shares default_path_idna_ms.py's work folders (and its shared
pretraining, which `default_path_idna_ms.py --stage pretrain` makes), so a later full run of
that benchmark reuses these jobs. One process per seed runs them side by side.

Writes benchmarks/results/default_path_lone_types.json (rows, the four-set summary with the
6mA rows carried over, CPU minutes per job) and .tsv (one row per set and seed).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RESULTS, ROOT, SETS, SHARED, machine  # noqa: E402
from default_path_idna_ms import WORK, cpu_minutes, measured, paper, run_workflow, seed_means  # noqa: E402

LONE = ["4mC_C.equisetifolia", "5hmC_M.musculus"]


def train(seed: int, threads: int) -> None:
    output = WORK / f"seed{seed}"
    if not (output / "encoders" / "pretrained").exists():
        shutil.copytree(WORK / "pretrain" / "encoders" / "pretrained", output / "encoders" / "pretrained")
    for name in LONE:
        run_workflow(output, seed, threads, f"models/{name}/model.safetensors")
        scores = output / "lone_evaluation" / name
        if not (scores / "metrics.tsv").exists():
            subprocess.run([sys.executable, "-m", "medna_interp", "evaluate", str(output / "models" / name),
                            "--test", str(SHARED / name / "test.tsv"), "-o", str(scores), "--device", "cpu"],
                           cwd=ROOT, check=True, capture_output=True)


def collect(seeds: list[int]) -> None:
    before = json.loads((RESULTS / "default_path_idna_ms.json").read_text())
    rows, stages = [], {}
    for seed in seeds:
        output = WORK / f"seed{seed}"
        stages[f"seed {seed}"] = {job: minutes for job, minutes in cpu_minutes(output).items()
                                  if job == "adapt/all_types" or job.split("/")[-1] in LONE}
        for name in LONE:
            own = pd.read_csv(output / "lone_evaluation" / name / "metrics.tsv", sep="\t").iloc[0]
            earlier = next(r for r in before["rows"] if r["set"] == name and r["seed"] == seed)
            rows.append({**measured(name, seed, own), "test_auc_before": earlier["test_auc"], **paper(name)})
    carried = [r for r in before["rows"] if r["set"] not in LONE and r["seed"] in seeds]
    table = pd.DataFrame(rows)
    every = pd.concat([table, pd.DataFrame(carried)], ignore_index=True)
    summary = []
    for name in SETS:
        of_set = every[every.set == name]
        summary.append({"set": name, "seeds": len(of_set), "from": "this run" if name in LONE else "carried over",
                        **seed_means(of_set), "seed0_margin": round(float(of_set[of_set.seed == 0].margin.iloc[0]), 4)
                        if (of_set.seed == 0).any() else None})
    RESULTS.mkdir(exist_ok=True)
    table.to_csv(RESULTS / "default_path_lone_types.tsv", sep="\t", index=False)
    result = {"benchmark": "default_path_lone_types", "machine": machine(), "seeds": seeds, "rows": rows,
              "summary": summary, "stages": stages}
    (RESULTS / "default_path_lone_types.json").write_text(json.dumps(result, indent=2) + "\n")
    print(pd.DataFrame(summary).to_string(index=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stage", choices=("train", "collect"), required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    if args.stage == "train":
        for seed in args.seeds:
            train(seed, args.threads)
    else:
        collect(args.seeds)


if __name__ == "__main__":
    main()
