"""Composition of positives against negatives, GC strata, matched controls, and the confounded
synthetic set on which unadjusted statistics find what adjusted ones must not."""

import json

import numpy as np
import pandas as pd
import pytest

from builders import random_sequences
from conftest import DEMO_CHECKPOINT
from medna_interp.cli import main
from medna_interp.data.composition import composition, gc_strata, match_controls, window_features
from medna_interp.core.errors import MednaError
from medna_interp.core.stats import stratified_statistics
from medna_interp.data.synth import Grammar, write_synthetic

needs_demo = pytest.mark.skipif(not (DEMO_CHECKPOINT / "model.safetensors").exists(), reason="no demo checkpoint")

# GC-rich positives, no motif at all: every enrichment is composition
CONFOUNDED = """\
motifs: []
background: {A: 0.3, C: 0.2, G: 0.2, T: 0.3}
positive_background: {A: 0.22, C: 0.28, G: 0.28, T: 0.22}
gc_sd: 0.08
positive_fraction: 0.2
"""


def _windows(n: int, gc: float, rng, sd: float = 0.08) -> list[str]:
    out = []
    for _ in range(n):
        share = float(np.clip(gc + rng.normal(0, sd), 0.05, 0.95))
        out.append("".join(rng.choice(list("ACGT"), p=[(1 - share) / 2, share / 2, share / 2, (1 - share) / 2],
                                      size=41)))
    return out


@pytest.fixture(scope="module")
def confounded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("confounded")
    (folder / "gc.yaml").write_text(CONFOUNDED)
    return write_synthetic(folder / "data", Grammar.from_file(folder / "gc.yaml"), n_train=0, n_test=6000, seed=1)


def test_window_features_by_hand():
    frame = window_features(["ACGTCG", "GGGGCCCC", "ATAT"])
    # ACGTCG: C 2, G 2 of 6; CpG 2 -> o/e = 2 * 6 / (2 * 2) = 3; 5 dinucleotides, AC once
    assert frame.gc_fraction.tolist() == pytest.approx([4 / 6, 1.0, 0.0])
    assert frame.cpg_oe.tolist() == pytest.approx([3.0, 0.0, 0.0])
    assert frame.freq_AC[0] == pytest.approx(1 / 5) and frame.freq_AT[2] == pytest.approx(2 / 3)
    assert np.allclose(frame.filter(like="freq_").sum(1), 1.0)


def test_a_material_gc_difference_is_flagged_and_equal_classes_are_not():
    rng = np.random.default_rng(0)
    positives, negatives = _windows(300, 0.55, rng), _windows(300, 0.40, rng)
    labels = np.r_[np.ones(300), np.zeros(300)]
    report = composition({"data": (positives + negatives, labels),
                          "same": (negatives + _windows(300, 0.40, rng), labels)})
    gc = report.table.set_index(["set", "feature"]).loc[("data", "gc_fraction")]
    assert gc.material and gc.effect_d > 1 and gc.q_value < 1e-10
    assert not report.table[report.table.set == "same"].material.any()
    assert len(report.warnings) == 1 and report.warnings[0].startswith("data: positives and negatives differ in "
                                                                      "gc_fraction")


def test_gc_strata_keep_equal_gc_together_and_never_exceed_the_request():
    sequences = random_sequences(200, seed=2)
    strata = gc_strata(sequences, 5)
    gc = window_features(sequences).gc_fraction.to_numpy()
    assert strata.max() <= 4 and len(np.unique(strata)) >= 3
    for value in np.unique(gc):
        assert len(np.unique(strata[gc == value])) == 1
    assert (gc_strata(sequences, 1) == 0).all()
    with pytest.raises(MednaError, match="at least 1"):
        gc_strata(sequences, 0)


def test_matched_controls_follow_the_positives_gc_and_say_how_many_could_not_be_found():
    rng = np.random.default_rng(0)
    positives, negatives = _windows(400, 0.55, rng), _windows(3000, 0.40, rng)
    matching = match_controls(positives, negatives, seed=1)
    quality = matching.quality.set_index("feature").loc["gc_fraction"]
    assert quality.ks_before > 0.4 and quality.ks_after < 0.1 and 100 <= len(matching.index) <= 400
    assert len(set(matching.index)) == len(matching.index)
    assert (match_controls(positives, negatives, seed=1).index == matching.index).all()
    with pytest.raises(MednaError) as caught:
        match_controls(positives, negatives[:500])
    assert "at least 100 are needed (a quarter of the 400 positives" in str(caught.value)
    assert "of the 500 negatives lie" in str(caught.value)


