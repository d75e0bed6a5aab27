"""One page over many run directories: per dataset, the model's test metrics, its best
model-guided motif against the raw STREME baseline (the layout of the paper's Tables 1-2: best
STREME E and best TOMTOM p per kind of source), the top motif logos, a link to the dataset's
report, and the cross-dataset transfer heatmap when an evaluation folder is given."""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from ..core.errors import MednaError
from ..core.margin import EXPLAINING_MARGIN, MEANINGS, Versus
from ..core.outputs import claim_directory, step_outputs
from ..core.provenance import provenance
from ..motifs.calibration import NOT_CALIBRATED
from ..motifs.logos import logo_stem
from .collect import _image
from .render import CSS, SORT_JS, _e, _num, _table

TOP_LOGOS = 3
COLUMNS = ["dataset", "modification", "auc", "acc", "mcc", "linear_test_auc", "test_margin", "valid_auc",
           "baseline_valid_auc", "margin", "verdict", "below_baseline",
           "motif_database",
           "guided_source", "guided_motif", "guided_evalue", "guided_best_p", "guided_named_match",
           "raw_motif", "raw_evalue", "raw_best_p", "uncalibrated_sources", "report"]


class SummaryFiles(NamedTuple):
    """The two files a summary consists of."""

    tsv: Path
    html: Path


def summarize(run_dirs: list[str | os.PathLike], output: str | os.PathLike, *,
              evaluation: str | os.PathLike | None = None, modifications: dict[str, str] | None = None,
              force: bool = False) -> SummaryFiles:
    """Write ``output/summary.tsv`` and a self-contained ``output/summary.html``.

    Parameters
    ----------
    run_dirs : run directories with a report (``report.json``); each is named by its folder
    output : the summary folder
    evaluation : an ``evaluate`` folder; its transfer heatmap and AUC matrix are shown
    modifications : dataset name -> modification type (6mA, 4mC, 5hmC), shown beside it
    """
    run_dirs = [Path(d) for d in run_dirs]
    evaluation = Path(evaluation) if evaluation is not None else None
    if evaluation is not None and not (evaluation / "metrics.tsv").is_file():
        raise MednaError(f"{evaluation}: not an evaluate folder (no metrics.tsv)")
    reports = {}
    for run_dir in run_dirs:
        path = run_dir / "report.json"
        if not path.is_file():
            raise MednaError(f"{run_dir}: no report.json; run `medna-interp run` (or `report`) there first")
        if run_dir.name in reports:
            raise MednaError(f"{run_dir}: a second run directory named {run_dir.name}; datasets are named by folder")
        reports[run_dir.name] = (run_dir, json.loads(path.read_text()))
    output = Path(output)
    inputs = [d / "report.json" for d in run_dirs]
    claim_directory(output, "summary", inputs=inputs, force=force)

    modifications = modifications or {}
    linear_test = _linear_test_aucs(evaluation) if evaluation is not None else {}
    rows, logos = [], {}
    for name, (run_dir, report) in reports.items():
        row = _row(name, modifications.get(name, ""), run_dir, report, output)
        row["linear_test_auc"] = linear_test.get(name)
        row["test_margin"] = None if row["linear_test_auc"] is None or row["auc"] is None else \
            row["auc"] - row["linear_test_auc"]
        rows.append(row)
        logos[name] = _top_logos(run_dir, report)
    table = pd.DataFrame(rows, columns=COLUMNS)
    page = _render(table, logos, evaluation)
    record = provenance({"evaluation": str(evaluation or ""), "modifications": modifications},
                        {f"report:{n}": d / "report.json" for n, (d, _) in reports.items()}, None)
    with step_outputs(output, "summary", record, kind="summary") as stage:
        table.to_csv(stage.path / "summary.tsv", sep="\t", index=False, float_format="%.6g")
        (stage.path / "summary.html").write_text(page)
    return SummaryFiles(output / "summary.tsv", output / "summary.html")


