"""The paper's Fig. 7 experiment on the real D. melanogaster 6mA test set: GAGG -> CTCC and
A-tract AAAA -> TATA in the positives, with a small model trained here by `train`.

    .venv/bin/python benchmarks/mutagenesis_dmel.py [--checkpoint DIR]

Without --checkpoint it trains `--size small` with the default recipe into
benchmarks/work/dmel_small (kept, so a rerun reuses it). Writes
benchmarks/results/mutagenesis_dmel.json beside the paper's numbers.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RESULTS, ROOT, SHARED, machine  # noqa: E402

#: the paper's Fig. 7 (method.md): SN/SP/ACC/AUC/MCC per group
PAPER = {"wild_type": {"sn": 0.9298, "sp": 0.9299, "acc": 0.9298, "auc": 0.9755, "mcc": 0.8597},
         "GAGG=CTCC": {"sn": 0.8810, "sp": 0.9299},
         "AAAA=TATA": {"sn": 0.8574, "sp": 0.9299},
         "all": {"sn": None, "sp": 0.9299, "acc": 0.8622, "auc": 0.9441, "mcc": 0.7311}}


def main() -> None:
    from medna_interp.causal.mutagenesis import run_mutagenesis
    from medna_interp.core.settings import Common
    from medna_interp.training.train import train

    parser = argparse.ArgumentParser()
    parser.add_argument("--checkpoint", type=Path)
    parser.add_argument("--bootstrap", type=int, default=1000)
    args = parser.parse_args()
    folder = SHARED / "6mA_D.melanogaster"
    checkpoint = args.checkpoint or ROOT / "benchmarks" / "work" / "dmel_small"
    train_minutes = None
    if not (checkpoint / "model.safetensors").exists():
        start = time.perf_counter()
        train(folder / "train.tsv", checkpoint, size="small", device="cpu", progress=False)
        train_minutes = round((time.perf_counter() - start) / 60, 1)
    out = ROOT / "benchmarks" / "work" / "dmel_mutagenesis"
    result = run_mutagenesis(checkpoint, folder / "test.tsv", out, ["GAGG=CTCC", "AAAA=TATA"],
                             bootstrap=args.bootstrap, common=Common(device="cpu"), force=True)
    config = json.loads((checkpoint / "config.json").read_text())
    payload = {"checkpoint": str(checkpoint), "train_minutes": train_minutes,
               "model_validation_auc": config["metrics"]["validation"]["auc"],
               "groups": json.loads(result.table.to_json(orient="records")), "paper": PAPER, "machine": machine()}
    (RESULTS / "mutagenesis_dmel.json").write_text(json.dumps(payload, indent=2) + "\n")
    columns = ["group", "windows_mutated", "sn", "sp", "acc", "auc", "mcc", "delta_sn", "delta_sn_low",
               "delta_sn_high", "mean_delta_p", "wilcoxon_p"]
    print(result.table[columns].to_string(index=False))


if __name__ == "__main__":
    main()