def test_stratified_statistics_remove_a_difference_that_only_the_strata_carry():
    rng = np.random.default_rng(3)
    # the score depends on the stratum only; positives sit mostly in the high stratum
    strata = np.r_[np.ones(400), np.zeros(100), np.ones(100), np.zeros(400)].astype(int)
    labels = np.r_[np.ones(500), np.zeros(500)].astype(int)
    frame = pd.DataFrame({"window": np.arange(1000), "token": "T", "label": labels,
                          "score": 1.0 * strata + rng.normal(0, 0.5, 1000)})
    plain = frame[frame.label == 1].score.mean() - frame[frame.label == 0].score.mean()
    adjusted = stratified_statistics(frame, strata).loc["T"]
    assert plain > 0.5 and abs(adjusted.estimate) < 0.2 and adjusted.strata_used == 2
    assert adjusted.p > 0.01
    # a real class effect survives
    frame.loc[frame.label == 1, "score"] += 1.0
    real = stratified_statistics(frame, strata).loc["T"]
    assert real.estimate > 1 and real.p < 1e-10


def test_a_grammar_of_composition_alone(confounded):
    table = pd.read_csv(confounded / "test.tsv", sep="\t")
    assert table.label.mean() == pytest.approx(0.2, abs=0.001)
    assert (pd.read_csv(confounded / "sites.tsv", sep="\t").empty)
    gc = window_features(table.text.tolist()).gc_fraction
    assert gc[table.label == 1].mean() - gc[table.label == 0].mean() > 0.1


@pytest.fixture(scope="module")
def confounded_model(confounded, tmp_path_factory):
    """A tiny model trained on the confounded grammar: all it can learn is composition."""
    from medna_interp.training.train import TrainConfig, train

    folder = tmp_path_factory.mktemp("confounded_model")
    data = write_synthetic(folder / "data", Grammar.from_file(confounded.parent / "gc.yaml"), n_train=3000,
                           n_test=0, seed=2)
    # the best of 5 epochs, as when this fixture was chosen: its last epoch spreads the
    # composition signal over fewer tokens (2 significant before adjustment, not >= 10)
    config = TrainConfig(epochs=5, lr=1e-3, fgm_epsilon=0.0, augment=0.0, keep="best", patience=5, seed=0)
    path, _ = train(data / "train.tsv", folder / "model", size="tiny", config=config, device="cpu", progress=False)
    return path


def test_unadjusted_cad_finds_composition_and_adjusted_cad_does_not(confounded, confounded_model):
    from medna_interp.interpret.cad import cad
    from medna_interp.data.io import read_sequences
    from medna_interp.models.checkpoint import from_pretrained

    data = read_sequences(confounded / "test.tsv")
    result = cad(from_pretrained(confounded_model), data.sequences, data.labels, gc_strata=5)
    unadjusted = sum(int((table.q_value < 0.01).sum()) for table in result.tokens.values())
    adjusted = sum(int((table.q_adj < 0.01).sum()) for table in result.tokens.values())
    assert unadjusted >= 10 and adjusted == 0, (unadjusted, adjusted)
    assert result.options["gc_strata_used"] == 5


def test_streme_finds_gc_rich_motifs_against_negatives_and_nothing_against_matched_controls(confounded, tmp_path):
    from medna_interp.data.io import read_sequences
    from medna_interp.motifs.controls import EXPLAINED
    from medna_interp.motifs.discover import DatabaseChoice, discover

    data = read_sequences(confounded / "test.tsv")
    found = {}
    for controls in ("negatives", "matched"):
        result = discover(tmp_path, data, tmp_path / controls, sources=[], controls=controls,
                          database=DatabaseChoice(tax="insects"))
        found[controls] = result
    plain = found["negatives"].table.dropna(subset=["evalue"])
    significant = plain[plain.evalue < 0.05]
    gc_share = significant.consensus.map(lambda c: sum(b in "GCS" for b in c) / len(c))
    assert (gc_share >= 0.7).any(), significant[["consensus", "evalue"]]
    # the GC-rich motifs are enriched against all negatives but not against GC-matched ones
    assert (significant.composition == EXPLAINED).any()
    matched = found["matched"].table.dropna(subset=["evalue"])
    assert not (matched.evalue < 0.05).any(), matched[["consensus", "evalue"]]
    row = found["matched"].sources.iloc[0]
    assert row.controls.startswith("GC-matched negatives") and 20 <= row.n_control < 4800
    quality = pd.read_csv(tmp_path / "matched" / "raw" / "matching.tsv", sep="\t").set_index("feature")
    assert quality.loc["gc_fraction", "ks_after"] < 0.1 < quality.loc["gc_fraction", "ks_before"]
    assert json.loads((tmp_path / "matched" / "summary.json").read_text())["controls"] == "matched"


