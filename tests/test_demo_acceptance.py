"""Acceptance on the shipped demo checkpoint and freshly generated synthetic data:
the model classifies, and CAD, CWGA and the motif workflow recover the planted grammar
(a GAGG core starting anywhere in 12-24, an A-tract 9-12 bp before it)."""

import importlib.util
import shutil

import numpy as np
import pandas as pd
import pytest

from conftest import DEMO_CHECKPOINT, needs_native_bf16
from medna_interp.training.evaluate import evaluate
from medna_interp.core.metrics import roc_auc
from medna_interp.core.settings import Common
from medna_interp.motifs.modisco import ModiscoOptions
from medna_interp.runs.explain import run_cad, run_cwga
from medna_interp.runs.follow_up import run_motifs
from medna_interp.data.synth import planted_mask, write_synthetic

pytestmark = pytest.mark.skipif(not (DEMO_CHECKPOINT / "model.safetensors").exists(), reason="no demo checkpoint")


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    # a seed the demo never saw (it was trained on seed 0 and tested on seed 1)
    return write_synthetic(tmp_path_factory.mktemp("demo") / "data", n_train=0, n_test=2000, seed=11)


# bf16 must recover the same grammar before it may be used for explaining (issue: bf16 path)
@pytest.fixture(scope="module", params=["fp32", pytest.param("bf16", marks=needs_native_bf16)])
def run(synthetic, tmp_path_factory, request):
    run_dir = tmp_path_factory.mktemp("demo") / "run"
    common = Common(device="cpu", precision=request.param)
    run_cad(DEMO_CHECKPOINT, synthetic / "test.tsv", run_dir, common=common)
    run_cwga(DEMO_CHECKPOINT, synthetic / "test.tsv", run_dir, progress=False, common=common)
    return run_dir


def test_demo_auc_on_fresh_synthetic_data(synthetic, tmp_path):
    (row,) = evaluate([DEMO_CHECKPOINT], [synthetic / "test.tsv"], tmp_path / "eval", device="cpu")
    assert row["auc"] >= 0.95


def test_cad_top10_kmers_include_the_gagg_core(run):
    table = pd.read_csv(run / "cad_kmer.tsv", sep="\t")
    top = table.token.head(10).tolist()
    assert any("GAGG" in token for token in top), top


def test_cwga_ranks_planted_bases_above_the_rest(run, synthetic):
    arrays = np.load(run / "attributions.npz")
    mask = planted_mask(list(arrays["ids"]), synthetic / "sites.tsv", 41)
    positives = np.flatnonzero(arrays["labels"] == 1)
    per_view, auroc = {}, {}
    for view in ("kmer", "bpe"):
        scores = arrays[f"{view}_per_base"]
        per_view[view] = scores / np.abs(scores).sum(1, keepdims=True)
        auroc[view] = np.mean([roc_auc(mask[i], scores[i]) for i in positives])
    combined = per_view["kmer"] + per_view["bpe"]
    auroc["combined"] = np.mean([roc_auc(mask[i], combined[i]) for i in positives])
    # the target is per-base AUROC >= 0.9 over the planted spans. The k-mer view
    # carries it (0.96 in fp32); the BPE view sees a core that moves between windows through
    # tokens that move with it, and ranks the planted bases only somewhat above the rest (0.67)
    assert auroc["kmer"] >= 0.9 and auroc["combined"] >= 0.9, auroc
    assert auroc["bpe"] >= 0.6, auroc


@pytest.fixture(scope="module")
def motifs(run):
    modisco = ModiscoOptions() if importlib.util.find_spec("modiscolite") else None
    # the linear source is left out: a linear model cannot represent the demo's grammar (its
    # cross-fitted selection finds nothing here), and its four fits cost 25 s a precision
    result = run_motifs(run, database=None, modisco=modisco, linear=False)
    return result.table, pd.read_csv(run / "motifs" / "sites.tsv", sep="\t")


