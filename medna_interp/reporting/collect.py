"""Everything the report shows, gathered from a run directory into one dict."""

from __future__ import annotations

import base64
import json
import math
from pathlib import Path

import pandas as pd

from ..causal.insertion_run import file_stem
from ..core.errors import MednaError
from ..core.margin import Versus
from ..core.provenance import PROVENANCE, read_provenance
from ..core.stats import MIN_SELECTED
from ..interpret.selection import relaxed_message
from ..motifs.calibration import NOT_CALIBRATED, NOT_TESTED
from ..motifs.jaspar import jaspar_url
from ..motifs.logos import logo_stem

REQUIRED = {
    "cad": ("selection.tsv", "medna-interp cad CKPT DATA -o {run}"),
    "cwga": ("attributions.npz", "medna-interp cwga CKPT DATA -o {run}"),
    "motifs": ("motifs/motifs.tsv", "medna-interp motifs {run}"),
}
TOP_TOKENS = 25
#: AUC on the explained data below which the report says it describes a weak model
WEAK_MODEL_AUC = 0.75
LARGE_DELTA = 0.05


def _image(path: Path) -> str | None:
    if not path.exists():
        return None
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


def _records(frame: pd.DataFrame) -> list[dict]:
    def clean(value):
        if isinstance(value, float) and not math.isfinite(value):
            return None if math.isnan(value) else str(value)
        return value.item() if hasattr(value, "item") else value

    return [{k: clean(v) for k, v in row.items()} for row in frame.to_dict("records")]


def check_run(run_dir: Path) -> dict:
    """The run's provenance; a one-line error naming missing or stale steps and how to run them."""
    from ..runs.record import check_consistency

    if not (run_dir / PROVENANCE).exists():
        raise MednaError(f"{run_dir}: not a run directory (no {PROVENANCE})",
                         hint=f"create one with 'medna-interp run CKPT DATA -o {run_dir}'")
    provenance = read_provenance(run_dir)
    missing = [step for step, (output, _) in REQUIRED.items()
               if step not in provenance.get("steps", {}) or not (run_dir / output).exists()]
    if missing:
        how = "; ".join(f"{step}: {REQUIRED[step][1].format(run=run_dir)}" for step in missing)
        raise MednaError(f"{run_dir}: missing steps {', '.join(missing)} (run them with {how}, "
                         f"or all at once with 'medna-interp run CKPT DATA -o {run_dir}')")
    return check_consistency(run_dir, (*REQUIRED, "ism", "effects", "insertion", "faithfulness", "embed"))


def _model_versus_baseline(checkpoint: str) -> Versus:
    """Validation AUC of the model and of the linear baseline ``train`` fitted on the same split."""
    from ..models.checkpoint import read_checkpoint_config

    try:
        metrics = read_checkpoint_config(checkpoint).get("metrics", {})
    except MednaError:  # moved or deleted since the run: the report still renders
        metrics = {}
    model = (metrics.get("validation") or {}).get("auc")
    baseline = ((metrics.get("baseline_validation") or {}).get("linear") or {}).get("auc")
    return Versus(model, baseline)


