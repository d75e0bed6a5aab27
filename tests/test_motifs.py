"""Motif tools with the real STREME/TOMTOM binaries (built by `make meme`)."""

import re

import numpy as np
import pytest

from builders import random_sequences
from medna_interp.core.errors import MednaError
from medna_interp.data.io import write_fasta
from medna_interp.motifs import meme
from medna_interp.motifs.jaspar import jaspar_database
from medna_interp.motifs.motif import Motif, read_meme, write_meme
from medna_interp.motifs.streme import StremeOptions, parse_streme_xml, run_streme
from medna_interp.motifs.tomtom import best_matches, parse_tomtom_tsv, run_tomtom

from conftest import DEMO_CHECKPOINT, SHARED_DATA


def _planted(tmp_path, n=150, motif="GAGGTA", seed=0):
    rng = np.random.default_rng(seed)
    positives = []
    for s in random_sequences(n, seed=seed):
        p = int(rng.integers(5, 30))
        positives.append(s[:p] + motif + s[p + len(motif):])
    write_fasta(tmp_path / "pos.fa", [(f"p{i}", s) for i, s in enumerate(positives)])
    write_fasta(tmp_path / "neg.fa", [(f"n{i}", s) for i, s in enumerate(random_sequences(n, seed=seed + 99))])
    return tmp_path / "pos.fa", tmp_path / "neg.fa"


def test_streme_finds_planted_motif_on_the_given_strand(tmp_path):
    pos, neg = _planted(tmp_path)
    result = run_streme(pos, neg, tmp_path / "out", StremeOptions(nmotifs=2))
    top = result.motifs[0]
    assert "GAGGTA" in top.consensus  # single strand: not its reverse complement
    assert top.evalue < 1e-3 and top.pwm.shape == (top.width, 4)
    assert np.allclose(top.pwm.sum(1), 1.0, atol=1e-3)
    assert result.n_primary == 150 and int(top.info["train_pos_count"]) > 100
    reparsed = parse_streme_xml(tmp_path / "out" / "streme.xml")
    assert [m.id for m in reparsed] == [m.id for m in result.motifs]


def test_streme_with_nothing_to_find_stops_on_its_own_rule_and_reports_nothing_significant(tmp_path):
    write_fasta(tmp_path / "a.fa", [(f"a{i}", s) for i, s in enumerate(random_sequences(100, seed=1))])
    write_fasta(tmp_path / "b.fa", [(f"b{i}", s) for i, s in enumerate(random_sequences(100, seed=2))])
    result = run_streme(tmp_path / "a.fa", tmp_path / "b.fa", tmp_path / "out", StremeOptions(nmotifs=0))
    assert "--evalue" in result.command and result.command[result.command.index("--thresh") + 1] == "0.05"
    # STREME stops after `patience` (3) motifs in a row above the threshold and reports them
    assert 1 <= len(result.motifs) <= 3
    assert all(m.evalue > 0.05 for m in result.motifs)


