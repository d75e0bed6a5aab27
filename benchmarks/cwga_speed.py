"""CWGA: one fused IG pass (ours) vs one pass per dimension (the authors' algorithm),
same model, windows, dimensions and steps, timed in one run; plus seconds per
sequence and peak memory at the paper size.

    .venv/bin/python benchmarks/cwga_speed.py [--n 8] [--top-dims 40] [--steps 50]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np

from common import ROOT, machine, model_of_size, save, windows


def timed_cwga(model, sequences, labels, per_dim, top_dims, steps, internal_batch_size):
    from medna_interp.interpret.cwga import cwga

    start = time.perf_counter()
    result = cwga(model, sequences, labels, top_dims=top_dims, steps=steps,
                  internal_batch_size=internal_batch_size, per_dim=per_dim)
    return time.perf_counter() - start, result


def paper_size_child(n: int, steps: int, internal_batch_size: int) -> None:
    """Run in a fresh process so that ru_maxrss is this configuration's peak."""
    sequences, labels, _ = windows(max(n, 64))
    model = model_of_size("base", sequences)
    seconds, _ = timed_cwga(model, sequences[:n], np.asarray(labels[:n]), False, 40, steps, internal_batch_size)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds_per_sequence": seconds / n, "peak_rss_mb": peak_mb}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=8, help="windows (half positive) for the small-size ratio")
    parser.add_argument("--top-dims", type=int, default=40)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--paper-n", type=int, default=4, help="windows at the paper size (>= 2 per class)")
    parser.add_argument("--paper-batches", type=int, nargs="+", default=[25, 50])
    parser.add_argument("--child", nargs=3, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        paper_size_child(*args.child)
        return

    sequences, labels, source = windows(200)
    labels = np.asarray(labels)
    chosen = np.r_[np.flatnonzero(labels == 1)[: args.n // 2], np.flatnonzero(labels == 0)[: args.n // 2]]
    sequences, labels = [sequences[i] for i in chosen], labels[chosen]
    model = model_of_size("small", sequences)
    ends = [0, 1, -2, -1]  # two positives, two negatives
    timed_cwga(model, [sequences[i] for i in ends], labels[ends], False, args.top_dims, 2, 128)  # shared warm-up
    fused_s, fused = timed_cwga(model, sequences, labels, False, args.top_dims, args.steps, 128)
    per_dim_s, per_dim = timed_cwga(model, sequences, labels, True, args.top_dims, args.steps, 128)
    difference = max(float(np.abs(fused.tokens[v].set_index("token").scaled_contribution
                                  - per_dim.tokens[v].set_index("token").scaled_contribution).max())
                     for v in ("kmer", "bpe"))
    small = {"size": "small", "n": len(sequences), "top_dims": args.top_dims, "steps": args.steps,
             "fused_s": round(fused_s, 2), "per_dim_s": round(per_dim_s, 2),
             "speedup": round(per_dim_s / fused_s, 1), "max_abs_difference_scaled": difference}
    print(small, flush=True)

    paper = []
    for batch in args.paper_batches:
        out = subprocess.run([sys.executable, __file__, "--child", str(args.paper_n), str(args.steps), str(batch)],
                             capture_output=True, text=True, cwd=ROOT)
        if out.returncode != 0:
            raise SystemExit(f"paper-size run failed: {out.stderr.strip().splitlines()[-1]}")
        record = {"size": "base (paper)", "n": args.paper_n, "internal_batch_size": batch, "steps": args.steps,
                  "top_dims": 40, "views": 2, **json.loads(out.stdout.strip().splitlines()[-1])}
        paper.append(record)
        print(record, flush=True)
    path = save("cwga_speed", {"benchmark": "cwga_speed", "data": source, "machine": machine(),
                               "small": small, "paper_size": paper})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