def collect(run_dir: Path) -> dict:
    """Everything the report shows, from a checked run directory (see :func:`check_run`), as one dict."""
    provenance = check_run(run_dir)
    steps = provenance["steps"]
    cad, cwga = steps["cad"], steps["cwga"]
    warnings = []
    for name, record in (("CAD", cad), ("CWGA", cwga)):
        counts = record.get("selection", {})
        if counts.get("relaxed"):
            warnings.append(f"{name}: {relaxed_message(counts['relaxed'], record['config'].get('confidence'))}")
        elif min(counts.get("positives", 0), counts.get("negatives", 0)) < MIN_SELECTED:
            warnings.append(f"{name}: only {counts.get('positives')} positives and {counts.get('negatives')} "
                            f"negatives passed the confidence filter; token statistics are noisy")
    for view, delta in cwga.get("convergence_delta", {}).items():
        relative = delta["mean_abs"] / max(delta["mean_abs_total"], 1e-12)
        if relative > LARGE_DELTA:
            warnings.append(f"CWGA {view}: mean |IG convergence delta| is {relative:.0%} of the mean |attribution|; "
                            "raise --steps")
    versus = _model_versus_baseline(cad["inputs"]["checkpoint"]["path"])
    if versus.verdict in ("below", "near"):
        warnings.insert(0, f"the explained model is {versus.verdict} its baseline: {versus.sentence()}")
    warnings.extend(cad.get("composition_warnings", []))
    auc = cad.get("data_metrics", {}).get("auc")
    weak = auc is not None and auc < WEAK_MODEL_AUC
    if weak:
        warnings.insert(0, f"these explanations describe a weak model: its AUC on this data is {auc:.3f}, below "
                           f"{WEAK_MODEL_AUC}; read its motifs as what a weak model uses, not as biology")

    motifs = pd.read_csv(run_dir / "motifs" / "motifs.tsv", sep="\t", keep_default_na=False,
                         na_values={"evalue": [""], "run_evalue": [""], "pvalue": [""], "best_match_p": [""], "best_match_e": [""],
                                    "best_match_q": [""]})
    logos = run_dir / "motifs" / "logos"
    effects = {}
    if "effects" in steps and (run_dir / "effects.tsv").exists():
        effects = pd.read_csv(run_dir / "effects.tsv", sep="\t", keep_default_na=False).set_index("motif")
    insertion, grammar = _insertion(run_dir, steps)
    motifs = _gated(motifs)
    sources = []
    for source, group in motifs.groupby("source", sort=False):
        found = group[group.motif != ""]
        if not found.significant.any():
            warnings.append(f"no significant motif for {source}")
        rows = []
        for row in _records(found):
            stem = logo_stem(row["motif"])
            row["logo"] = _image(logos / f"{stem}.png")
            row["cwm_logo"] = _image(logos / f"{stem}__cwm.png")  # TF-MoDISco's contribution weights
            row["aligned_logo"] = _image(logos / f"{stem}__{logo_stem(row['best_match_id'])}.png") \
                if row["best_match_id"] else None
            row["url"] = jaspar_url(row["best_match_id"]) if row["best_match_id"].startswith("MA") else None
            if len(effects) and row["motif"] in effects.index:
                effect = effects.loc[row["motif"]]
                row.update(effect_delta_p=float(effect.mean_delta_p), effect_q=float(effect.q_value),
                           effect_windows=int(effect.windows_with_site))
            if row["motif"] in insertion:
                row.update(insertion[row["motif"]])
            rows.append(row)
        rows.sort(key=lambda r: r.get("effect_delta_p", 0.0))  # the motifs the model needs most first
        sources.append({"source": source, "motifs": [r for r in rows if r["significant"]],
                        "not_significant": [r for r in rows if not r["significant"]]})
    gates, comparison = _comparison(run_dir / "motifs", motifs)
    uncalibrated = [row["source"] for row in comparison if row["null_check"] == NOT_CALIBRATED]
    if uncalibrated:
        warnings.append(f"not calibrated: under permuted labels {', '.join(uncalibrated)} still found significant "
                        "motifs, so their motifs are not called discoveries")

    tokens = {}
    for method, column in (("cad", "cad"), ("cwga", "scaled_contribution")):
        for view in ("kmer", "bpe"):
            path = run_dir / f"{method}_{view}.tsv"
            if path.exists():
                table = pd.read_csv(path, sep="\t", keep_default_na=False).head(TOP_TOKENS)
                tokens[f"{method}_{view}"] = _records(table)
    dims = pd.read_csv(run_dir / "dims.tsv", sep="\t")
    positional = {name: _image(logos / f"positional_{name}.png")
                  for name in ("raw", "cad_kmer", "cad_bpe", "cwga_kmer", "cwga_bpe", "ism_bases", "linear_bases")}
    database = (run_dir / "motifs" / "database.txt").read_text().splitlines()[0] \
        if (run_dir / "motifs" / "database.txt").exists() else ""
    faithful = None
    if "faithfulness" in steps and (run_dir / "faithfulness.tsv").exists():
        faithful = _records(pd.read_csv(run_dir / "faithfulness.tsv", sep="\t"))
        positional["faithfulness"] = _image(run_dir / "faithfulness.png")
    motif_summary = run_dir / "motifs" / "summary.json"
    motif_summary = json.loads(motif_summary.read_text()) if motif_summary.exists() else {}
    return {
        "_provenance": provenance,
        "composition": _composition(run_dir, motif_summary),
        "strand": _strands(steps),
        "faithfulness": faithful,
        "representations": _representations(run_dir, steps),
        "run_dir": str(run_dir),
        "summary": {
            "checkpoint": cad["inputs"]["checkpoint"]["path"], "data": cad["inputs"]["data"]["path"],
            "data_sha256": cad["inputs"]["data"]["sha256"], "selection_cad": cad.get("selection"),
            "selection_cwga": cwga.get("selection"), "model_metrics": cad.get("data_metrics"), "weak_model": weak,
            "versions": cad.get("versions"), "seeds": {s: r.get("seed") for s, r in steps.items() if "seed" in r},
            "commands": {s: " ".join(r["command"]) for s, r in steps.items() if "command" in r},
            "motif_database": database, "top_dims": int(dims.selected.sum()), "baseline": versus.to_dict(),
        },
        "warnings": warnings,
        "comparison": comparison,
        "gates": gates,
        "sources": sources,
        "tokens": tokens,
        "dims": _records(dims.head(10)),
        "images": positional,
        "grammar": grammar,
    }


