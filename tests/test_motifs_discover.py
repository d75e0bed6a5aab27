"""The statistics of motif discovery (medna_interp.motifs.discover): the significance gate,
matches corrected for the database size, raw baselines on each source's own windows, and
the label-permuted null, with the real STREME and TOMTOM on small inputs."""

import json

import numpy as np
import pandas as pd
import pytest

from conftest import DEMO_CHECKPOINT
from medna_interp.reporting import write_report
from medna_interp.core.settings import Common
from medna_interp.runs.explain import run_cad, run_cwga
from medna_interp.runs.follow_up import run_motifs
from medna_interp.data.synth import write_synthetic
from medna_interp.training.train import TrainConfig, train

pytestmark = pytest.mark.skipif(not (DEMO_CHECKPOINT / "model.safetensors").exists(), reason="no demo checkpoint")


def _permuted(path, output, seed):
    table = pd.read_csv(path, sep="\t", dtype=str)
    table["label"] = np.random.default_rng(seed).permutation(table.label.to_numpy())
    table.to_csv(output, sep="\t", index=False)
    return output


@pytest.fixture(scope="module")
def null_run(tmp_path_factory):
    """A model that memorised a label-permuted synthetic set, explained on the windows it
    memorised: the only way a model of noise is sure of both classes (on new windows it
    calls everything negative, and the selection would be empty)."""
    root = tmp_path_factory.mktemp("null")
    data = write_synthetic(root / "data", n_train=1000, n_test=0, seed=5)
    permuted = _permuted(data / "train.tsv", root / "train_permuted.tsv", seed=1)
    memorise = TrainConfig(epochs=12, patience=12, augment=0.0, flood=0.0, lr=2e-3)
    checkpoint, _ = train(permuted, root / "ckpt", config=memorise, device="cpu", progress=False)
    run_dir = root / "run"
    common = Common(device="cpu")
    run_cad(checkpoint, permuted, run_dir, confidence=0.8, common=common)
    run_cwga(checkpoint, permuted, run_dir, confidence=0.8, progress=False, common=common)
    result = run_motifs(run_dir, permute_labels=True)
    write_report(run_dir)
    return run_dir, result


def test_on_permuted_labels_no_significant_motif_has_a_corrected_match_but_the_paper_metric_finds_small_p(null_run):
    run_dir, result = null_run
    table = result.table[result.table.motif != ""]
    assert len(table) >= 9  # every source reported motifs, and each was judged
    assert not table.named.any(), table[table.significant][["source", "consensus", "evalue", "best_match_e"]]
    # each source's gate is a 5 % family-wise test: a stray false positive may pass it, the
    # raw baseline on all (permuted) windows must not, nor may most sources
    sources = result.sources.set_index("source")
    assert sources.loc["raw", "significant"] == 0 and (sources.significant == 0).mean() >= 0.5
    # the uncorrected "best TOMTOM p of any motif" still looks like a discovery
    assert table.best_match_p.min() < 1e-3 and sources.best_p_uncorrected.min() < 1e-3
    rows = json.loads((run_dir / "report.json").read_text())["comparison"]
    assert all(row["named_match"] is None for row in rows)
    assert min(row["paper_best_p"] for row in rows if row["paper_best_p"] is not None) < 1e-3


def test_raw_baselines_use_exactly_the_windows_each_source_selected(null_run):
    run_dir, result = null_run
    sources = result.sources.set_index("source")
    selection = pd.read_csv(run_dir / "selection.tsv", sep="\t", dtype={"id": str})
    assert sources.loc["cad_kmer", "raw_baseline"] == sources.loc["cad_bpe", "raw_baseline"] == "raw_cad_windows"
    matched = sources.loc["raw_cad_windows"]
    assert (matched.n_primary, matched.n_control) == ((selection.label == 1).sum(), (selection.label == 0).sum())
    primary = (run_dir / "motifs" / "raw_cad_windows" / "primary.fa").read_text().split(">")[1:]
    chosen = dict(zip(selection.id, selection.sequence))
    for record in primary:
        ident, sequence = record.split("\n", 1)
        assert chosen[ident.split()[0]] == sequence.replace("\n", "")  # whole windows
    everything = sources.loc["raw"]
    assert everything.n_primary + everything.n_control == 1000


