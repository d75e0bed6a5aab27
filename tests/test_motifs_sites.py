"""FIMO sites: where a known motif sits in known windows."""

import numpy as np
import pytest

from medna_interp.data.io import SequenceSet
from medna_interp.motifs.motif import Motif
from medna_interp.motifs.sites import information_content, scan_sites


def one_hot(word: str) -> np.ndarray:
    return np.array([[0.97 if b == base else 0.01 for b in "ACGT"] for base in word])


def test_sites_offsets_and_fractions(tmp_path):
    background = "T" * 41
    with_core = background[:18] + "GAGGCA" + background[24:]  # site at 19-24, centre 21.5 vs window centre 21
    twice = "GAGGCA" + background[6:30] + "GAGGCA" + background[36:]
    data = SequenceSet(["p1", "p2", "n1", "n2"], [with_core, twice, background, with_core],
                       np.array([1, 1, 0, 0]), source="toy")
    motif = Motif("core", "core", one_hot("GAGGCA"))
    scan = scan_sites([motif], data, tmp_path)
    sites = scan.sites.sort_values(["id", "start"])
    assert list(zip(sites.id, sites.start, sites.end)) == [("n2", 19, 24), ("p1", 19, 24), ("p2", 1, 6),
                                                            ("p2", 31, 36)]
    assert sites.offset.tolist() == [0.5, 0.5, -17.5, 12.5]
    summary = scan.summary.set_index("motif").loc["core"]
    assert summary.frac_pos_with_site == 1.0 and summary.frac_neg_with_site == 0.5


def test_information_content_of_certain_and_uniform_columns():
    assert information_content(np.eye(4)) == pytest.approx(8.0, abs=1e-5)  # four certain columns, 2 bits each
    assert information_content(np.full((3, 4), 0.25)) == pytest.approx(0.0)
