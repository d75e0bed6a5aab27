"""Motif insertion: every placement of one motif over all backgrounds in large batches (ours)
vs one placement per forward pass; same scores, measured speed-up. Then the wall time of
the demo's whole insertion step (`run`'s default: 100 backgrounds of each kind, every
motif with STREME E <= 0.05) on a fresh demo run.

    .venv/bin/python benchmarks/insertion_speed.py [--backgrounds 20] [--run demo_run]
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

from common import RESULTS, ROOT, machine, model_of_size  # noqa: E402


def one_at_a_time(model, backgrounds, kmer, strands, offsets) -> np.ndarray:
    """The reference: each placement scored in its own forward pass."""
    from medna_interp.causal.insertion import place
    from medna_interp.interpret.ism import log_odds

    out = np.full((len(backgrounds), len(strands), len(offsets)), np.nan)
    for i, background in enumerate(backgrounds):
        for s, strand in enumerate(strands):
            for o, offset in enumerate(offsets):
                placed = place(background, kmer, offset, strand)
                if placed is not None:
                    out[i, s, o] = log_odds(model, [placed], 1)[0]
    return out


def main() -> None:
    from medna_interp.causal.insertion import _score_placements, make_backgrounds
    from medna_interp.models.checkpoint import from_pretrained
    from medna_interp.api.windows import synthetic
    from medna_interp.core.settings import Common
    from medna_interp.runs.follow_up import run_insertion_step

    parser = argparse.ArgumentParser()
    parser.add_argument("--backgrounds", type=int, default=20)
    parser.add_argument("--run", type=Path, help="a finished demo run directory to time the insertion step on")
    args = parser.parse_args()
    torch.set_num_threads(2)
    data = synthetic(400, seed=3)
    backgrounds = make_backgrounds(data, "negatives", args.backgrounds, seed=0)["negatives"]
    offsets = list(range(41 - 4 + 1))
    rows = []
    for name, model in (("demo", from_pretrained(ROOT / "model" / "demo")),
                        ("small", model_of_size("small", data.sequences))):
        model.eval()
        _score_placements(model, backgrounds[:2], ["GAGG"] * 2, ("+",), [0], 512)  # warm-up
        start = time.perf_counter()
        batched = _score_placements(model, backgrounds, ["GAGG"] * len(backgrounds), ("+", "-"), offsets, 512)
        batched_seconds = time.perf_counter() - start
        start = time.perf_counter()
        reference = one_at_a_time(model, backgrounds, "GAGG", ("+", "-"), offsets)
        reference_seconds = time.perf_counter() - start
        scored = ~np.isnan(reference)
        rows.append({"model": name, "backgrounds": len(backgrounds), "placements": int(scored.sum()),
                     "batched_seconds": round(batched_seconds, 3), "one_at_a_time_seconds": round(reference_seconds, 3),
                     "speedup": round(reference_seconds / batched_seconds, 1),
                     "max_abs_difference": float(np.abs(batched.logit[scored] - reference[scored]).max())})
        print(json.dumps(rows[-1]), flush=True)
    step = None
    if args.run is not None:
        start = time.perf_counter()
        result = run_insertion_step(args.run, common=Common(device="cpu"))
        step = {"run": str(args.run), "motifs_inserted": len(result.options["motifs"]) if result else 0,
                "n_backgrounds": 100, "wall_seconds": round(time.perf_counter() - start, 1)}
        print(json.dumps(step), flush=True)
    (RESULTS / "insertion_speed.json").write_text(json.dumps(
        {"rows": rows, "demo_insertion_step": step, "machine": machine()}, indent=2) + "\n")


if __name__ == "__main__":
    main()
