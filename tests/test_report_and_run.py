"""The resumable run, the report and its bad inputs, on the demo checkpoint."""

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pandas as pd
import pytest

from conftest import DEMO_CHECKPOINT
from medna_interp.cli import main
from medna_interp.motifs.discover import DatabaseChoice
from medna_interp.core.provenance import read_provenance
from medna_interp.pipeline import RunOptions, run
from medna_interp.core.settings import Common
from medna_interp.runs.record import check_consistency
from medna_interp.data.synth import write_synthetic

pytestmark = pytest.mark.skipif(not (DEMO_CHECKPOINT / "model.safetensors").exists(), reason="no demo checkpoint")
OPTIONS = RunOptions(cwga={"progress": False, "n_samples": 50, "steps": 20, "strand_check": True},
                     motifs={"database": DatabaseChoice(tax="insects")},
                     insertion={"n_backgrounds": 10, "bootstrap": 100}, embed={"max_windows": 200})


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    data = write_synthetic(tmp_path_factory.mktemp("data") / "d", n_train=0, n_test=600, seed=21)
    run_dir = tmp_path_factory.mktemp("runs") / "run"
    status = run(DEMO_CHECKPOINT, data / "test.tsv", run_dir, OPTIONS, Common(device="cpu"), log=lambda _: None)
    assert set(status.values()) == {"ran"}
    return data / "test.tsv", run_dir


def test_resume_after_cad_runs_only_the_missing_steps(finished_run, tmp_path):
    data, original = finished_run
    run_dir = tmp_path / "run"
    shutil.copytree(original, run_dir)
    # simulate an interruption right after CAD: every later output is gone
    for name in ("cwga_selection.tsv", "dims.tsv", "attributions.npz", "cwga_kmer.tsv", "cwga_bpe.tsv",
                 "effects.tsv", "report.html", "report.json", "embed.tsv", "embed.png", "embed.svg", "embeddings.npz"):
        (run_dir / name).unlink()
    shutil.rmtree(run_dir / "motifs")
    shutil.rmtree(run_dir / "insertion")
    cad_written = (run_dir / "cad_kmer.tsv").stat().st_mtime_ns
    # resumption is the subject: the motifs step runs three times here, so without its two
    # costliest parts (the linear source's cross-fits and the null), which have tests of their own
    options = RunOptions(cwga=OPTIONS.cwga, motifs={**OPTIONS.motifs, "linear": False, "permute_labels": False},
                         insertion=OPTIONS.insertion, embed=OPTIONS.embed)
    status = run(DEMO_CHECKPOINT, data, run_dir, options, Common(device="cpu"), log=lambda _: None)
    assert status == {"cad": "skipped", "cwga": "ran", "motifs": "ran", "effects": "ran", "insertion": "ran",
                      "embed": "ran", "report": "ran"}
    assert (run_dir / "cad_kmer.tsv").stat().st_mtime_ns == cad_written
    again = run(DEMO_CHECKPOINT, data, run_dir, options, Common(device="cpu"), log=lambda _: None)
    assert set(again.values()) == {"skipped"}
    changed = RunOptions(cwga={**options.cwga, "steps": 10}, motifs=options.motifs, insertion=options.insertion,
                         embed=options.embed)
    rerun = run(DEMO_CHECKPOINT, data, run_dir, changed, Common(device="cpu"), log=lambda _: None)
    assert rerun == {"cad": "skipped", "cwga": "ran", "motifs": "ran", "effects": "ran", "insertion": "ran",
                     "embed": "skipped", "report": "ran"}


class _References(HTMLParser):
    """Every URL the page would load, and every hyperlink."""

    def __init__(self):
        super().__init__()
        self.loads, self.links = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        for key in ("src", "srcset", "data", "poster", "background"):
            if attrs.get(key):
                self.loads.append(attrs[key])
        if tag == "link" and attrs.get("href"):
            self.loads.append(attrs["href"])


def test_report_has_no_external_references(finished_run):
    _, run_dir = finished_run
    page = (run_dir / "report.html").read_text()
    parser = _References()
    parser.feed(page)
    assert parser.loads and all(url.startswith("data:image/png;base64,") for url in parser.loads)
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", page) and "@import" not in page
    # the only hyperlinks are JASPAR matrix pages, which the user may follow
    assert all(link.startswith("https://jaspar.elixir.no/matrix/") for link in parser.links)