def _linear_test_aucs(evaluation: Path) -> dict[str, float]:
    """Dataset -> the test AUC of the linear baseline kept in that dataset's own model (the
    ``evaluate`` row whose checkpoint and test set share the dataset's name)."""
    table = pd.read_csv(evaluation / "metrics.tsv", sep="\t", na_values=["NA"])
    if "linear_auc" not in table.columns:  # an evaluation made before baselines were kept
        return {}
    own = table[(table.checkpoint == table.dataset) & table.linear_auc.notna()]
    return dict(zip(own.dataset, own.linear_auc.astype(float)))


def _best(rows: list[dict], key: str) -> dict | None:
    candidates = [r for r in rows if r.get(key) is not None]
    return min(candidates, key=lambda r: r[key]) if candidates else None


def _row(name: str, modification: str, run_dir: Path, report: dict, output: Path) -> dict:
    summary = report["summary"]
    metrics = summary.get("model_metrics") or {}
    versus = summary.get("baseline") or {}
    judged = Versus(versus.get("model_auc"), versus.get("baseline_auc"))
    comparison = report.get("comparison", [])
    # a source that found motifs under permuted labels offers no discoveries to pick from
    uncalibrated = [r["source"] for r in comparison if r.get("null_check") == NOT_CALIBRATED]
    guided = [r for r in comparison if r.get("kind") == "model-guided" and r["source"] not in uncalibrated]
    raw = [r for r in comparison if r.get("kind") == "raw baseline" and r["source"] not in uncalibrated]
    best_guided, best_raw = _best(guided, "top_motif_evalue"), _best(raw, "top_motif_evalue")
    named = _best(guided, "named_match_e")
    return {
        "dataset": name, "modification": modification,
        "auc": metrics.get("auc"), "acc": metrics.get("acc"), "mcc": metrics.get("mcc"),
        "valid_auc": versus.get("model_auc"), "baseline_valid_auc": versus.get("baseline_auc"),
        "margin": judged.margin, "verdict": judged.verdict, "below_baseline": judged.below,
        "motif_database": summary.get("motif_database", ""),
        "guided_source": best_guided["source"] if best_guided else "",
        "guided_motif": best_guided["top_motif"] if best_guided else "",
        "guided_evalue": best_guided["top_motif_evalue"] if best_guided else None,
        "guided_best_p": (_best(guided, "paper_best_p") or {}).get("paper_best_p"),
        "guided_named_match": named["named_match"] if named else "",
        "raw_motif": best_raw["top_motif"] if best_raw else "",
        "raw_evalue": best_raw["top_motif_evalue"] if best_raw else None,
        "raw_best_p": (_best(raw, "paper_best_p") or {}).get("paper_best_p"),
        "uncalibrated_sources": ", ".join(uncalibrated),
        "report": os.path.relpath(run_dir / "report.html", output),
    }


def _top_logos(run_dir: Path, report: dict) -> list[tuple[str, str]]:
    """(caption, data URI) of the most significant model-guided motifs that have a logo."""
    guided = {r["source"] for r in report.get("comparison", []) if r.get("kind") == "model-guided"}
    motifs = [m for entry in report.get("sources", []) if entry["source"] in guided for m in entry["motifs"]]
    motifs.sort(key=lambda m: m.get("evalue") if m.get("evalue") is not None else float("inf"))
    logos = []
    for motif in motifs:
        path = run_dir / "motifs" / "logos" / f"{logo_stem(motif['motif'])}.png"
        if path.is_file():
            logos.append((f"{motif['motif']} (E {_num(motif.get('evalue'))})", _image(path)))
        if len(logos) == TOP_LOGOS:
            break
    return logos


