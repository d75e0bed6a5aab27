"""Motif mutagenesis: edits, composition, and the paper's experiment on the demo."""

import numpy as np
import pandas as pd
import pytest

from conftest import DEMO_CHECKPOINT
from medna_interp.cli import main
from medna_interp.core.errors import MednaError
from medna_interp.causal.mutagenesis import MotifEdit, mutate_windows
from medna_interp.core.sequence import base_fractions
from medna_interp.data.synth import write_synthetic


def test_parsing_motifs_and_their_replacements():
    assert MotifEdit.parse("gagg=ctcc") == MotifEdit("GAGG", "CTCC")
    assert MotifEdit.parse("WAAAA") == MotifEdit("WAAAA", None)
    for text, problem in (("GAXG", "'X' is not an IUPAC letter"), ("GAGG=CTC", "the replacement has 3 bases"),
                          ("GAGG=", "nothing after '='"), ("GAGG=CTNC", "written in A, C, G, T"), ("", "empty")):
        with pytest.raises(MednaError, match=problem):
            MotifEdit.parse(text)


def test_sites_overlap_and_follow_iupac():
    assert MotifEdit("AAAA").sites("AAAAAA") == [0, 1, 2]
    assert MotifEdit("WGAGG").sites("TGAGGCAGAGG") == [0, 6]


def test_substitution_leaves_no_occurrence_behind():
    (out,), sites, failed = mutate_windows(["CAAAAAAG"], [MotifEdit("AAAA", "TATA")])
    assert out == "CTATAAAG" and not failed[0] and sites[0] == 1  # the rest of the run is too short to match
    (out,), sites, _ = mutate_windows(["AAAAAAAAAA"], [MotifEdit("AAAA", "TATA")])
    assert "AAAA" not in out and sites[0] == 2  # TATA AAAAAA -> TATA TATA AA


def test_shuffles_keep_the_composition_exactly_and_remove_the_motif():
    rng = np.random.default_rng(0)
    windows = ["".join(rng.choice(list("ACGT"), 41)) for _ in range(200)]
    windows = [w[:15] + "GAGG" + w[19:] for w in windows]
    out, sites, failed = mutate_windows(windows, [MotifEdit("GAGG")], flank=3, seed=1)
    assert all(sorted(a) == sorted(b) for a, b in zip(out, windows))  # same bases in every window
    assert not any("GAGG" in w for w, f in zip(out, failed) if not f) and failed.sum() == 0
    untouched = [(a, b) for a, b in zip(out, windows) if min(MotifEdit("GAGG").sites(b)) == 15]
    assert len(untouched) > 150 and all(a[:12] == b[:12] for a, b in untouched)  # only sites and flanks move
    (stuck,), _, failed = mutate_windows(["AAAAAAAA"], [MotifEdit("AA")], flank=0)
    assert failed[0] and stuck == "AAAAAAAA"  # impossible: counted, window kept


@pytest.fixture(scope="module")
def demo_data(tmp_path_factory):
    return write_synthetic(tmp_path_factory.mktemp("mut") / "d", n_train=0, n_test=1000, seed=17) / "test.tsv"


@pytest.mark.skipif(not (DEMO_CHECKPOINT / "model.safetensors").exists(), reason="no demo checkpoint")
def test_the_papers_experiment_on_the_demo(demo_data, tmp_path, capsys):
    out = tmp_path / "mut"
    code = main(["mutate", str(DEMO_CHECKPOINT), str(demo_data), "-o", str(out), "--motif", "GAGG=CTCC",
                 "--motif", "AAAA=TATA", "--bootstrap", "50", "--device", "cpu"])
    assert code == 0, capsys.readouterr().err
    table = pd.read_csv(out / "mutagenesis.tsv", sep="\t").set_index("group")
    assert list(table.index) == ["wild_type", "GAGG=CTCC", "AAAA=TATA", "all"]
    assert table.sn["GAGG=CTCC"] < table.sn["wild_type"] and table.sn["AAAA=TATA"] < table.sn["wild_type"]
    assert table.sn["all"] <= table[["sn"]].drop(index="all").min().item()
    assert table.sp.nunique() == 1  # negatives are never touched: SP identical in every group
    assert (table.delta_sn_high.drop(index="wild_type") < 0).all()  # the bootstrap interval excludes no change
    assert (table.wilcoxon_p.drop(index="wild_type") < 1e-6).all()
    mutated = pd.read_csv(out / "mutated_all.tsv", sep="\t")
    assert not mutated.sequence.str.contains("GAGG").any() and not mutated.sequence.str.contains("AAAA").any()
    assert table.delta_frac_A["AAAA=TATA"] < 0  # substitutions change composition, and say so
    assert (out / "mutagenesis.png").exists() and (out / "mutagenesis.svg").exists()


@pytest.mark.skipif(not (DEMO_CHECKPOINT / "model.safetensors").exists(), reason="no demo checkpoint")
def test_shuffle_mode_keeps_the_positives_composition(demo_data):
    import medna_interp as mi
    from medna_interp.data.io import read_sequences

    data = read_sequences(demo_data)
    model = mi.load(DEMO_CHECKPOINT, device="cpu")
    result = mi.mutate(model, data.sequences, data.labels, ["GAGG"], bootstrap=0)
    row = result.table.set_index("group").loc["GAGG"]
    assert row.sn < result.table.set_index("group").sn["wild_type"]
    assert all(abs(row[f"delta_frac_{b}"]) < 1e-12 for b in "ACGT")
    assert base_fractions(list(result.windows["GAGG"].sequence)) == base_fractions(list(result.windows["GAGG"].wild_type))


@pytest.mark.parametrize("motif, message", [("GAXG", "is not an IUPAC letter"), ("GAGG=CT", "the replacement has 2"),
                                            ("GCGCGCGCGCGCGC", "no positive window carries the motif")])
def test_bad_motifs_exit_2_and_write_nothing(demo_data, tmp_path, capsys, motif, message):
    out = tmp_path / "mut"
    assert main(["mutate", str(DEMO_CHECKPOINT), str(demo_data), "-o", str(out), "--motif", motif]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and not out.exists()


@pytest.mark.skipif(not (DEMO_CHECKPOINT / "model.safetensors").exists(), reason="no demo checkpoint")
def test_a_background_motif_has_no_effect_and_the_planted_core_has_one(demo_data):
    import medna_interp as mi
    from medna_interp.data.io import read_sequences
    from medna_interp.causal.mutagenesis import motif_effects

    data = read_sequences(demo_data)
    model = mi.load(DEMO_CHECKPOINT, device="cpu")
    sites = []
    for ident, label, sequence in zip(data.ids, data.labels, data.sequences):
        if sequence[19:23] == "GAGG":  # the planted core over the central A
            sites.append(("core", ident, label, 20, 23))
        sites.append(("background", ident, label, 33, 38))  # 3' of every planted site
    frame = pd.DataFrame(sites, columns=["motif", "id", "label", "start", "end"])
    motifs = pd.DataFrame({"motif": ["core", "background"], "source": ["test", "test"], "consensus": ["GAGG", ""]})
    effects = motif_effects(model, data, motifs, frame, flank=0).set_index("motif")
    # the shipped demo: -0.29 over its 500 positives; a background site: none
    assert effects.loc["core"].q_value < 1e-3 and effects.loc["core"].mean_delta_p < -0.2
    assert effects.loc["background"].q_value > 0.01 and abs(effects.loc["background"].mean_delta_p) < 0.01