def test_report_content_names_the_planted_motifs(finished_run):
    _, run_dir = finished_run
    report = json.loads((run_dir / "report.json").read_text())
    guided = [s for s in report["sources"] if s["source"] != "raw"]
    assert any("GAGG" in m["consensus"] for s in guided for m in s["motifs"])
    # the A-tract passes its own search's test (CWGA's k-mer view: AAAAAATN, E 0.04) but not the
    # run-wide gate (E x 9 searches): on these 600 windows CWGA explains 50 per class. On the
    # demo's 2000 windows and CWGA's default 100 it passes both (test_demo_acceptance)
    assert any("AAAA" in m["consensus"] and m["evalue"] <= 0.05 for s in guided
               for m in s["motifs"] + s["not_significant"])
    assert {row["source"] for row in report["comparison"]} >= {"cad_kmer", "cwga_kmer", "raw", "linear_bases"}
    assert (run_dir / "motifs" / "logos" / "positional_linear_bases.png").exists()
    weights = (run_dir / "motifs" / "linear_model" / "linear_weights.tsv").read_text().splitlines()
    top = max((line.split("\t") for line in weights[1:]), key=lambda f: float(f[2]))
    # a G or A of the planted core, which starts anywhere at 1-based 13-25 (so spans 13-28):
    # a position-specific model can only spread its weight over where the core may sit
    assert 13 <= int(top[0]) <= 28 and top[1] in "GA"
    assert report["summary"]["model_metrics"]["auc"] > 0.95


def test_report_shows_the_composition_and_the_gc_adjusted_columns(finished_run):
    _, run_dir = finished_run
    report = json.loads((run_dir / "report.json").read_text())
    composition = report["composition"]
    shown = {(row["set"], row["feature"]) for row in composition["rows"]}
    assert {("data", "gc_fraction"), ("data", "cpg_oe"), ("selection", "gc_fraction")} <= shown
    assert composition["controls"] == "negatives" and composition["check"]["matched"]
    # the demo's classes share a background: no GC or CpG warning, and its planted motifs are not composition
    assert not any("differ in gc_fraction" in w or "differ in cpg_oe" in w for w in report["warnings"])
    motifs = [m for s in report["sources"] for m in s["motifs"]]
    assert not any(m["composition"] and "GAGG" in m["consensus"] for m in motifs)
    assert all("cad_adj" in row and "q_adj" in row for row in report["tokens"]["cad_kmer"])
    page = (run_dir / "report.html").read_text()
    assert "<h2>Composition</h2>" in page and "CAd (GC-adj.)" in page and "GC-matched neg" in page


def test_report_shows_the_strand_check_as_it_is(finished_run):
    _, run_dir = finished_run
    report = json.loads((run_dir / "report.json").read_text())
    strand = report["strand"]
    assert {row["method"] for row in strand["methods"]} == {"cwga_kmer", "cwga_bpe"}
    table = pd.read_csv(run_dir / "strand_cwga.tsv", sep="\t")
    assert table.mean_r.between(-1, 1).all() and table.prediction_agreement.between(0, 1).all()
    page = (run_dir / "report.html").read_text()
    assert "<h2>Strands</h2>" in page
    assert ("--strands both" in page) == strand["consistent"] and ("--strands single" in page) != strand["consistent"]


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium not installed")
def test_report_renders_in_headless_chromium(finished_run, tmp_path):
    _, run_dir = finished_run
    screenshot = tmp_path / "report.png"
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,2000",
                    f"--screenshot={screenshot}", (run_dir / "report.html").as_uri()],
                   capture_output=True, timeout=120)
    from PIL import Image

    pixels = Image.open(screenshot).convert("L")
    histogram = pixels.histogram()
    assert pixels.size == (1200, 2000)
    assert max(histogram) / sum(histogram) < 0.97  # not a blank page
    assert sum(histogram[:100]) > 1000  # dark text and logos were drawn


