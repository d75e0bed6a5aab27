"""Composition of the four shared iDNA-MS sets and motifs against GC-matched controls.

Per set (test windows): the composition report (GC, CpG o/e and the materially different
dinucleotides, positives against negatives) and raw STREME on all windows against the
negatives and against GC-matched negatives. Where a run directory of a trained model exists
under --runs (the Snakemake workflow's, benchmarks/work/workflow_small/runs by default), its
motif step is repeated on a copy with --controls matched, so the model-guided sources are
compared too. Writes benchmarks/results/composition_idna_ms.tsv (composition) and
composition_idna_ms_motifs.tsv / .json (motifs); scratch in benchmarks/work/composition.

    .venv/bin/python benchmarks/composition_idna_ms.py [--sets ...] [--runs DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RESULTS, ROOT, SHARED, machine  # noqa: E402

SETS = {"4mC_C.equisetifolia": "plants", "5hmC_M.musculus": "vertebrates", "6mA_C.elegans": "nematodes",
        "6mA_D.melanogaster": "insects"}


def _motif_rows(table: pd.DataFrame, name: str, controls: str, model: str) -> list[dict]:
    rows = []
    for source, group in table.groupby("source", sort=False):
        found = group[group.motif.fillna("") != ""]
        significant = found[found.evalue <= 0.05].sort_values("evalue")
        top = significant.iloc[0] if len(significant) else None
        rows.append({"dataset": name, "model": model, "source": source, "controls": controls,
                     "motifs": len(found), "significant": len(significant),
                     # None: no GC-matched negative windows to check against (see the notes)
                     "explained_by_composition": int(significant["composition"].eq("explained by composition").sum())
                     if "composition" in significant and significant["composition"].notna().any() else None,
                     "top_consensus": top.consensus if top is not None else "",
                     "top_evalue": float(top.evalue) if top is not None else None,
                     "top_match": top.best_match_name if top is not None and top.named else ""})
    return rows


def main() -> None:
    from medna_interp.data.composition import composition
    from medna_interp.core.errors import MednaError
    from medna_interp.data.io import read_sequences
    from medna_interp.motifs.discover import DatabaseChoice, discover
    from medna_interp.runs.follow_up import run_motifs

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", nargs="+", default=list(SETS))
    parser.add_argument("--runs", type=Path, default=ROOT / "benchmarks" / "work" / "workflow_small" / "runs")
    args = parser.parse_args()
    work = ROOT / "benchmarks" / "work" / "composition"
    tables, motif_rows, notes = [], [], {}
    started = time.time()
    for name in args.sets:
        data = read_sequences(SHARED / name / "test.tsv")
        report = composition({"test": (data.sequences, data.labels)})
        shown = report.table[report.table.feature.isin(["gc_fraction", "cpg_oe"]) | report.table.material]
        tables.append(shown.assign(dataset=name))
        notes[name] = {"warnings": report.warnings}
        for controls in ("negatives", "matched"):
            folder = work / name / f"raw_{controls}"
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            try:
                result = discover(folder, data, folder / "motifs", sources=[], controls=controls,
                                  database=DatabaseChoice(tax=SETS[name]))
            except MednaError as error:
                notes[name][f"raw_{controls}"] = str(error)
                continue
            motif_rows += _motif_rows(result.table, name, controls, "none (raw windows)")
            notes[name][f"raw_{controls}_sources"] = result.sources.to_dict("records")
        run = args.runs / name
        if (run / "provenance.json").exists():
            copy = work / name / "run_matched"
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(run, copy, ignore=shutil.ignore_patterns("motifs", "report.*", "insertion", "effects.tsv"))
            original = pd.read_csv(run / "motifs" / "motifs.tsv", sep="\t")
            motif_rows += _motif_rows(original[~original.source.str.startswith("raw")], name, "negatives",
                                      str(run))
            try:
                matched = run_motifs(copy, controls="matched", database=DatabaseChoice(tax=SETS[name]))
                motif_rows += _motif_rows(matched.table[~matched.table.source.str.startswith("raw")], name,
                                          "matched", str(run))
            except MednaError as error:
                notes[name]["model_matched"] = str(error)
        else:
            notes[name]["model"] = f"no run directory at {run}: model-guided sources not compared"
        print(f"{name}: done at {(time.time() - started) / 60:.1f} min", flush=True)
    RESULTS.mkdir(exist_ok=True)
    columns = ["dataset", "feature", "mean_pos", "mean_neg", "difference", "effect_d", "q_value", "n_pos", "n_neg",
               "material"]
    pd.concat(tables)[columns].to_csv(RESULTS / "composition_idna_ms.tsv", sep="\t", index=False,
                                      float_format="%.4g")
    pd.DataFrame(motif_rows).to_csv(RESULTS / "composition_idna_ms_motifs.tsv", sep="\t", index=False,
                                    float_format="%.3g")
    (RESULTS / "composition_idna_ms.json").write_text(json.dumps(
        {"machine": machine(), "minutes": round((time.time() - started) / 60, 1), "notes": notes}, indent=2,
        default=str) + "\n")
    print(f"wrote {RESULTS}/composition_idna_ms*.tsv")


if __name__ == "__main__":
    main()
