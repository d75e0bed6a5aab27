"""Insertion and pair spacing on the real D. melanogaster 6mA test set, with the small model
of `mutagenesis_dmel.py`: GAGG (the paper's core) and an A-tract (AAAAA), each placed at
every start on both strands into shuffled test windows and into negatives, and the pair
GAGG,AAAAA. No direction is expected: this records what the model does.

    .venv/bin/python benchmarks/insertion_dmel.py [--checkpoint DIR] [--backgrounds 100]

Without --checkpoint it uses (or trains, with `train --size small` defaults)
benchmarks/work/dmel_small. Writes benchmarks/results/insertion_dmel.json and the full
tables and plots under benchmarks/work/dmel_insertion.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RESULTS, ROOT, SHARED, machine  # noqa: E402


def main() -> None:
    from medna_interp.causal.insertion_run import run_insertion
    from medna_interp.core.settings import Common
    from medna_interp.training.train import train

    parser = argparse.ArgumentParser()
    parser.add_argument("--checkpoint", type=Path)
    parser.add_argument("--backgrounds", type=int, default=100)
    parser.add_argument("--bootstrap", type=int, default=1000)
    args = parser.parse_args()
    torch.set_num_threads(2)
    folder = SHARED / "6mA_D.melanogaster"
    checkpoint = args.checkpoint or ROOT / "benchmarks" / "work" / "dmel_small"
    if not (checkpoint / "model.safetensors").exists():
        train(folder / "train.tsv", checkpoint, size="small", device="cpu", progress=False)
    out = ROOT / "benchmarks" / "work" / "dmel_insertion"
    start = time.perf_counter()
    result = run_insertion(checkpoint, folder / "test.tsv", out, ["GAGG", "AAAAA"], pairs=["GAGG,AAAAA"],
                           n_backgrounds=args.backgrounds, bootstrap=args.bootstrap, common=Common(device="cpu"),
                           force=True)
    seconds = time.perf_counter() - start
    pairs = result.pairs
    spacing = {}
    for (kind, orientation), part in pairs.groupby(["background", "orientation"]):
        inside = part.offset_b.between(5, 11)
        spacing[f"{kind}/{orientation}"] = {
            "mean_given_a_starts_5_11": float(part[inside].delta_p_given_a.mean()),
            "mean_given_a_elsewhere": float(part[~inside].delta_p_given_a.mean())}
    config = json.loads((checkpoint / "config.json").read_text())
    payload = {"checkpoint": str(checkpoint), "model_validation_auc": config["metrics"]["validation"]["auc"],
               "n_backgrounds": args.backgrounds, "wall_seconds": round(seconds, 1), "motifs": result.summary,
               "pairs": result.pair_summary, "spacing_upstream_vs_elsewhere": spacing, "machine": machine()}
    (RESULTS / "insertion_dmel.json").write_text(json.dumps(payload, indent=2, default=float) + "\n")
    for entry in result.summary:
        best, control = entry["best"], entry["control"]
        print(f"{entry['motif']} into {entry['background']}: best start {best['offset']} ({best['strand']}) "
              f"dP {best['mean_delta_p']:+.4f} [{best['ci_low']:+.4f}, {best['ci_high']:+.4f}]; control "
              f"{control['sequence']} {control['mean_delta_p']:+.4f} [{control['ci_low']:+.4f}, {control['ci_high']:+.4f}]")
    for entry in result.pair_summary:
        print(f"pair {entry['background']} {entry['orientation']}: best B start {entry['best_offset_b']}, "
              f"P(AB)-P(A) {entry['delta_p_given_a']:+.4f}, interaction {entry['interaction']:+.4f} "
              f"[{entry['interaction_low']:+.4f}, {entry['interaction_high']:+.4f}]")
    print(json.dumps(spacing, indent=1))


if __name__ == "__main__":
    main()