def test_the_null_repeat_permutes_labels_and_is_reported_beside_the_real_result(null_run):
    run_dir, result = null_run
    null = pd.read_csv(run_dir / "motifs" / "null" / "sources.tsv", sep="\t")
    assert list(null.source) == list(result.sources.source) and null.named.sum() == 0
    # each gate is a 5 % family-wise test, so one stray motif may pass it (on this data the raw
    # baseline's TGCC at E 0.046); most sources find nothing
    assert null.set_index("source").loc["raw", "significant"] <= 1 and (null.significant == 0).mean() >= 0.5
    assert json.loads((run_dir / "motifs" / "summary.json").read_text())["null"] == {"seed": 0}
    page = (run_dir / "report.html").read_text()
    assert "Significant under the null" in page and "the paper&#x27;s Table 2 metric" in page


@pytest.fixture(scope="module")
def demo_motifs(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    data = write_synthetic(root / "data", n_train=0, n_test=2000, seed=11)
    run_dir = root / "run"
    run_cad(DEMO_CHECKPOINT, data / "test.tsv", run_dir, common=Common(device="cpu"))
    run_cwga(DEMO_CHECKPOINT, data / "test.tsv", run_dir, progress=False, common=Common(device="cpu"))
    # significance and naming are the subject: the null (which decides discoveries) and the
    # linear source, with tests of their own, stay out; fewer searches only lower the run E
    return run_dir, run_motifs(run_dir, database=None, linear=False, permute_labels=False)


def _has_core_and_a_tract(rows: pd.DataFrame) -> tuple[bool, bool]:
    core = rows.consensus.str.contains("GAGG").any()
    # the planted AAAAA; STREME's narrowest width (4) may report a piece of it such as TAAA
    a_tract = rows.consensus.map(lambda c: "AAA" in c and c.count("A") / len(c) >= 0.6).any()
    return core, a_tract


def test_the_planted_core_and_a_tract_pass_the_gate_from_a_guided_source_and_every_raw_baseline(demo_motifs):
    _, result = demo_motifs
    significant = result.table[result.table.significant]
    guided = significant[significant.source.isin(result.sources.source[result.sources.kind == "model-guided"])]
    assert _has_core_and_a_tract(guided) == (True, True), guided[["source", "consensus", "evalue"]]
    baselines = result.sources[result.sources.kind == "raw baseline"].source
    assert {"raw", "raw_cad_windows", "raw_cwga_windows"} <= set(baselines)
    raw = significant[significant.source.isin(baselines)]
    assert _has_core_and_a_tract(raw) == (True, True)
    # STREME on all windows finds the core but not the tract: the demo's decoy negatives carry
    # the A-tract (alone, or at a wrong spacing) about as often as the positives do, so only
    # windows the model picked out (or its attributions) single it out
    assert _has_core_and_a_tract(significant[significant.source == "raw"])[0]
    # every raw baseline but CWGA's finds the core: on CWGA's 100 + 100 windows, where half the
    # negatives are decoys that carry GAGG too, STREME's held-out test has too few to pass it
    for source in baselines[baselines != "raw_cwga_windows"]:
        assert _has_core_and_a_tract(significant[significant.source == source])[0], source


def test_matches_are_corrected_for_the_motifs_searched_and_name_only_below_the_threshold(demo_motifs):
    run_dir, result = demo_motifs
    summary = json.loads((run_dir / "motifs" / "summary.json").read_text())
    assert summary["database_motifs"] > 800 and summary["max_evalue"] == summary["match_thresh"] == 0.05
    matched = result.table.dropna(subset=["best_match_p"])
    assert len(matched)
    expected = matched.best_match_p * summary["database_motifs"]
    assert np.allclose(matched.best_match_e, expected, rtol=0.02)
    named = result.table.named.astype(bool)
    assert (result.table.significant[named]).all()
    assert (result.table.best_match_e[named] <= 0.05).all()
    unnamed_matches = matched[~matched.named.astype(bool)]
    assert (~unnamed_matches.significant | (unnamed_matches.best_match_e > 0.05)).all()


def test_a_source_that_finds_motifs_under_permuted_labels_is_not_calibrated_and_offers_no_discoveries():
    from medna_interp.motifs.calibration import judge_sources
    from medna_interp.motifs.discover import MOTIF_COLUMNS, SOURCE_COLUMNS

    def tables(rows, significant):
        motifs = pd.DataFrame([{"source": s, "motif": m, "significant": sig, "note": ""} for s, m, sig in rows],
                              columns=MOTIF_COLUMNS)
        sources = pd.DataFrame([{"source": s, "kind": "model-guided", "significant": n} for s, n in significant.items()],
                               columns=SOURCE_COLUMNS)
        return sources, motifs

    sources, motifs = tables([("cad_kmer", "cad_kmer:1-GAGG", True), ("cad_kmer", "cad_kmer:2-TTT", False),
                              ("cwga_kmer", "cwga_kmer:1-GAGG", True), ("ism_bases", "ism_bases:1-GAGG", True)],
                             {"cad_kmer": 1, "cwga_kmer": 1, "ism_bases": 1})
    null_sources, _ = tables([], {"cad_kmer": 1, "cwga_kmer": 0})  # ISM was not rerun
    judged, flagged = judge_sources(sources, motifs, null_sources, {"cad_kmer", "cwga_kmer"})
    judged = judged.set_index("source")
    assert judged.null_check.to_dict() == {"cad_kmer": "not calibrated", "cwga_kmer": "calibrated",
                                           "ism_bases": "not tested"}
    assert judged.null_significant.loc["cad_kmer"] == 1 and pd.isna(judged.null_significant.loc["ism_bases"])
    flagged = flagged.set_index("motif")
    assert flagged.discovery.to_dict() == {"cad_kmer:1-GAGG": False, "cad_kmer:2-TTT": False,
                                           "cwga_kmer:1-GAGG": True, "ism_bases:1-GAGG": True}
    assert "under permuted labels cad_kmer found 1 significant motif" in flagged.note["cad_kmer:1-GAGG"]
    assert "discovery" not in motifs or motifs.discovery.isna().all()  # the inputs are left alone
    # without the null nothing is judged: every source untested, significant motifs count
    untested, counted = judge_sources(sources, motifs, None, set())
    assert set(untested.null_check) == {"not tested"} and counted.discovery.sum() == 3


def test_the_report_and_the_sources_table_say_which_sources_the_null_failed(null_run):
    run_dir, result = null_run
    sources = result.sources.set_index("source")
    null = pd.read_csv(run_dir / "motifs" / "null" / "sources.tsv", sep="\t").set_index("source")
    expected = {s: "calibrated" if null.significant[s] == 0 else "not calibrated" for s in null.index}
    assert sources.null_check.to_dict() == expected
    report = json.loads((run_dir / "report.json").read_text())
    rows = {row["source"]: row for row in report["comparison"]}
    assert all(rows[s]["null_check"] == check for s, check in expected.items())
    failed = [s for s, check in expected.items() if check == "not calibrated"]
    if failed:
        assert any(w.startswith(f"not calibrated: under permuted labels {', '.join(failed)}") for w in report["warnings"])
    assert "Null check" in (run_dir / "report.html").read_text()
    table = result.table[result.table.motif != ""]
    assert not table[table.source.isin(failed)].discovery.any()
