"""Gated motif statistics on the four shared iDNA-MS sets: for each set, the model `train`
makes with its defaults (kept in benchmarks/work/models/SET, trained there when missing),
then CAD, CWGA, ISM and `motifs --modisco` (the null by default) on the set's test windows,
against the JASPAR 2024 CORE group of its organism.

Per source it records what the report's comparison table shows: the windows compared and
their number, the raw baseline on the same windows, motifs above and below the E-value gate,
the top significant motif, the best match that passes the match threshold (the headline),
the paper's uncorrected metric (best TOMTOM p of any motif), and the same under permuted
labels. Writes benchmarks/results/motif_statistics_idna_ms.tsv and .json; the run
directories stay in benchmarks/work/motif_statistics.

    .venv/bin/python benchmarks/motif_statistics_idna_ms.py [--sets ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RESULTS, ROOT, SHARED, machine  # noqa: E402

TAX = {"6mA_D.melanogaster": "insects", "6mA_C.elegans": "nematodes", "5hmC_M.musculus": "vertebrates",
       "4mC_C.equisetifolia": "plants"}
#: the confidence CAD and CWGA select at; a weaker model may leave a class empty at 0.9,
#: and then the next one down is used and recorded
CONFIDENCES = (0.9, 0.7, 0.5)


def explain(checkpoint: Path, test: Path, run_dir: Path) -> float:
    from medna_interp.core.errors import MednaError
    from medna_interp.core.settings import Common
    from medna_interp.runs.explain import run_cad, run_cwga, run_ism

    common = Common(device="cpu")
    for confidence in CONFIDENCES:
        try:
            run_cad(checkpoint, test, run_dir, confidence=confidence, common=common, force=True)
            run_cwga(checkpoint, test, run_dir, confidence=confidence, progress=False, common=common, force=True)
            run_ism(checkpoint, test, run_dir, confidence=confidence, common=common, force=True)
            return confidence
        except MednaError as error:
            print(f"{test.parent.name}: {error}; trying a lower confidence")
    raise SystemExit(f"{test.parent.name}: no confidence in {CONFIDENCES} selects both classes")


def main() -> None:
    from medna_interp.motifs.discover import DatabaseChoice
    from medna_interp.motifs.modisco import ModiscoOptions
    from medna_interp.reporting.collect import collect
    from medna_interp.runs.follow_up import run_motifs
    from medna_interp.training.train import train

    parser = argparse.ArgumentParser()
    parser.add_argument("--sets", nargs="+", default=list(TAX), choices=list(TAX))
    args = parser.parse_args()
    torch.set_num_threads(2)
    rows, about = [], {}
    for name in args.sets:
        folder = SHARED / name
        checkpoint = ROOT / "benchmarks" / "work" / "models" / name
        if not (checkpoint / "model.safetensors").exists():
            train(folder / "train.tsv", checkpoint, device="cpu", progress=False)
        run_dir = ROOT / "benchmarks" / "work" / "motif_statistics" / name
        start = time.perf_counter()
        confidence = explain(checkpoint, folder / "test.tsv", run_dir)
        explained = time.perf_counter() - start
        run_motifs(run_dir, database=DatabaseChoice(tax=TAX[name]), permute_labels=True, modisco=ModiscoOptions())
        mined = time.perf_counter() - start - explained
        content = collect(run_dir)
        about[name] = {"database": content["summary"]["motif_database"], "gates": content["gates"],
                       "confidence": confidence, "model_auc_on_test": content["summary"]["model_metrics"]["auc"],
                       "cad_cwga_seconds": round(explained, 1), "motifs_seconds_with_null": round(mined, 1)}
        seconds = pd.read_csv(run_dir / "motifs" / "sources.tsv", sep="\t").set_index("source").seconds
        rows += [{"set": name, **row, "seconds": seconds.get(row["source"])} for row in content["comparison"]]
        print(pd.DataFrame([r for r in rows if r["set"] == name]).drop(columns="set").to_string(index=False))
    table = pd.DataFrame(rows)
    table.to_csv(RESULTS / "motif_statistics_idna_ms.tsv", sep="\t", index=False, float_format="%.3g")
    (RESULTS / "motif_statistics_idna_ms.json").write_text(
        json.dumps({"sets": about, "machine": machine(), "models": "train defaults (size tiny), seed 0",
                    "gate": "run E-value (E x searches in the run) <= 0.05"},
                   indent=2) + "\n")


if __name__ == "__main__":
    main()