def _composition(run_dir: Path, motif_summary: dict) -> dict | None:
    """GC, CpG o/e and the materially different dinucleotides of positives against negatives
    (CAD's ``composition.tsv``), and the controls motif discovery used."""
    path = run_dir / "composition.tsv"
    if not path.exists():
        return None
    table = pd.read_csv(path, sep="\t")
    shown = table[table.feature.isin(["gc_fraction", "cpg_oe"]) | table.material.astype(bool)]
    return {"rows": _records(shown), "controls": motif_summary.get("controls", "negatives"),
            "check": motif_summary.get("composition_check")}


def _strands(steps: dict) -> dict | None:
    """The strand checks of CWGA and ISM, when they ran: every method's row, and whether all agree."""
    checks = [steps[name]["strand"] for name in ("cwga", "ism") if name in steps and steps[name].get("strand")]
    if not checks:
        return None
    from ..interpret.strand import is_consistent

    methods = [row for check in checks for row in check["methods"]]
    return {"consistent": is_consistent(methods), "methods": methods,
            "rc_average": bool((steps.get("cwga", {}).get("strand") or {}).get("rc_average"))}


def _gated(motifs: pd.DataFrame) -> pd.DataFrame:
    """``significant`` and ``named`` as booleans; a table written before the gates existed gets
    them from the default thresholds (E <= 0.05 for both)."""
    motifs = motifs.copy()
    for column, fallback in (("significant", motifs.evalue <= 0.05),
                             ("named", (motifs.evalue <= 0.05) & (motifs.best_match_e <= 0.05)),
                             ("discovery", motifs.evalue <= 0.05)):
        motifs[column] = motifs[column].astype(str).eq("True") if column in motifs else fallback
    return motifs


