"""The paper's Fig. 3A-D and Fig. 6 on real data: the four processing stages of a small
model trained on the D. melanogaster 6mA set, mapped with UMAP, with their separability
numbers, and the time UMAP takes for 2,000 windows at four stages on this machine.

    .venv/bin/python benchmarks/embed_dmel.py [--checkpoint DIR]

The checkpoint defaults to benchmarks/work/dmel_small (made by mutagenesis_dmel.py).
Runs the embed step (positives coloured by GAGG) into benchmarks/work/embed_dmel and
copies its table, PNG panel and provenance to benchmarks/results/embed_dmel/ (the SVG of
8,000 points and the coordinates stay in work/); numbers and timings go to
benchmarks/results/embed_dmel.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RESULTS, ROOT, SHARED, machine  # noqa: E402


def main() -> None:
    import torch

    from medna_interp.interpret.embed import STAGES, sample_windows, stage_features, umap_map
    from medna_interp.data.io import read_sequences
    from medna_interp.models.checkpoint import from_pretrained
    from medna_interp.core.settings import Common
    from medna_interp.runs.explain import run_embed

    parser = argparse.ArgumentParser()
    parser.add_argument("--checkpoint", type=Path, default=ROOT / "benchmarks" / "work" / "dmel_small")
    args = parser.parse_args()
    torch.set_num_threads(2)
    data_path = SHARED / "6mA_D.melanogaster" / "test.tsv"

    # timings first, on a cold process: numba compiles UMAP's kernels on the first call
    model = from_pretrained(args.checkpoint, "cpu")
    data = read_sequences(data_path)
    sample = data.subset(sample_windows(data.labels, 2000, 0))
    started = time.perf_counter()
    features = stage_features(model, sample.sequences)
    feature_seconds = time.perf_counter() - started
    umap_seconds = {}
    for stage in STAGES:
        started = time.perf_counter()
        umap_map(features[stage], 15, 0.1, 0)
        umap_seconds[stage] = round(time.perf_counter() - started, 2)

    work, out = ROOT / "benchmarks" / "work" / "embed_dmel", RESULTS / "embed_dmel"
    for folder in (work, out):
        if folder.exists():
            shutil.rmtree(folder)
    started = time.perf_counter()
    result = run_embed(args.checkpoint, data_path, work, color_by="GAGG", common=Common(device="cpu"))
    step_seconds = time.perf_counter() - started
    out.mkdir()
    for name in ("embed.tsv", "embed.png", "provenance.json"):
        shutil.copy(work / name, out / name)
    positives = result.labels == 1
    record = {
        "checkpoint": str(args.checkpoint.relative_to(ROOT)) if args.checkpoint.is_relative_to(ROOT)
        else str(args.checkpoint), "data": str(data_path), "windows": len(result.ids),
        "positives": int(positives.sum()), "positives_with_GAGG": int(result.carriers[positives].sum()),
        "negatives_with_GAGG": int(result.carriers[~positives].sum()),
        "numbers": result.numbers.round(4).to_dict("records"),
        "seconds": {"features_2000_windows": round(feature_seconds, 2),
                    "umap_per_stage_first_call_compiles": umap_seconds,
                    "umap_four_stages": round(sum(umap_seconds.values()), 2),
                    "embed_step_total": round(step_seconds, 2)},
        "threads": torch.get_num_threads(), "machine": machine(),
    }
    (RESULTS / "embed_dmel.json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