def test_streme_rejects_empty_and_too_short_fasta(tmp_path):
    (tmp_path / "empty.fa").write_text("")
    with pytest.raises(MednaError, match="primary FASTA is empty"):
        run_streme(tmp_path / "empty.fa", None, tmp_path / "out")
    (tmp_path / "short.fa").write_text(">a\nACG\n>b\nTT\n")
    with pytest.raises(MednaError, match="at least 4 bp"):
        run_streme(tmp_path / "short.fa", None, tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.fixture(scope="module")
def jaspar_vertebrates():
    return jaspar_database("JASPAR2024", "vertebrates")


def test_tomtom_names_a_planted_jaspar_matrix(tmp_path, jaspar_vertebrates):
    database = {m.id: m for m in read_meme(jaspar_vertebrates)}
    target = database["MA0079.5"]  # SP1
    rng = np.random.default_rng(0)
    sites = np.array([[rng.choice(4, p=row / row.sum()) for row in target.pwm] for _ in range(300)])
    counts = np.stack([(sites == b).sum(0) for b in range(4)], 1) + 0.5
    query = Motif("planted", "planted", (counts / counts.sum(1, keepdims=True))[2:9], 300)
    matches = run_tomtom([query], jaspar_vertebrates, tmp_path / "tt")
    best = best_matches(matches)["planted"]
    assert best.target_id == "MA0079.5" and best.target_name == "SP1"
    assert best.orientation == "+" and best.offset == 2  # query column 0 = target column 2
    assert best.pvalue < 1e-6
    reparsed = parse_tomtom_tsv(tmp_path / "tt" / "tomtom.tsv")
    assert {m.target_id for m in reparsed} == {m.target_id for m in matches}


def test_meme_format_round_trip(tmp_path):
    motif = Motif("m1", "my motif", np.array([[0.7, 0.1, 0.1, 0.1], [0.0, 0.0, 1.0, 0.0]]), 12)
    write_meme(tmp_path / "m.meme", [motif])
    (back,) = read_meme(tmp_path / "m.meme")
    assert back.id == "m1" and back.name == "my_motif" and np.allclose(back.pwm, motif.pwm)
    assert motif.consensus == "AG" and motif.reverse_complement().consensus == "CT"


def test_missing_binaries_name_the_install_command(tmp_path, monkeypatch):
    monkeypatch.setattr(meme, "default_prefix", lambda: tmp_path / "nowhere")
    monkeypatch.delenv("MEDNA_MEME_BIN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(MednaError, match="install-meme"):
        meme.find_tool("streme")


def test_unknown_jaspar_release_and_tax_list_the_valid_ones():
    with pytest.raises(MednaError, match="valid: JASPAR2026"):
        jaspar_database("JASPAR1999", "vertebrates")
    with pytest.raises(MednaError, match="valid: vertebrates, insects"):
        jaspar_database("JASPAR2024", "mammals")


@pytest.mark.skipif(not (SHARED_DATA / "5hmC_M.musculus").exists(), reason="shared iDNA-MS data not present")
def test_streme_finds_a_cg_motif_in_real_5hmc_data(tmp_path):
    from medna_interp.data.io import read_sequences

    data = read_sequences(SHARED_DATA / "5hmC_M.musculus" / "train.tsv")
    pos = [(i, s) for i, s, y in zip(data.ids, data.sequences, data.labels) if y == 1][:1000]
    neg = [(i, s) for i, s, y in zip(data.ids, data.sequences, data.labels) if y == 0][:1000]
    write_fasta(tmp_path / "pos.fa", pos)
    write_fasta(tmp_path / "neg.fa", neg)
    result = run_streme(tmp_path / "pos.fa", tmp_path / "neg.fa", tmp_path / "out", StremeOptions(nmotifs=3))
    assert any("CG" in m.consensus and m.evalue < 0.05 for m in result.motifs)


def test_identical_classes_give_only_motifs_flagged_not_significant(tmp_path):
    import pandas as pd

    from medna_interp.data.io import SequenceSet
    from medna_interp.motifs.discover import DatabaseChoice, discover

    sequences = random_sequences(60, seed=8)  # the same windows as positives and as negatives
    data = SequenceSet([f"s{i}" for i in range(120)], sequences + sequences, np.array([1] * 60 + [0] * 60), "same")
    database = tmp_path / "db.meme"
    write_meme(database, [Motif("X1", "x", np.eye(4)[[0, 1, 2, 3, 0]], 10)])
    result = discover(tmp_path, data, tmp_path / "motifs", streme=StremeOptions(nmotifs=0),
                      database=DatabaseChoice(motif_db=str(database)), sources=[])
    table = pd.read_csv(tmp_path / "motifs" / "motifs.tsv", sep="\t", keep_default_na=False)
    assert len(table) >= 1 and set(table.source) == {"raw"} and (table.motif != "").all()
    assert not table.significant.any() and not table.named.any()
    assert table.note.str.startswith("not significant (E above 0.05)").all()  # one search: its own E
    (row,) = result.sources.itertuples()
    assert (row.source, row.kind, row.n_primary, row.n_control, row.significant) == ("raw", "raw baseline", 60, 60, 0)


def test_streme_with_shuffled_control(tmp_path):
    pos, _ = _planted(tmp_path, motif="GAGGTACG")
    result = run_streme(pos, None, tmp_path / "out", StremeOptions(nmotifs=1))
    assert result.n_control == 0 and "--n" not in result.command
    assert "GAGGTA" in result.motifs[0].consensus and result.motifs[0].evalue < 1e-3


def test_streme_failures_quote_the_options_and_streme_s_reason_not_its_usage(tmp_path):
    primary = tmp_path / "p.fa"
    write_fasta(primary, [(f"s{i}", s) for i, s in enumerate(random_sequences(10))])
    options = StremeOptions()
    object.__setattr__(options, "order", 9)  # past our own check, to see what STREME itself says
    with pytest.raises(MednaError) as caught:
        run_streme(primary, None, tmp_path / "out", options)
    message = str(caught.value)
    assert "--order 9" in message and "must be in the range [0,..,5]" in message
    assert "Usage" not in message and str(tmp_path) not in message


@pytest.mark.parametrize("values, problem", [(dict(minw=2), "minw must be between 3 and 30"),
                                             (dict(minw=8, maxw=6), "maxw must be between minw (8) and 30"),
                                             (dict(order=6), "order must be between 0 and 5"),
                                             (dict(nmotifs=-1), "nmotifs must be 0")])
def test_streme_options_are_checked_when_made(values, problem):
    with pytest.raises(ValueError, match=re.escape(problem)):
        StremeOptions(**values)


def test_meme_bin_pointing_nowhere_does_not_fall_back(tmp_path):
    with pytest.raises(MednaError, match="MEME folder not found"):
        meme.find_tool("streme", tmp_path / "missing")
    with pytest.raises(MednaError, match="no executable streme there"):
        meme.find_tool("streme", tmp_path)


@pytest.mark.skipif(not (DEMO_CHECKPOINT / "model.safetensors").exists(), reason="no demo checkpoint")
def test_both_tomtom_backends_name_the_same_best_match_for_significant_demo_motifs(tmp_path):
    import medna_interp as mi
    from medna_interp.motifs.tomtom import TomtomOptions, run_tomtom_lite

    model = mi.load(DEMO_CHECKPOINT, device="cpu")
    windows = mi.synthetic(1000, seed=11)
    cad = mi.cad(model, windows.sequences, windows.labels)
    options = TomtomOptions(dist="ed")  # memelite's distance, so that only the implementation differs
    found = mi.discover(cad, database="insects", tomtom=options, backend="meme")
    significant = [m for m in found.motifs if m.motif.evalue is not None and m.motif.evalue <= 0.05]
    assert any("GAGG" in m.motif.consensus for m in significant)  # the planted core
    database = read_meme(jaspar_database("JASPAR2024", "insects"))
    lite = run_tomtom_lite([m.motif for m in significant], database, tmp_path, options)
    best_lite = best_matches(lite)
    for motif in significant:
        meme_best = motif.best_match.target_id if motif.best_match else None
        lite_best = best_lite[motif.motif.id].target_id if motif.motif.id in best_lite else None
        assert meme_best == lite_best, motif.motif.consensus
    assert (tmp_path / "tomtom.tsv").read_text().startswith("Query_ID\tTarget_ID")


def test_a_class_of_one_window_is_noted_not_sent_to_streme(tmp_path):
    import pandas as pd

    from medna_interp.data.io import SequenceSet
    from medna_interp.motifs.discover import DatabaseChoice, discover

    # a selection under permuted labels can leave a class with one window; STREME exits 1 on it
    data = SequenceSet([f"s{i}" for i in range(31)], random_sequences(31, seed=2), np.array([1] * 30 + [0]), "one")
    database = tmp_path / "db.meme"
    write_meme(database, [Motif("X1", "x", np.eye(4)[[0, 1, 2, 3, 0]], 10)])
    discover(tmp_path, data, tmp_path / "motifs", database=DatabaseChoice(motif_db=str(database)), sources=[],
             permute_labels=False)
    table = pd.read_csv(tmp_path / "motifs" / "motifs.tsv", sep="\t", keep_default_na=False)
    assert list(table.source) == ["raw"] and table.note[0] == "one window of a class: STREME needs two"