@needs_demo
@pytest.mark.parametrize("options, message", [
    (["--gc-strata", "0"], "argument --gc-strata: must be an integer >= 1"),
    (["--gc-strata", "5000"], "gc_strata must lie between 1 and"),
])
def test_bad_strata_exit_2_with_one_line_and_write_nothing(tmp_path, capsys, options, message):
    data = write_synthetic(tmp_path / "d", n_train=0, n_test=300, seed=2) / "test.tsv"
    code = main(["cad", str(DEMO_CHECKPOINT), str(data), "-o", str(tmp_path / "run"), *options])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and message in err, err
    assert not (tmp_path / "run").exists()


@needs_demo
def test_matched_controls_with_too_few_negatives_exit_2_before_any_work(tmp_path, capsys):
    # GC-rich positives and as many negatives as positives: the GC-rich bins cannot be matched
    grammar = tmp_path / "gc.yaml"
    grammar.write_text(CONFOUNDED.replace("gc_sd: 0.08", "gc_sd: 0.0").replace("positive_fraction: 0.2",
                                                                                "positive_fraction: 0.5"))
    data = write_synthetic(tmp_path / "d", Grammar.from_file(grammar), n_train=0, n_test=400, seed=2) / "test.tsv"
    code = main(["run", str(DEMO_CHECKPOINT), str(data), "-o", str(tmp_path / "run"), "--controls", "matched",
                 "--jaspar-tax", "insects"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "--controls matched: matched controls: the negatives of" in err and "are needed" in err
    assert not (tmp_path / "run").exists()


def test_cwga_s_adjusted_contrast_counts_an_absent_class_as_zero_attribution():
    frame = pd.DataFrame({"window": np.arange(6), "token": "T", "label": [1, 1, 1, 0, 0, 0],
                          "score": [2.0, 2.2, 1.8, 0.0, 0.0, 0.0]})
    frame = frame[frame.label == 1]  # the negatives never carry the token
    strata = np.zeros(6, int)
    assert np.isnan(stratified_statistics(frame, strata, standardized=False).loc["T"].estimate)
    row = stratified_statistics(frame, strata, standardized=False, absent_as_zero=True).loc["T"]
    assert row.estimate == pytest.approx(2.0) and row.se == pytest.approx(np.sqrt(0.04 / 3))
    # a one-sample t-test of the positives' mean against 0: t = 2 / sqrt(0.04 / 3), 2 degrees of freedom
    from scipy import stats
    expected = 2 * stats.t.sf(2 / np.sqrt(0.04 / 3), 2)
    assert row.p == pytest.approx(expected, rel=1e-6)
    assert np.isnan(stratified_statistics(frame, strata, standardized=False).loc["T"].p)


def test_matching_cpg_as_well_brings_the_cpg_distribution_closer():
    rng = np.random.default_rng(5)

    def with_cpg(n: int, cpg_rate: float) -> list[str]:
        # windows of equal GC whose CpG content differs: "CG" swapped for "GC" at some spots
        out = []
        for window in _windows(n, 0.5, rng, sd=0.05):
            bases = list(window)
            for i in range(0, 40, 4):
                if rng.random() < cpg_rate:
                    bases[i : i + 2] = list("CG")
                elif bases[i : i + 2] == list("CG"):
                    bases[i : i + 2] = list("GC")
            out.append("".join(bases))
        return out

    positives, negatives = with_cpg(200, 0.3), with_cpg(2000, 0.05)
    plain = match_controls(positives, negatives, seed=0).quality.set_index("feature")
    both = match_controls(positives, negatives, seed=0, cpg=True).quality.set_index("feature")
    assert both.loc["cpg_oe", "ks_after"] < plain.loc["cpg_oe", "ks_after"]
    assert both.loc["gc_fraction", "ks_after"] < 0.15
