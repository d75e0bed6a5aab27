"""One self-contained HTML page: inline CSS, inline PNGs, a few lines of inline JS to
sort tables. Nothing is loaded from the network; only JASPAR matrix pages are linked."""

from __future__ import annotations

import html
from datetime import datetime, timezone

from ..core.margin import EXPLAINING_MARGIN, MEANINGS, Versus

#: the first screen's headline per verdict of :class:`medna_interp.core.margin.Versus`
VERDICT_TITLES = {"adds": "Worth explaining", "near": "Near its linear baseline",
                  "below": "Below its linear baseline", "unknown": "No baseline recorded"}

CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2rem auto;max-width:1100px;color:#222;padding:0 1rem}
h1{margin-bottom:.2rem}h2{border-bottom:2px solid #ddd;padding-bottom:.2rem;margin-top:2.2rem}
.sub{color:#666}.warn{background:#fff4e5;border-left:4px solid #f0a020;padding:.6rem 1rem;margin:1rem 0}
table{border-collapse:collapse;margin:.6rem 0;font-size:.88rem}th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:middle}
th{background:#f4f6f8;cursor:pointer;user-select:none}th.nosort{cursor:default}tr:nth-child(even) td{background:#fafbfc}
code,.mono{font-family:SFMono-Regular,Menlo,Consolas,monospace}.grid{display:flex;flex-wrap:wrap;gap:1rem}
.grid figure{margin:0}figcaption{font-size:.8rem;color:#555}img.logo{height:70px}img.aligned{height:110px}
img.positional{max-width:100%}details.insignificant{color:#888}details.insignificant img{opacity:.5}
.unnamed{color:#999;text-decoration:line-through}img.panel{max-width:min(100%,900px)}.tables{display:flex;flex-wrap:wrap;gap:1.5rem}pre{background:#f4f6f8;padding:.6rem;overflow-x:auto;font-size:.8rem}
"""

SORT_JS = """
document.querySelectorAll('table.sortable th').forEach(function(th){th.addEventListener('click',function(){
var table=th.closest('table'),body=table.tBodies[0],i=Array.prototype.indexOf.call(th.parentNode.children,th);
var asc=th.dataset.asc!=='1';th.dataset.asc=asc?'1':'0';
var rows=Array.prototype.slice.call(body.rows);rows.sort(function(a,b){
var x=a.cells[i].dataset.v||a.cells[i].textContent,y=b.cells[i].dataset.v||b.cells[i].textContent;
var nx=parseFloat(x),ny=parseFloat(y);var c=(isNaN(nx)||isNaN(ny))?x.localeCompare(y):nx-ny;return asc?c:-c;});
rows.forEach(function(r){body.appendChild(r);});});});
"""


def _e(value) -> str:
    return html.escape("" if value is None else str(value))


def _num(value, digits: int = 3) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        return _e(value)
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}g}"


def _table(rows: list[dict], columns: list[tuple[str, str]], sortable: bool = True) -> str:
    head = "".join(f"<th>{_e(label)}</th>" for _, label in columns)
    body = []
    for row in rows:
        cells = []
        for key, _ in columns:
            value = row.get(key)
            sort = f' data-v="{_e(value)}"' if isinstance(value, (int, float)) else ""
            cells.append(f"<td{sort}>{_num(value) if isinstance(value, (int, float)) else _e(value)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    kind = "sortable" if sortable else ""
    return f'<table class="{kind}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _image(data: str | None, css: str, alt: str) -> str:
    return f'<img class="{css}" alt="{_e(alt)}" src="{data}">' if data else ""


def _figures(images: dict) -> str:
    """A captioned figure for every name with an image."""
    return "".join(f"<figure>{_image(data, 'positional', name)}<figcaption>{_e(name)}</figcaption></figure>"
                   for name, data in images.items() if data)


def _insertion_cell(motif: dict) -> str:
    if motif.get("insert_delta_p") is None:
        return "—"
    return (f"{_num(motif['insert_delta_p'])} [{_num(motif['insert_low'])}, {_num(motif['insert_high'])}] "
            f"<small>{_e(motif['insert_strand'])}, {_e(motif['insert_background'])}</small>")


def _composition_cell(motif: dict) -> str:
    if motif.get("frac_matched_with_site") in (None, ""):
        return "—"
    cell = f"{_num(motif['frac_matched_with_site'], 2)} ({_num(motif.get('composition_p'))})"
    if motif.get("composition"):
        cell += f" <span class='unnamed'>{_e(motif['composition'])}</span>"
    return cell


def _motif_table(motifs: list[dict]) -> str:
    rows = []
    for m in motifs:
        match = (f'<a href="{_e(m["url"])}">{_e(m["best_match_name"])} ({_e(m["best_match_id"])})</a>'
                 if m.get("url") else _e(m.get("best_match_name") or "—"))
        if m.get("best_match_id") and not m["named"]:
            match = f"<span class='unnamed' title='{_e(m['note'])}'>{match}</span>"
        rows.append(
            f"<tr><td>{_image(m['logo'], 'logo', m['consensus'])}"
            f"{_image(m['cwm_logo'], 'contribution logo', 'contribution weights') if m.get('cwm_logo') else ''}</td>"
            f"<td class='mono'>{_e(m['consensus'])}</td>"
            f"<td data-v='{m['evalue'] or ''}'>{_num(m['evalue'])}</td>"
            f"<td data-v='{m.get('run_evalue') or ''}'>{_num(m.get('run_evalue'))}</td><td>{_num(m['pvalue'])}</td>"
            f"<td>{_num(m['sites'])}</td><td>{_num(m['frac_pos_with_site'], 2)} / {_num(m['frac_neg_with_site'], 2)}</td>"
            f"<td>{match}</td><td data-v='{m['best_match_p'] or ''}'>{_num(m['best_match_p'])}</td>"
            f"<td>{_num(m['best_match_e'])}</td><td>{_num(m['best_match_q'])}</td>"
            f"<td>{_image(m['aligned_logo'], 'aligned', 'aligned match')}</td>"
            f"<td data-v='{m.get('effect_delta_p', '')}'>{_num(m.get('effect_delta_p'))}</td>"
            f"<td>{_num(m.get('effect_q'))}</td><td>{_num(m.get('effect_windows'))}</td>"
            f"<td data-v='{m.get('insert_delta_p', '')}'>{_insertion_cell(m)}</td>"
            f"<td>{_e(m.get('insert_offset', '—'))}</td>"
            f"<td>{_composition_cell(m)}</td></tr>")
    return ("<table class='sortable'><thead><tr><th class='nosort'>Logo</th><th>Consensus</th><th>E</th><th>Run E</th>"
            "<th>p</th><th>Sites</th><th>With site: pos / neg</th><th>Best match</th><th>Match p</th>"
            "<th>Match E</th><th>Match q</th><th class='nosort'>Aligned (TOMTOM)</th>"
            "<th>&Delta;P when ablated</th><th>Effect q</th><th>Positives with a site</th>"
            "<th>&Delta;P when inserted [95 % CI]</th><th>Best start</th>"
            "<th>With site: GC-matched neg (p)</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>")


def _composition_section(composition: dict | None) -> str:
    if not composition:
        return ""
    check = composition.get("check") or {}
    if check.get("matched"):
        matched = (f"{check['n_matched']} GC-matched negative windows (GC Kolmogorov-Smirnov statistic against the "
                   f"positives {_num(check['gc_ks_before'])} for all negatives, {_num(check['gc_ks_after'])} "
                   "matched)")
    else:
        matched = f"no GC-matched negatives ({_e(check.get('reason', 'motifs not run'))})"
    return ("<h2>Composition</h2><p>Positives against negatives, in the whole data and in CAD's selection: GC "
            "fraction, CpG observed/expected and the dinucleotide frequencies that differ materially (|Cohen's d| "
            "&ge; 0.5 with Benjamini-Hochberg q &lt; 0.01 of a Mann-Whitney test): a difference of that size lets a "
            "GC-rich token or motif look enriched by composition alone. The adjusted token columns compare classes "
            "within GC strata; motif discovery used <b>" + _e(composition["controls"]) + "</b> controls, and each "
            f"motif's sites were also counted in {matched}.</p>"
            + _table(composition["rows"], [("set", "Windows"), ("feature", "Feature"), ("mean_pos", "Mean +"),
                                           ("mean_neg", "Mean −"), ("effect_d", "Cohen's d"), ("q_value", "q"),
                                           ("material", "Material")]))


def _strand_section(strand: dict | None) -> str:
    if not strand:
        return ""
    from ..interpret.strand import CONSISTENT_AGREEMENT, CONSISTENT_R

    verdict = ("The model is strand-consistent: its motifs may be searched on both strands (<code>motifs "
               "--strands both</code>)." if strand["consistent"] else
               "The model is not strand-consistent: keep STREME on the given strand (<code>--strands single</code>); "
               "for windows oriented on a modified A or C that is expected, not a flaw.")
    averaged = (" The stored per-base attributions are the mean of both strands (<code>--rc-average</code>)."
                if strand.get("rc_average") else "")
    return ("<h2>Strands</h2><p>Each selected window's reverse complement predicted and explained again (CWGA "
            "with the same dimensions and weights, ISM with every substitution), the per-base scores mapped back to "
            "forward coordinates: mean and median per-window Pearson r against the forward strand over the "
            "positives (a negative's scores are mostly noise) and the mean over the negatives, the share of "
            "windows given the same class on both strands, and the Pearson r of the two P(modified). Consistent: "
            f"agreement &ge; {CONSISTENT_AGREEMENT} and mean r &ge; {CONSISTENT_R} for every method but the BPE "
            "view, whose tokens are cut differently on the other strand (reported, not judged). "
            f"{verdict}{averaged}</p>"
            + _table(strand["methods"], [("method", "Method"), ("windows", "Windows"),
                                         ("mean_r", "Mean r (positives)"), ("median_r", "Median r (positives)"),
                                         ("mean_r_negatives", "Mean r (negatives)"),
                                         ("prediction_agreement", "Same class"),
                                         ("probability_r", "r of P(modified)")], sortable=False))


def render(content: dict) -> str:
    """The self-contained HTML page (images inlined as data URIs, no external references) of ``content``."""
    summary = content["summary"]
    metrics = summary.get("model_metrics") or {}
    parts = [f"<h1>Motif report</h1><p class='sub'>{_e(content['run_dir'])} &middot; generated "
             f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC</p>"]
    recorded = summary.get("baseline") or {}
    versus = Versus(recorded.get("model_auc"), recorded.get("baseline_auc"))
    if versus.model_auc is not None:
        baseline = ("not recorded (trained before baselines)" if versus.baseline_auc is None
                    else f"{versus.baseline_auc:.3f} &middot; margin {versus.margin:+.3f} "
                         f"({EXPLAINING_MARGIN:.2f} needed)")
        parts.append(f"<p class='versus'><b>{VERDICT_TITLES[versus.verdict]}</b>: validation AUC: model "
                     f"{versus.model_auc:.3f} &middot; position-specific linear baseline {baseline}; "
                     f"{_e(MEANINGS[versus.verdict])}</p>")
    for warning in content["warnings"]:
        parts.append(f'<div class="warn">&#9888; {_e(warning)}</div>')

    cad_sel, cwga_sel = summary.get("selection_cad") or {}, summary.get("selection_cwga") or {}
    run_rows = [
        ("Checkpoint", summary["checkpoint"]), ("Data", f"{summary['data']} (sha256 {summary['data_sha256'][:12]}…)"),
        ("Windows / correctly classified", f"{cad_sel.get('input')} / {cad_sel.get('correct')}"),
        ("Model on this data", ", ".join(f"{k.upper()} {_num(metrics.get(k))}" for k in
                                         ("acc", "sn", "sp", "mcc", "auc", "auprc"))),
        ("CAD selection", f"{cad_sel.get('positives')} positives, {cad_sel.get('negatives')} negatives"),
        ("CWGA selection", f"{cwga_sel.get('positives')} positives, {cwga_sel.get('negatives')} negatives; "
                           f"top {summary['top_dims']} h_mod dimensions"),
        ("Motif database", summary["motif_database"]),
        ("Versions", ", ".join(f"{k} {v}" for k, v in (summary.get("versions") or {}).items())),
        ("Seeds", ", ".join(f"{k} {v}" for k, v in summary["seeds"].items())),
    ]
    parts.append("<h2>Run</h2><table>" + "".join(f"<tr><th class='nosort'>{_e(k)}</th><td>{_e(v)}</td></tr>"
                                                   for k, v in run_rows) + "</table>")

    parts.append(_composition_section(content.get("composition")))
    parts.append(_strand_section(content.get("strand")))

    gates = content.get("gates") or {}
    parts.append("<h2>What each source discovers</h2><p>A motif counts as discovered only when its run E-value "
                 "(its search's held-out E-value, from STREME or from TF-MoDISco's held-out enrichment test, times "
                 f"the {_num(gates.get('searches'))} searches of the run) is &le; {_num(gates.get('max_evalue'))} "
                 "and its source is calibrated; a database match names it only at TOMTOM "
                 f"E &le; {_num(gates.get('match_thresh'))} (p &times; the {_num(gates.get('database_motifs'))} "
                 "database motifs searched). Each model-guided source is listed with its raw baseline: STREME on "
                 "whole windows of exactly the positives and negatives that source selected. The last column is "
                 "the MEDNA-DFM paper's Table 2 metric, the smallest TOMTOM p of any motif whether significant or "
                 "not, uncorrected for the database size: kept for replication, never the headline.</p>")
    columns = [("source", "Source"), ("windows", "Compared"), ("sequences", "Sequences (primary / control)"),
               ("raw_baseline", "Raw baseline on the same windows"), ("significant", "Significant motifs"),
               ("top_motif", "Top motif"), ("top_motif_evalue", "STREME E"), ("named_match", "Named match"),
               ("named_motif", "named motif"), ("named_match_e", "Match E")]
    null = gates.get("null")
    if null:
        columns += [("null_significant", "Significant under the null"), ("null_named", "Named under the null"),
                    ("null_check", "Null check"), ("discoveries", "Discoveries")]
    columns.append(("paper_best_p", "Best p over all motifs, uncorrected (the paper's Table 2 metric)"))
    if null:
        columns.append(("null_paper_best_p", "the same under the null"))
    parts.append(_table(content["comparison"], columns))
    if null:
        parts.append(f"<p>The null: every step of motif discovery repeated with the labels of the windows and of "
                     f"each selection permuted (seed {_e(null.get('seed'))}), the windows and their scores kept "
                     "(RUN/motifs/null). A source that finds significant motifs there finds them without the "
                     "classes' contrast: it is marked not calibrated, and none of its motifs is a discovery. "
                     "Each source's gate is a 5 % family-wise test, so a calibrated source may still pass one "
                     "stray motif now and then; a source that does so on most data sets is the problem.</p>")

    parts.append("<h2>Positional logos</h2><p>kpLogo-style views over the window (0 = the candidate base). "
                 "Raw: base enrichment in positives vs negatives. CAD: per-base attention in positives minus the "
                 "negatives' mean. CWGA: per-base attribution in positives.</p><div>")
    parts.append(_figures(content["images"]) + "</div>")

    if content.get("faithfulness"):
        parts.append("<h2>Which explanation is the most faithful</h2><p>Deletion area: mean P(modified) of the "
                     "positives as their top-ranked bases are replaced (composition kept), averaged over k; lower is "
                     "more faithful. The random ranking is the floor.</p>")
        columns = [("method", "Method"), ("deletion_area", "Deletion area")]
        if "planted_auroc" in content["faithfulness"][0]:
            columns += [("planted_auroc", "Planted-site AUROC"), ("planted_auprc", "Planted-site AUPRC")]
        parts.append(_table(content["faithfulness"], columns))
    parts.append("<h2>Discovered motifs</h2><p>&Delta;P when ablated: mean change in P(modified) of the positives "
                 "carrying a site when those sites are shuffled (composition kept); the motifs the model needs "
                 "most come first, with the Benjamini-Hochberg q of a Wilcoxon signed-rank test. &Delta;P when "
                 "inserted: mean change in P(modified) when the motif is written into background windows at its "
                 "best start (see the grammar section), with a bootstrap 95 % interval. A struck-through match did "
                 "not pass the match threshold; motifs above the E-value threshold are folded away under each "
                 "source.</p>")
    for entry in content["sources"]:
        parts.append(f"<h3>{_e(entry['source'])}</h3>")
        if entry["motifs"]:
            parts.append(_motif_table(entry["motifs"]))
        else:
            parts.append("<p>No significant motif.</p>")
        if entry["not_significant"]:
            parts.append(f"<details class='insignificant'><summary>{len(entry['not_significant'])} motif(s) above "
                         f"the E-value threshold (not discovered)</summary>{_motif_table(entry['not_significant'])}"
                         "</details>")

    grammar = content.get("grammar") or {}
    if grammar.get("profiles"):
        parts.append("<h2>Grammar: where a motif must sit</h2><p>Each motif written into background windows "
                     "(negatives of the data, and dinucleotide shuffles with the centre kept) at every start on "
                     "both strands; the mean change in P(modified) with its bootstrap 95 % interval. A placement "
                     "that would change the centre base is skipped. The grey point is a k-mer of the same "
                     "composition at the motif's best start.</p><div>")
        parts.append(_figures(grammar["profiles"]) + "</div>")
    if grammar.get("not_tested"):
        parts.append(f"<p>Not inserted (STREME E above {_num(grammar.get('max_evalue'))}): "
                     f"{_e(', '.join(grammar['not_tested']))}.</p>")
    representations = content.get("representations")
    if representations:
        coloured = f"; positives split by whether they carry {_e(representations['color_by'])}" \
            if representations.get("color_by") else ""
        parts.append("<h2>Representations</h2><p>UMAP of "
                     f"{representations['windows']} windows (class-stratified sample) at four processing stages"
                     f"{coloured}. Silhouette of the labels in the feature space (cosine) and on the map; "
                     "5-fold cross-validated 15-nearest-neighbour accuracy in the feature space; clusters HDBSCAN "
                     "finds among the positives on the map.</p>")
        parts.append(_table(representations["numbers"],
                            [("stage", "Stage"), ("silhouette_features", "Silhouette (features)"),
                             ("silhouette_map", "Silhouette (map)"), ("knn_accuracy", "15-NN accuracy"),
                             ("positive_clusters", "Positive clusters")], sortable=False))
        parts.append(_image(representations["panel"], "panel", "UMAP of the four stages"))
    parts.append(f"<h2>Top tokens</h2><p>Top {len(next(iter(content['tokens'].values()), []))} tokens per "
                 "method and view; click a header to sort. GC-adjusted: the class contrast within GC-quantile "
                 "strata of the selected windows, combined by inverse variance, with its Benjamini-Hochberg q."
                 "</p><div class='tables'>")
    layouts = {"cad": [("token", "Token"), ("cad", "CAd"), ("p_value", "p"), ("q_value", "q"),
                       ("cad_adj", "CAd (GC-adj.)"), ("q_adj", "q (adj.)"), ("n_pos", "n+"), ("n_neg", "n−")],
               "cwga": [("token", "Token"), ("scaled_contribution", "Ĉ"), ("summed_contribution", "C"),
                        ("contribution_adj", "C (GC-adj.)"), ("q_adj", "q (adj.)"), ("n_pos", "n+"),
                        ("n_neg", "n−")]}
    for name, rows in content["tokens"].items():
        parts.append(f"<div><h3>{_e(name.replace('_', ' ').upper())}</h3>{_table(rows, layouts[name.split('_')[0]])}</div>")
    parts.append("</div><h3>Top h_mod dimensions (CWGA weights)</h3>")
    parts.append(_table(content["dims"], [("dim", "dim"), ("d", "Cohen's d"), ("p_value", "p"),
                                          ("mean_pos", "mean +"), ("mean_neg", "mean −")]))
    parts.append("<h2>Commands</h2><pre>" + _e("\n".join(summary["commands"].values())) + "</pre>")
    body = "\n".join(parts)
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>medna-interp report</title>"
            f"<style>{CSS}</style></head><body>{body}<script>{SORT_JS}</script></body></html>\n")
