"""The Snakemake workflow over the four shared iDNA-MS sets at the small size, no subsampling:
wall time per rule and the summary table.

    .venv/bin/python benchmarks/workflow_idna_ms.py [--size small] [--cores 2]

Resumable: rerunning continues where Snakemake stopped (benchmarks/work/workflow_SIZE).
Writes benchmarks/results/workflow_idna_ms_SIZE.json and .tsv (the summary table).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RESULTS, ROOT, machine, workflow_command, workflow_jobs  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="small")
    parser.add_argument("--cores", type=int, default=2)
    args = parser.parse_args()
    output = ROOT / "benchmarks" / "work" / f"workflow_{args.size}"
    command = workflow_command(output, args.cores, [f"size={args.size}", "max_windows=0", f"threads={args.cores}",
                                                   "train_options=", "run_options="])
    # a run killed part-way leaves Snakemake's lock behind; resuming must clear it first
    subprocess.run(command + ["--unlock"], cwd=ROOT, check=True, capture_output=True)
    start = time.time()
    subprocess.run(command, cwd=ROOT, check=True)
    wall = time.time() - start
    steps = {}
    for log in sorted((output / "runs").glob("*/provenance.json")):
        record = json.loads(log.read_text())["steps"]
        steps[log.parent.name] = {step: r.get("resources", {}).get("wall_seconds") for step, r in record.items()}
    training = {}
    for config in sorted((output / "models").glob("*/config.json")):
        record = json.loads(config.read_text())["provenance"]
        training[config.parent.name] = {"best_epoch": record["training"]["best_epoch"],
                                        "epochs_run": len(record["training"]["history"]),
                                        "wall_seconds": record["resources"]["wall_seconds"]}
    result = {"machine": machine(), "size": args.size, "cores": args.cores, "command": " ".join(command[1:]),
              "wall_seconds_this_invocation": round(wall, 1), "jobs": workflow_jobs(output), "run_step_seconds": steps,
              "training": training,
              "summary": (output / "summary" / "summary.tsv").read_text()}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"workflow_idna_ms_{args.size}.json").write_text(json.dumps(result, indent=2) + "\n")
    shutil.copyfile(output / "summary" / "summary.tsv", RESULTS / f"workflow_idna_ms_{args.size}.tsv")
    print(f"wall {wall / 60:.1f} min; wrote {RESULTS}/workflow_idna_ms_{args.size}.json")


if __name__ == "__main__":
    main()