def _comparison(folder: Path, motifs: pd.DataFrame) -> tuple[dict, list[dict]]:
    """(the gates and the database size, one row per source: what it compared, what passed the
    gates, the paper's uncorrected metric, and what it found under permuted labels)."""
    summary = json.loads((folder / "summary.json").read_text()) if (folder / "summary.json").exists() else {}
    described, null = _read_sources(folder), _read_sources(folder / "null")
    rows = []
    for source, group in motifs.groupby("source", sort=False):
        group = group[group.motif != ""]
        significant = group[group.significant].sort_values("evalue")
        named = group[group.named].sort_values("best_match_e")
        matched = group.dropna(subset=["best_match_p"]).sort_values("best_match_p")
        about = described.loc[source].to_dict() if described is not None and source in described.index else {}
        row = {
            "source": source, "kind": about.get("kind"), "windows": about.get("windows"),
            "sequences": f"{about['n_primary']} / {about['n_control']}"
            if about.get("n_primary") not in (None, "") else None,
            "raw_baseline": about.get("raw_baseline") or None, "motifs": len(group), "significant": len(significant),
            "top_motif": significant.consensus.iloc[0] if len(significant) else None,
            "top_motif_evalue": float(significant.evalue.iloc[0]) if len(significant) else None,
            "named_match": f"{named.best_match_name.iloc[0]} ({named.best_match_id.iloc[0]})" if len(named) else None,
            "named_motif": named.consensus.iloc[0] if len(named) else None,
            "named_match_e": float(named.best_match_e.iloc[0]) if len(named) else None,
            "paper_best_p": float(matched.best_match_p.iloc[0]) if len(matched) else None,
            "paper_best_motif": matched.consensus.iloc[0] if len(matched) else None,
        }
        if null is not None and source in null.index:
            row.update(null_significant=int(null.loc[source, "significant"]), null_named=int(null.loc[source, "named"]),
                       null_paper_best_p=_float_or_none(null.loc[source, "best_p_uncorrected"]))
        # runs made before the null ran by default have no null_check: untested
        row["null_check"] = about.get("null_check") or NOT_TESTED
        row["discoveries"] = int(group.discovery.sum())
        rows.append(row)
    gates = {key: summary.get(key) for key in ("max_evalue", "match_thresh", "database_motifs", "null", "searches")}
    return gates, rows


def _read_sources(folder: Path) -> pd.DataFrame | None:
    """``sources.tsv`` of a motifs folder indexed by source; ``None`` for runs made before it existed."""
    path = folder / "sources.tsv"
    return pd.read_csv(path, sep="\t", keep_default_na=False).set_index("source") if path.exists() else None


def _float_or_none(value) -> float | None:
    return float(value) if value not in ("", None) else None


def _insertion(run_dir: Path, steps: dict) -> tuple[dict, dict]:
    """(motif -> insertion columns of the motif table, the grammar section: profile images
    per motif and the motifs above the E-value gate)."""
    path = run_dir / "insertion" / "insertion.json"
    if "insertion" not in steps or not path.exists():
        return {}, {}
    payload = json.loads(path.read_text())
    # negatives are real windows of the data; shuffles stand in where there are none
    chosen: dict[str, dict] = {}
    for entry in payload.get("motifs", []):
        if entry.get("best") and (entry["motif"] not in chosen or entry["background"] == "negatives"):
            chosen[entry["motif"]] = entry
    columns = {motif: {"insert_delta_p": e["best"]["mean_delta_p"], "insert_low": e["best"]["ci_low"],
                       "insert_high": e["best"]["ci_high"], "insert_offset": e["best"]["offset"],
                       "insert_strand": e["best"]["strand"], "insert_background": e["background"]}
               for motif, e in chosen.items()}
    images = {motif: _image(run_dir / "insertion" / f"insertion_{file_stem(motif)}.png") for motif in chosen}
    return columns, {"profiles": images, "not_tested": payload.get("not_tested", []),
                     "max_evalue": payload.get("max_evalue")}


def _representations(run_dir: Path, steps: dict) -> dict | None:
    """The embed step's separability numbers per stage and its panel, when it ran."""
    if "embed" not in steps or not (run_dir / "embed.tsv").exists():
        return None
    record = steps["embed"]
    return {"numbers": _records(pd.read_csv(run_dir / "embed.tsv", sep="\t")), "windows": record.get("windows"),
            "color_by": record.get("config", {}).get("color_by"), "panel": _image(run_dir / "embed.png")}
