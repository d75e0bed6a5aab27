"""Saturation mutagenesis: batched (all windows' 3 x L variants, 512 per forward pass) vs
one variant per forward pass, on the demo checkpoint; same scores, measured speed-up.

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

from common import RESULTS, ROOT, machine, windows  # noqa: E402


def main() -> None:
    from medna_interp.interpret.ism import ism, ism_one_at_a_time
    from medna_interp.models.checkpoint import from_pretrained

    parser = argparse.ArgumentParser()
    parser.add_argument("--windows", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(2)
    model = from_pretrained(ROOT / "model" / "demo")
    sequences, _, source = windows(args.windows)
    ism(model, sequences[:1])  # warm-up
    start = time.perf_counter()
    batched = ism(model, sequences)
    batched_seconds = time.perf_counter() - start
    start = time.perf_counter()
    reference = ism_one_at_a_time(model, sequences)
    reference_seconds = time.perf_counter() - start
    payload = {"model": "model/demo", "windows": len(sequences), "variants": 3 * 41 * len(sequences),
               "data": source, "batched_seconds": round(batched_seconds, 3),
               "one_at_a_time_seconds": round(reference_seconds, 3),
               "speedup": round(reference_seconds / batched_seconds, 1),
               "max_abs_difference": float(np.abs(batched.scores - reference.scores).max()), "machine": machine()}
    (RESULTS / "ism_speed.json").write_text(json.dumps(payload, indent=2) + "\n")
    print(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
