"""TF-MoDISco as a motif source, on attributions built by hand: a planted motif is found and
passes the held-out gate, the same attributions under permuted labels pass nothing, and bad
input fails with one clear message."""

import sys

import numpy as np
import pytest

from medna_interp.core.errors import MednaError
from medna_interp.motifs.modisco import ModiscoOptions, modisco_motifs, require_modisco

pytest.importorskip("modiscolite")

PLANTED = "GAGGTA"


def _windows(n_per_class: int = 120, length: int = 41, seed: int = 0):
    """Random windows; each positive carries PLANTED at a random place, where its attribution
    is high (the rest is noise), and a quarter of the negatives carry it with no attribution."""
    rng = np.random.default_rng(seed)
    sequences, labels, scores = [], [], []
    for label in (1, 0):
        for i in range(n_per_class):
            bases = list(rng.choice(list("ACGT"), length))
            score = rng.normal(0, 0.05, length)
            if label == 1 or i % 4 == 0:
                start = int(rng.integers(0, length - len(PLANTED)))
                bases[start:start + len(PLANTED)] = PLANTED
                if label == 1:
                    score[start:start + len(PLANTED)] += 1.0
            sequences.append("".join(bases))
            labels.append(label)
            scores.append(score)
    return sequences, np.array(labels), np.array(scores)


def test_a_planted_motif_is_found_and_passes_the_held_out_gate():
    sequences, labels, scores = _windows()
    result = modisco_motifs(sequences, labels, scores, label="toy")
    assert result.n_windows == 60  # half the positives build, half are held out
    assert result.held_out.sum() == 120 and (labels[result.held_out] == 1).sum() == 60
    found = [m for m in result.motifs if "GAGG" in m.name and m.evalue <= 0.05]
    assert found, [(m.name, m.evalue) for m in result.motifs]
    best = found[0]
    assert best.id.startswith("toy:") and best.info["sign"] == "+" and best.nsites >= 10
    assert best.pwm.shape == best.info["cwm"].shape and np.allclose(best.pwm.sum(1), 1)
    # every held-out positive carries it, and about a quarter of the negatives
    assert best.info["held_out_pos_with_site"] >= 55 and best.info["held_out_neg_with_site"] <= 30


def test_under_permuted_labels_the_same_attributions_pass_nothing():
    sequences, labels, scores = _windows()
    permuted = np.random.default_rng(3).permutation(labels)
    # the model's attributions do not change with the labels, so TF-MoDISco still finds the
    # pattern among the "positives"; the held-out half has no contrast to give it
    result = modisco_motifs(sequences, permuted, scores, seed=1)
    assert not [m for m in result.motifs if m.evalue <= 0.05], [(m.name, m.evalue) for m in result.motifs]


@pytest.mark.parametrize("change, message", [
    (lambda s, l, a: (s, l, a[:, :-1]), r"scores of shape \(240, 40\), expected \(240, 41\)"),
    (lambda s, l, a: (s, l[:-1], a), "239 labels for 240 windows"),
    (lambda s, l, a: (s, l, np.where(a > 0.9, np.nan, a)), "NaN or infinite"),
    (lambda s, l, a: (s[:30] + s[-30:], np.r_[l[:30], l[-30:]], np.r_[a[:30], a[-30:]]), "too few windows"),
])
def test_bad_attributions_fail_with_one_message(change, message):
    sequences, labels, scores = change(*_windows())
    with pytest.raises(MednaError, match=message):
        modisco_motifs(sequences, labels, scores, what="run/attributions.npz")


def test_hypothetical_contributions_of_the_wrong_shape_fail():
    sequences, labels, scores = _windows()
    with pytest.raises(MednaError, match=r"hypothetical contributions of shape \(240, 41\)"):
        modisco_motifs(sequences, labels, scores, hypothetical=scores)


def test_attributions_with_no_seqlets_fail_as_too_few():
    sequences, labels, _ = _windows()
    flat = np.zeros((len(sequences), 41))
    with pytest.raises(MednaError, match="too few seqlets"):
        modisco_motifs(sequences, labels, flat)


def test_a_missing_modisco_lite_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "modiscolite", None)
    with pytest.raises(MednaError) as caught:
        require_modisco()
    assert "modisco-lite" in str(caught.value) and "medna-interp[modisco]" in caught.value.hint


@pytest.mark.parametrize("options", [dict(window=2), dict(trim_to=4), dict(held_out=1.0), dict(min_seqlets=1)])
def test_options_out_of_range_fail(options):
    with pytest.raises(MednaError, match="modisco option"):
        ModiscoOptions(**options)


@pytest.mark.parametrize("strong, width, at", [([5], 4, [2]), ([0], 4, [0]), ([13], 4, [3]), ([2, 3, 4, 5, 6], 5, range(5))])
def test_a_pattern_is_trimmed_to_its_contributing_columns_but_no_narrower_than_four(strong, width, at):
    from types import SimpleNamespace

    from medna_interp.motifs.modisco import _motif

    cwm = np.zeros((14, 4))
    cwm[strong, 0] = 1.0
    pattern = SimpleNamespace(sequence=np.full((14, 4), 0.25), contrib_scores=cwm,
                              seqlets=[SimpleNamespace(is_revcomp=False)])
    motif = _motif(pattern, "+", "x")
    assert motif.width == width and list(np.flatnonzero(motif.info["cwm"][:, 0])) == list(at)