def test_model_guided_motifs_find_the_core_and_the_a_tract(motifs):
    table, _ = motifs
    guided = table[table.source != "raw"].dropna(subset=["evalue"])
    significant = guided[guided.evalue <= 0.05]
    assert significant.consensus.str.contains("GAGG").any()
    a_rich = significant.consensus.map(lambda c: c.count("A") / len(c) >= 0.6 and "AAAA" in c)
    assert a_rich.any(), significant[["source", "consensus", "evalue"]]


def test_tf_modisco_on_cwga_recovers_the_core_and_the_a_tract_as_discoveries(motifs):
    pytest.importorskip("modiscolite")
    table, _ = motifs
    found = table[table.source.str.startswith("modisco_cwga") & table.discovery.astype(bool)]
    # TF-MoDISco keeps the grammar whole: its strongest pattern is the tract, a gap and the
    # core (AAANNNNNGAGG), and a second is the tract alone
    assert found.consensus.str.contains("GAGG").any(), table[table.source.str.startswith("modisco")]
    a_rich = found.consensus.map(lambda c: c.count("A") / len(c) >= 0.6 and "AAAA" in c)
    assert a_rich.any(), table[table.source.str.startswith("modisco")]


def test_the_modisco_command_writes_motifs_contribution_weights_and_logos(run, tmp_path):
    pytest.importorskip("modiscolite")
    from medna_interp.motifs.modisco import modisco

    result = modisco(run, "cwga", "kmer", tmp_path / "modisco")
    patterns = pd.read_csv(tmp_path / "modisco" / "patterns.tsv", sep="\t")
    assert list(patterns.motif) == [m.id for m in result.motifs] and (patterns.evalue <= 0.05).any()
    cwms = np.load(tmp_path / "modisco" / "cwms.npz")
    assert all(cwms[m.id].shape == m.pwm.shape for m in result.motifs)
    assert all((tmp_path / "modisco" / f"{m.id.replace(':', '_')}__cwm.png").exists() for m in result.motifs)
    assert (tmp_path / "modisco" / "modisco.meme").read_text().count("MOTIF") == len(result.motifs)


def test_gagg_sites_fall_where_the_grammar_puts_the_core_and_more_in_positives(motifs):
    table, sites = motifs
    # the raw baselines on CAD's and CWGA's own windows are left out: on CWGA's 100 + 100
    # windows STREME's GAGG motif is a wide GA-repeat (AGAGGAGGNN) whose sites fall anywhere
    matched_sample = table.source.str.endswith("_windows")
    core = table[table.consensus.fillna("").str.contains("GAGG") & table.significant & ~matched_sample]
    assert len(core)
    for motif, consensus in zip(core.motif, core.consensus):
        own = sites[sites.motif == motif]
        # the 0-based start of the GAGG inside each site (sites are 1-based, forward strand)
        gagg = own.start - 1 + consensus.index("GAGG")
        in_range = gagg.between(12, 24)
        positives, negatives = in_range[own.label == 1].mean(), in_range[own.label == 0].mean()
        # 13 of 38 starts; nine in ten positives' sites fall there (the other few are chance
        # GAGGs), and clearly fewer negatives' sites: decoys carry the core elsewhere
        assert positives >= 0.85 and positives - negatives >= 0.2, (motif, positives, negatives)
    # every positive carries the core, and fewer than six in ten negatives do: decoys carry it
    # alone or beside a misplaced tract (the old demo's negatives rarely did, so this was 2x)
    assert any(row.frac_pos_with_site >= 0.95 and row.frac_pos_with_site >= 1.6 * row.frac_neg_with_site
               for row in core.itertuples()), core[["motif", "frac_pos_with_site", "frac_neg_with_site"]]