def _render(table: pd.DataFrame, logos: dict[str, list[tuple[str, str]]], evaluation: Path | None) -> str:
    parts = [f"<h1>Cross-dataset summary</h1><p class='sub'>{len(table)} datasets &middot; generated "
             f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC</p>"]
    for verdict, where in (("below", "below"), ("near", f"within {EXPLAINING_MARGIN:.2f} AUC of")):
        names = table[table.verdict == verdict].dataset.tolist()
        if names:
            parts.append(f'<div class="warn">&#9888; {where} their position-specific linear baseline on validation: '
                         f'{_e(", ".join(names))}; {_e(MEANINGS[verdict])}</div>')
    parts.append("<h2>Datasets</h2><p class='sub'>AUC, ACC, MCC: on the data each run explains (the test set "
                 "in the workflow); linear test AUC and test margin: the linear baseline kept in the dataset's model, "
                 "on the same test set (with an evaluation folder); valid AUC: the model and its linear baseline on the training validation split; "
                 f"margin: their difference, at least {EXPLAINING_MARGIN:.2f} before the explanations add to what "
                 "positions alone show (verdict adds, near or below). "
                 "Model-guided: the best motif of the calibrated CAD/CWGA/ISM/linear sources "
                 "(STREME E); raw: STREME on the data alone; not calibrated: sources whose label-permuted repeat found a "
                 "significant motif, left out of both picks. Best p: the smallest TOMTOM p of any motif, the "
                 "paper's uncorrected metric.</p>")
    records = table.to_dict("records")
    parts.append(_table(records, [("dataset", "dataset"), ("modification", "modification"), ("auc", "AUC"),
                                  ("acc", "ACC"), ("mcc", "MCC"), ("linear_test_auc", "linear test AUC"),
                                  ("test_margin", "test margin"), ("valid_auc", "valid AUC"),
                                  ("baseline_valid_auc", "linear valid AUC"), ("margin", "margin"),
                                  ("verdict", "verdict"),
                                  ("guided_source", "guided source"), ("guided_motif", "guided motif"),
                                  ("guided_evalue", "guided E"), ("guided_best_p", "guided best p"),
                                  ("guided_named_match", "named match"), ("raw_motif", "raw motif"),
                                  ("raw_evalue", "raw E"), ("raw_best_p", "raw best p"),
                                  ("uncalibrated_sources", "not calibrated")]))
    parts.append("<h2>Top motifs and reports</h2>")
    for record in records:
        figures = "".join(f"<figure><img class='logo' alt='{_e(caption)}' src='{data}'>"
                          f"<figcaption>{_e(caption)}</figcaption></figure>" for caption, data in logos[record["dataset"]])
        parts.append(f"<h3>{_e(record['dataset'])} <a href='{_e(record['report'])}'>report</a></h3>"
                     f"<div class='grid'>{figures or '<p class=sub>no significant model-guided motif</p>'}</div>")
    if evaluation is not None:
        parts.append(_transfer(evaluation))
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>medna-interp summary</title>"
            f"<style>{CSS}</style></head><body>{''.join(parts)}<script>{SORT_JS}</script></body></html>")


def _transfer(evaluation: Path) -> str:
    """Every checkpoint on every test set: the normalised heatmap and the AUC matrix, when there are several."""
    matrix = evaluation / "matrix_auc.tsv"
    if not matrix.is_file():
        return ""
    frame = pd.read_csv(matrix, sep="\t", index_col=0)
    rows = [{"checkpoint": index, **row} for index, row in frame.to_dict("index").items()]
    heatmaps = "".join(f"<figure><img class='positional' alt='{stem}' src='{_image(evaluation / (stem + '.png'))}'>"
                       f"<figcaption>{stem}</figcaption></figure>"
                       for stem in ("transfer", "transfer_normalised") if (evaluation / f"{stem}.png").is_file())
    columns = [("checkpoint", "checkpoint \\ test set")] + [(c, c) for c in frame.columns]
    return (f"<h2>Transfer: every model on every test set</h2><div class='grid'>{heatmaps}</div>"
            f"<p class='sub'>AUC (rows: checkpoints, columns: test sets)</p>{_table(rows, columns)}")
