"""Saturation mutagenesis: batched (all windows' 3 x L variants, 512 per forward pass) vs
one variant per forward pass; same scores, measured speed-up. On the demo checkpoint and
on a randomly initialised model of the `small` size (speed does not depend on weights).

    .venv/bin/python benchmarks/ism_speed.py [--windows 10]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RESULTS, ROOT, machine, model_of_size, windows  # noqa: E402


def main() -> None:
    from medna_interp.interpret.ism import ism, ism_one_at_a_time
    from medna_interp.models.checkpoint import from_pretrained

    parser = argparse.ArgumentParser()
    parser.add_argument("--windows", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(2)
    sequences, _, source = windows(args.windows)
    rows = []
    for name, model in (("demo", from_pretrained(ROOT / "model" / "demo")), ("small", model_of_size("small", sequences))):
        ism(model, sequences[:1])  # warm-up
        start = time.perf_counter()
        batched = ism(model, sequences)
        batched_seconds = time.perf_counter() - start
        start = time.perf_counter()
        reference = ism_one_at_a_time(model, sequences)
        reference_seconds = time.perf_counter() - start
        rows.append({"model": name, "windows": len(sequences), "variants": 3 * 41 * len(sequences),
                     "batched_seconds": round(batched_seconds, 3), "one_at_a_time_seconds": round(reference_seconds, 3),
                     "speedup": round(reference_seconds / batched_seconds, 1),
                     "max_abs_difference": float(np.abs(batched.scores - reference.scores).max())})
        print(json.dumps(rows[-1]), flush=True)
    (RESULTS / "ism_speed.json").write_text(json.dumps({"data": source, "rows": rows, "machine": machine()},
                                                       indent=2) + "\n")


if __name__ == "__main__":
    main()
