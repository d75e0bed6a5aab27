"""Train the small MEDNA-DFM from scratch on a real iDNA-MS dataset and score its test set.

    .venv/bin/python benchmarks/train_idna_ms.py [--dataset 6mA_D.melanogaster] [--epochs 8]

Writes benchmarks/results/train_<dataset>.json: test ACC/Sn/Sp/MCC/AUC/AUPRC, the best
epoch (chosen on a validation split of the training file), and wall time. Needs
../shared/data/idna_ms/.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import torch

from common import SHARED, machine, save


def main() -> None:
    from medna_interp.training.evaluate import evaluate
    from medna_interp.training.train import TrainConfig, train

    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", default="6mA_D.melanogaster")
    parser.add_argument("--size", default="small")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--fgm-epsilon", type=float, default=0.0)
    parser.add_argument("--flood", type=float, default=0.06)
    parser.add_argument("--warmup", type=float, default=0.1)
    args = parser.parse_args()
    folder = SHARED / args.dataset
    if not folder.exists():
        raise SystemExit(f"{folder} not found: this benchmark needs the shared iDNA-MS data")
    torch.set_num_threads(2)
    config = TrainConfig(epochs=args.epochs, lr=args.lr, fgm_epsilon=args.fgm_epsilon, flood=args.flood,
                         warmup=args.warmup, patience=3, keep="best", seed=0)
    with tempfile.TemporaryDirectory() as work:
        start = time.perf_counter()
        checkpoint, result = train(folder / "train.tsv", Path(work) / "ckpt", size=args.size, config=config,
                                   device="cpu", progress=False)
        train_seconds = time.perf_counter() - start
        (row,) = evaluate([checkpoint], [folder / "test.tsv"], Path(work) / "eval", device="cpu")
    payload = {"benchmark": "train_idna_ms", "dataset": args.dataset, "size": args.size, "train": asdict(config),
               "best_epoch": result.best_epoch, "epochs_run": len(result.history),
               "validation": result.validation, "test": row, "train_minutes": round(train_seconds / 60, 1),
               "machine": machine()}
    path = save(f"train_{args.dataset}", payload)
    print(f"test AUC {row['auc']:.4f} ACC {row['acc']:.4f} MCC {row['mcc']:.4f} in "
          f"{train_seconds / 60:.1f} min; wrote {path}")


if __name__ == "__main__":
    main()