def test_report_on_a_directory_that_is_not_a_run(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "not a run directory" in err and "medna-interp run" in err


def test_report_on_a_run_missing_steps_names_them(finished_run, tmp_path, capsys):
    _, original = finished_run
    partial = tmp_path / "partial"
    shutil.copytree(original, partial)
    shutil.rmtree(partial / "motifs")
    (partial / "attributions.npz").unlink()
    assert main(["report", str(partial)]) == 2
    err = capsys.readouterr().err
    assert "missing steps cwga, motifs" in err and f"medna-interp motifs {partial}" in err
    assert len(err.strip().splitlines()) == 1


def _copy(finished_run, tmp_path):
    data, original = finished_run
    run_dir = tmp_path / "run"
    shutil.copytree(original, run_dir)
    return data, run_dir


def test_presentation_and_execution_options_do_not_recompute(finished_run, tmp_path):
    data, run_dir = _copy(finished_run, tmp_path)
    verbose = RunOptions(cwga={**OPTIONS.cwga, "progress": True, "internal_batch_size": 7}, motifs=OPTIONS.motifs,
                         insertion=OPTIONS.insertion, embed=OPTIONS.embed)
    status = run(DEMO_CHECKPOINT, data, run_dir, verbose, Common(device="cpu", batch_size=16), log=lambda _: None)
    assert set(status.values()) == {"skipped"}
    steps = json.loads((run_dir / "provenance.json").read_text())["steps"]
    for step in ("cad", "cwga", "motifs", "effects", "insertion", "embed", "report"):
        assert steps[step]["resources"]["wall_seconds"] > 0 and steps[step]["resources"]["peak_rss_mb"] > 0
        assert steps[step]["outputs"] and steps[step]["fingerprint"]


def test_deleted_or_altered_outputs_are_recomputed(finished_run, tmp_path):
    data, run_dir = _copy(finished_run, tmp_path)
    (run_dir / "cad_kmer.tsv").unlink()
    with open(run_dir / "dims.tsv", "a") as handle:
        handle.write("edited by hand\n")
    outputs = lambda: {step: record["outputs"] for step, record in read_provenance(run_dir)["steps"].items()}
    before = outputs()
    status = run(DEMO_CHECKPOINT, data, run_dir, OPTIONS, Common(device="cpu"), log=lambda _: None)
    assert status["cad"] == status["cwga"] == "ran" and status["embed"] == "skipped"
    after = outputs()
    # what was made from CAD and CWGA is current when they came back byte for byte the same; a BLAS
    # may round a last digit differently between calls, and then everything after them is redone
    same = all(before[step] == after[step] for step in ("cad", "cwga"))
    assert all(status[step] == ("skipped" if same else "ran") for step in ("motifs", "effects", "insertion", "report"))
    assert (run_dir / "cad_kmer.tsv").exists() and "edited by hand" not in (run_dir / "dims.tsv").read_text()
    shutil.rmtree(run_dir / "motifs" / "logos")
    status = run(DEMO_CHECKPOINT, data, run_dir, OPTIONS, Common(device="cpu"), log=lambda _: None)
    assert status["motifs"] == "ran" and status["cad"] == status["cwga"] == "skipped"
    check_consistency(run_dir)  # the report, rerun or not, was made from these motif files
    assert (run_dir / "motifs" / "logos").is_dir()


def test_report_refuses_cad_and_cwga_from_different_data(finished_run, tmp_path, capsys):
    data, run_dir = _copy(finished_run, tmp_path)
    other = write_synthetic(tmp_path / "other", n_train=0, n_test=300, seed=99) / "test.tsv"
    assert main(["cad", str(DEMO_CHECKPOINT), str(other), "-o", str(run_dir), "--device", "cpu"]) == 0
    capsys.readouterr()
    assert main(["report", str(run_dir)]) == 2
    err = capsys.readouterr().err
    assert "cad and cwga were run on different data" in err and len(err.strip().splitlines()) == 1
    assert f"medna-interp cwga {DEMO_CHECKPOINT} {other} -o {run_dir}" in err


def test_report_refuses_motifs_made_from_an_earlier_cad(finished_run, tmp_path, capsys):
    data, run_dir = _copy(finished_run, tmp_path)
    original = read_provenance(run_dir)["steps"]["cad"]["outputs"]
    assert main(["cad", str(DEMO_CHECKPOINT), str(data), "-o", str(run_dir), "--min-samples", "5",
                 "--device", "cpu"]) == 0
    capsys.readouterr()
    assert main(["report", str(run_dir)]) == 2
    err = capsys.readouterr().err
    assert "the motifs step was made from an earlier cad result" in err and f"medna-interp motifs {run_dir}" in err
    status = run(DEMO_CHECKPOINT, data, run_dir, OPTIONS, Common(device="cpu"), log=lambda _: None)
    # back to the run's options: when CAD comes back byte for byte (a BLAS may round a last digit
    # differently between calls), the motifs made from it are current again
    assert status["cad"] == "ran" and status["cwga"] == status["embed"] == "skipped"
    same = read_provenance(run_dir)["steps"]["cad"]["outputs"] == original
    assert all(status[step] == ("skipped" if same else "ran") for step in ("motifs", "effects", "insertion", "report"))
    check_consistency(run_dir)


def test_report_refuses_an_output_edited_after_its_step(finished_run, tmp_path, capsys, monkeypatch):
    _, run_dir = _copy(finished_run, tmp_path)
    monkeypatch.chdir(run_dir)  # a run directory may be named as '.'
    assert main(["report", "."]) == 0
    with open(run_dir / "cad_kmer.tsv", "a") as handle:
        handle.write("GAGGAG\t99\n")
    capsys.readouterr()
    assert main(["report", "."]) == 2
    err = capsys.readouterr().err
    assert "cad_kmer.tsv changed or vanished after the cad step wrote it" in err
    assert not any(".medna-stage." in p.name for p in run_dir.iterdir())


def test_motifs_with_the_memelite_backend(finished_run, tmp_path, capsys):
    _, run_dir = _copy(finished_run, tmp_path)
    # the backend is the subject: the null and the linear source's cross-fits stay out
    assert main(["motifs", str(run_dir), "--backend", "memelite", "--jaspar-tax", "insects",
                 "--no-permute-labels", "--no-linear"]) == 0
    assert "TOMTOM distance: ed (memelite)" in (run_dir / "motifs" / "database.txt").read_text()
    # the null left out: nothing judged, nothing under motifs/null
    sources = pd.read_csv(run_dir / "motifs" / "sources.tsv", sep="\t")
    assert set(sources.null_check) == {"not tested"} and not (run_dir / "motifs" / "null").exists()
    assert json.loads((run_dir / "motifs" / "summary.json").read_text())["null"] is None
    record = json.loads((run_dir / "provenance.json").read_text())["steps"]["motifs"]
    assert record["config"]["backend"] == "memelite"
    capsys.readouterr()
    assert main(["report", str(run_dir)]) == 2  # the motif effects were measured on the earlier motifs
    assert f"rerun it: medna-interp mutate --from-run {run_dir}" in capsys.readouterr().err
    assert main(["mutate", "--from-run", str(run_dir)]) == 0
    assert main(["report", str(run_dir)]) == 2  # and so were the insertions
    assert f"rerun it: medna-interp insert --from-run {run_dir}" in capsys.readouterr().err
    assert main(["insert", "--from-run", str(run_dir), "--n-backgrounds", "5", "--bootstrap", "0"]) == 0
    assert main(["report", str(run_dir)]) == 0


def test_every_motif_gets_an_effect_and_the_planted_ones_matter_most(finished_run):
    import pandas as pd

    _, run_dir = finished_run
    motifs = pd.read_csv(run_dir / "motifs" / "motifs.tsv", sep="\t", keep_default_na=False)
    effects = pd.read_csv(run_dir / "effects.tsv", sep="\t", keep_default_na=False)
    assert sorted(effects.motif) == sorted(motifs.motif[motifs.motif != ""])
    # by the positives it loses (delta_sn counts how many windows carry a site): a motif with sites in
    # a dozen windows that overlap the core can lose more per window than the core itself
    strongest = effects.sort_values("delta_sn").iloc[0]
    assert ("GAGG" in strongest.consensus or "AAAA" in strongest.consensus) and strongest.q_value < 1e-3
    assert strongest.mean_delta_p < -0.3
    report = json.loads((run_dir / "report.json").read_text())
    rows = [m for s in report["sources"] for m in s["motifs"]]
    assert all("effect_delta_p" in m for m in rows)


def test_faithfulness_ranks_cwga_and_ism_above_random(finished_run, tmp_path, capsys):
    import pandas as pd

    data, run_dir = _copy(finished_run, tmp_path)
    assert main(["ism", str(DEMO_CHECKPOINT), str(data), "-o", str(run_dir), "--max-per-class", "60",
                 "--device", "cpu"]) == 0
    wrong = tmp_path / "wrong_sites.tsv"
    wrong.write_text("split\tid\tlabel\tmotif\tstart\tend\tsite\ntest\tnope\t1\tcore\t20\t23\tGAGG\n")
    capsys.readouterr()
    assert main(["faithfulness", str(run_dir), "--truth", str(wrong), "--device", "cpu"]) == 2
    assert "none of its window ids are in the run's data" in capsys.readouterr().err
    assert not (run_dir / "faithfulness.tsv").exists()
    assert main(["faithfulness", str(run_dir), "--truth", str(data.parent / "sites.tsv"), "--device", "cpu"]) == 0
    table = pd.read_csv(run_dir / "faithfulness.tsv", sep="\t").set_index("method")
    assert {"cad_kmer", "cwga_kmer", "ism_bases", "random"} <= set(table.index)
    # the BPE view's CWGA is left out: on the demo its top bases are no better than random
    # ones (its planted-base AUROC is 0.64 against 0.96 for the k-mer view; README, "The demo's two views")
    for method in ("cwga_kmer", "cad_bpe", "ism_bases"):
        assert table.deletion_area[method] < table.deletion_area["random"]
    assert table.planted_auroc["ism_bases"] >= 0.9 and table.planted_auroc["random"] < 0.6
    assert (run_dir / "faithfulness.png").exists()
    capsys.readouterr()
    assert main(["report", str(run_dir)]) == 2  # ISM is a new source: the motifs are stale until rerun
    assert f"medna-interp motifs {run_dir}" in capsys.readouterr().err


def test_faithfulness_reads_a_run_that_cwga_made_alone(tmp_path):
    # the data and checkpoint come from the CWGA step's record when there is no CAD step
    data = write_synthetic(tmp_path / "d", n_train=0, n_test=120, seed=4) / "test.tsv"
    run_dir = tmp_path / "run"
    assert main(["cwga", str(DEMO_CHECKPOINT), str(data), "-o", str(run_dir), "--n-samples", "20", "--steps", "10",
                 "--device", "cpu"]) == 0
    assert main(["faithfulness", str(run_dir), "--device", "cpu"]) == 0
    table = pd.read_csv(run_dir / "faithfulness.tsv", sep="\t").set_index("method")
    assert set(table.index) == {"cwga_kmer", "cwga_bpe", "random"}
    assert read_provenance(run_dir)["steps"]["faithfulness"]["inputs"]["checkpoint"]["path"] == str(DEMO_CHECKPOINT)


def test_deletion_keeps_the_centre_and_the_composition():
    import numpy as np

    from medna_interp.interpret.faithfulness import delete_top

    sequence = "ACGTACGTACGTACGTACGTAGGGGCCCCTTTTAAAACCCC"
    scores = np.zeros(41)
    scores[20] = 10.0  # the centre ranked first is still never moved
    scores[21:25] = [5, 4, 3, 2]
    for k in (1, 4, 8, 41):
        deleted = delete_top(sequence, scores, k)
        assert deleted[20] == sequence[20] and sorted(deleted) == sorted(sequence)
    assert all(delete_top(sequence, scores, 4)[p] != sequence[p] for p in range(21, 25))


def test_the_summary_puts_each_run_beside_the_others_with_its_best_motifs_and_a_link(finished_run, tmp_path):
    import pandas as pd

    from medna_interp.core.errors import MednaError
    from medna_interp.reporting.summary import summarize

    _, original = finished_run
    runs = [tmp_path / "runs" / name for name in ("6mA_first", "5hmC_second")]
    for run_dir in runs:
        shutil.copytree(original, run_dir)
    files = summarize(runs, tmp_path / "summary", modifications={"6mA_first": "6mA", "5hmC_second": "5hmC"})
    table = pd.read_csv(files.tsv, sep="\t", keep_default_na=False)
    assert table.dataset.tolist() == ["6mA_first", "5hmC_second"] and table.modification.tolist() == ["6mA", "5hmC"]
    report = json.loads((original / "report.json").read_text())
    assert table.auc.iloc[0] == pytest.approx(report["summary"]["model_metrics"]["auc"], abs=1e-5)
    guided = table.iloc[0]
    assert any(core in guided.guided_motif for core in ("GAGG", "CCTC", "AAAA", "TTTT")) and guided.guided_evalue < 1e-3
    assert guided.raw_motif and guided.raw_evalue > 0 and guided.report == "../runs/6mA_first/report.html"
    page = files.html.read_text()
    assert page.count("data:image/png;base64,") >= 2 and "src='http" not in page and "../runs/5hmC_second/report.html" in page
    # the demo model clears its linear baseline by more than the margin explanations need
    assert guided.verdict == "adds" and guided.margin == pytest.approx(guided.valid_auc - guided.baseline_valid_auc, abs=1e-5)
    assert guided.margin >= 0.03 and guided.uncalibrated_sources == ""
    # a source the null failed is left out of the pick, and named
    second = json.loads((runs[1] / "report.json").read_text())
    for row in second["comparison"]:
        if row["source"] == guided.guided_source:
            row["null_check"] = "not calibrated"
    (runs[1] / "report.json").write_text(json.dumps(second))
    other = pd.read_csv(summarize(runs, tmp_path / "summary2").tsv, sep="\t", keep_default_na=False).iloc[1]
    assert other.uncalibrated_sources == guided.guided_source and other.guided_source != guided.guided_source
    summarize(runs[:1], tmp_path / "summary")  # its own folder: rewritten
    assert pd.read_csv(files.tsv, sep="\t").dataset.tolist() == ["6mA_first"]
    with pytest.raises(MednaError, match="no report.json"):
        summarize([tmp_path / "runs"], tmp_path / "other")
    with pytest.raises(MednaError, match="contains the input"):
        summarize(runs, tmp_path / "runs")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine\n")
    with pytest.raises(MednaError, match="not empty and was not written by medna-interp"):
        summarize(runs, tmp_path / "mine")


def test_motifs_with_modisco_but_no_modisco_lite_exits_2_and_writes_nothing(finished_run, tmp_path, capsys,
                                                                            monkeypatch):
    import sys

    _, run_dir = _copy(finished_run, tmp_path)
    before = {p: p.stat().st_mtime_ns for p in run_dir.rglob("*")}
    monkeypatch.setitem(sys.modules, "modiscolite", None)  # as if it were not installed
    capsys.readouterr()
    assert main(["motifs", str(run_dir), "--modisco", "--jaspar-tax", "insects"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "modisco-lite" in err and "pip install 'medna-interp[modisco]'" in err, err
    assert {p: p.stat().st_mtime_ns for p in run_dir.rglob("*")} == before


def test_modisco_on_too_few_windows_or_misshapen_attributions_exits_2_and_writes_nothing(finished_run, tmp_path,
                                                                                         capsys):
    import numpy as np

    pytest.importorskip("modiscolite")
    _, run_dir = _copy(finished_run, tmp_path)
    capsys.readouterr()
    # the run's CWGA explained 50 windows per class: 25 positives to build from, 20 needed per
    # metacluster, is too few once the held-out half is set aside
    assert main(["modisco", str(run_dir), "--source", "cwga", "--view", "kmer", "--min-seqlets", "30"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "too few windows for TF-MoDISco" in err, err
    arrays = dict(np.load(run_dir / "attributions.npz"))
    arrays["kmer_per_base"] = arrays["kmer_per_base"][:, :-1]
    np.savez(run_dir / "attributions.npz", **arrays)
    assert main(["modisco", str(run_dir), "--source", "cwga", "--view", "kmer"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "scores of shape" in err and "expected" in err, err
    assert not (run_dir / "modisco").exists()
