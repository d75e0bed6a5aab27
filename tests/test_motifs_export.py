"""Export of CAD/CWGA scores to FASTA, on a hand-made run directory."""

import numpy as np
import pytest

from medna_interp.core.errors import MednaError
from medna_interp.data.io import read_sequences
from medna_interp.motifs.export import ExportOptions, export

POSITIVE = "ACGTACGTACGTACGTGAGGACGTACGTACGTACGTACGTA"  # GAGG at 17-20 (1-based)
NEGATIVE = "TTTTTTTTTTTTTTTTCCCCTTTTTTTTTTTTTTTTTTTTT"


@pytest.fixture
def run_dir(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "cwga_selection.tsv").write_text(
        "id\tlabel\tp_modified\tconfidence\tsource_row\tsequence\n"
        f"p1\t1\t0.99\t0.99\t0\t{POSITIVE}\nn1\t0\t0.01\t0.99\t1\t{NEGATIVE}\n")
    scores = np.zeros((2, 41))
    scores[0, 16:20] = [1.0, 3.0, 2.0, 1.0]  # peak at position 18 (1-based), inside GAGG
    scores[0, 35] = 0.5
    scores[1, 3:6] = [0.5, 2.0, 0.5]  # the negative's own peak: index 4
    np.savez(run / "attributions.npz", kmer_per_base=scores)
    (run / "cwga_kmer.tsv").write_text("token\tscaled_contribution\nGAGGAC\t1.0\nACGTAC\t0.2\nTTTTTT\t-0.5\n"
                                       "CCCCTT\t-0.1\n")
    return run


def test_seqlets_are_cut_at_peaks_and_controls_at_the_negatives_own_peaks(run_dir, tmp_path):
    result = export(run_dir, "cwga", "kmer", tmp_path / "out", ExportOptions(window=6, per_sequence=2))
    primary = read_sequences(result.primary, length=None)
    control = read_sequences(result.control, length=None)
    # peak 1: centre index 17 -> window [14, 20); peak 2: index 35 -> [32, 38)
    assert primary.sequences == [POSITIVE[14:20], POSITIVE[32:38]]
    # the same rule in the negative: its one peak above 0, index 4 -> [1, 7); no second
    # (the rest of its scores are 0, not above the floor)
    assert control.sequences == [NEGATIVE[1:7]]
    assert (result.n_primary, result.n_control) == (2, 1)
    assert (tmp_path / "out" / "provenance.json").exists()


def test_seqlet_rule_is_symmetric_so_swapped_labels_swap_the_files(run_dir, tmp_path):
    forward = export(run_dir, "cwga", "kmer", tmp_path / "a", ExportOptions(window=6))
    table = (run_dir / "cwga_selection.tsv").read_text().replace("\t1\t0.99", "\tX").replace("\t0\t0.01", "\t1\t0.99")
    (run_dir / "cwga_selection.tsv").write_text(table.replace("\tX", "\t0\t0.01"))
    swapped = export(run_dir, "cwga", "kmer", tmp_path / "b", ExportOptions(window=6))
    assert forward.primary.read_text() == swapped.control.read_text()
    assert forward.control.read_text() == swapped.primary.read_text()


def test_tokens_mode_takes_positive_tokens_against_the_lowest(run_dir, tmp_path):
    result = export(run_dir, "cwga", "kmer", tmp_path / "out", ExportOptions(mode="tokens", top_tokens=2))
    primary = read_sequences(result.primary, length=None)
    control = read_sequences(result.control, length=None)
    assert primary.sequences == ["GAGGAC", "ACGTAC"] and control.sequences == ["TTTTTT", "CCCCTT"]


def test_nothing_to_export_is_an_error_and_writes_nothing(run_dir, tmp_path):
    with pytest.raises(MednaError, match="nothing was written"):
        export(run_dir, "cwga", "kmer", tmp_path / "out", ExportOptions(min_score=10.0))
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("values, problem", [(dict(window=0), "window must be at least 3"),
                                             (dict(top_tokens=0), "top_tokens must be at least 1"),
                                             (dict(per_sequence=0), "per_sequence must be at least 1"),
                                             (dict(mode="peaks"), "export mode must be one of"),
                                             (dict(min_score=float("nan")), "finite")])
def test_export_options_are_checked_when_made(values, problem):
    with pytest.raises(ValueError, match=problem):
        ExportOptions(**values)
