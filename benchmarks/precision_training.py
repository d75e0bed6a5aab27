"""Training at bf16 against fp32 on D. melanogaster (small size, from scratch): seconds per
epoch and the validation and test AUC, both runs with the same seed, split and epochs.

    .venv/bin/python benchmarks/precision_training.py [--epochs 6]

Writes benchmarks/results/precision_training.json.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from common import SHARED, machine, save


def main() -> None:
    from medna_interp.training.evaluate import evaluate
    from medna_interp.training.train import TrainConfig, train

    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=6)
    args = parser.parse_args()
    torch.set_num_threads(2)
    folder = SHARED / "6mA_D.melanogaster"
    runs = {}
    for precision in ("fp32", "bf16"):
        with tempfile.TemporaryDirectory() as work:
            wall = time.perf_counter()
            # patience = epochs: both runs train every epoch, so epoch times compare like for like
            checkpoint, result = train(folder / "train.tsv", Path(work) / "ckpt", size="small", device="cpu",
                                       config=TrainConfig(epochs=args.epochs, patience=args.epochs, keep="best", seed=0,
                                                          precision=precision), progress=False)
            wall = time.perf_counter() - wall
            (row,) = evaluate([checkpoint], [folder / "test.tsv"], Path(work) / "eval", device="cpu")
        seconds = [epoch["seconds"] for epoch in result.history]
        runs[precision] = {"epochs": len(seconds), "mean_epoch_s": round(float(np.mean(seconds)), 1),
                           "best_epoch": result.best_epoch, "valid_auc": round(result.validation["auc"], 4),
                           "test_auc": round(row["auc"], 4), "wall_minutes": round(wall / 60, 1)}
        print(precision, runs[precision], flush=True)
    payload = {"benchmark": "precision_training", "set": "6mA_D.melanogaster", "size": "small",
               "machine": machine(), "runs": runs,
               "epoch_time_ratio": round(runs["fp32"]["mean_epoch_s"] / runs["bf16"]["mean_epoch_s"], 2),
               "valid_auc_difference": round(runs["bf16"]["valid_auc"] - runs["fp32"]["valid_auc"], 4)}
    print(f"wrote {save('precision_training', payload)}")


if __name__ == "__main__":
    main()