def test_the_planted_core_and_a_tract_survive_gc_adjustment(run):
    tables = {f"{method}_{view}": pd.read_csv(run / f"{method}_{view}.tsv", sep="\t")
              for method in ("cad", "cwga") for view in ("kmer", "bpe")}
    for pattern in ("GAGG", "AAAAA"):
        # each planted motif keeps a token at q < 1e-6 within GC strata, in some method and view
        best = min(t[t.token.str.contains(pattern)].q_adj.min() for t in tables.values())
        assert best < 1e-6, (pattern, best)
        # and no CAD token of it at q < 1e-6 loses its effect: same sign, at least 70 % of its size
        # (significance can fall where a token occurs in few negatives per stratum; its size cannot).
        # Sizes are compared where they are measured: with fewer than 10 negatives d's standard
        # error (about 0.5 at 5 negatives and d = 2) exceeds the 30 % margin, and a token that no
        # GC stratum holds twice in each class has no adjusted d at all (NaN)
        compared = 0
        for view in ("kmer", "bpe"):
            cad = tables[f"cad_{view}"]
            strong = cad[cad.token.str.contains(pattern) & (cad.q_value < 1e-6) & (cad.n_neg >= 10)
                         & cad.cad_adj.notna()]
            kept = (np.sign(strong.cad_adj) == np.sign(strong.cad)) & (strong.cad_adj.abs() >= 0.7 * strong.cad.abs())
            assert kept.all(), strong[["token", "cad", "q_value", "cad_adj", "q_adj"]]
            compared += len(strong)
        # the size check tests something for the core. CAD contrasts attention on one token
        # between the classes, and the demo's decoys carry A-tracts (alone, or at a wrong
        # spacing) as often as positives do: its A-tract tokens have d near 0.2, never q < 1e-6,
        # so for the tract the first check (CWGA's tokens, q_adj near 1e-10) is the test
        if pattern == "GAGG":
            assert compared >= 3, (pattern, compared)


@pytest.fixture(scope="module")
def matched_motifs(run, tmp_path_factory):
    copy = tmp_path_factory.mktemp("matched") / "run"
    shutil.copytree(run, copy, ignore=shutil.ignore_patterns("motifs"))
    # STREME's E-values against matched controls are the subject, not discoveries: no null
    return run_motifs(copy, controls="matched", linear=False, permute_labels=False)


def test_the_planted_motifs_survive_gc_matched_controls(matched_motifs):
    table = matched_motifs.table.dropna(subset=["evalue"])
    strong = table[table.evalue < 1e-6]
    assert strong.consensus.str.contains("GAGG").any(), table[["source", "consensus", "evalue"]]
    assert strong.consensus.str.contains("AAAAA").any(), table[["source", "consensus", "evalue"]]
    assert not (strong.composition == "explained by composition").any()
    sources = matched_motifs.sources.set_index("source")
    assert sources.loc["raw", "controls"].startswith("GC-matched negatives")
    # a source whose own negatives cannot be matched is left out with a note, not run against others
    unmatched = sources[~sources.controls.str.startswith("GC-matched negatives")]
    assert (unmatched.controls == "matched: too few negatives").all() and (unmatched.motifs == 0).all()


def test_the_report_shows_four_stages_and_the_model_separates_better_than_its_inputs(run, motifs, synthetic):
    import json

    from medna_interp.reporting import write_report
    from medna_interp.runs.explain import run_embed

    run_embed(DEMO_CHECKPOINT, synthetic / "test.tsv", run, color_by="GAGG", common=Common(device="cpu"))
    files = write_report(run)
    shown = json.loads(files.json.read_text())["representations"]
    numbers = {row["stage"]: row for row in shown["numbers"]}
    assert list(numbers) == ["raw", "post_dnabert", "post_film", "post_moe"] and shown["windows"] == 2000
    assert numbers["post_moe"]["knn_accuracy"] >= numbers["raw"]["knn_accuracy"]
    assert shown["color_by"] == "GAGG"
    html = files.html.read_text()
    assert "<h2>Representations</h2>" in html and "UMAP of the four stages" in html
    if importlib.util.find_spec("modiscolite"):  # TF-MoDISco's motifs carry their contribution logos
        assert "modisco_cwga_kmer" in html and 'alt="contribution weights"' in html
