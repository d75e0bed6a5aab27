"""Variant effects on the demo checkpoint: scores, ranks among all single-base changes, bad lines."""

import numpy as np
import pandas as pd
import pytest

from conftest import DEMO_CHECKPOINT
from medna_interp.cli import main
from medna_interp.interpret.ism import ism
from medna_interp.data.io import read_sequences
from medna_interp.data.synth import write_synthetic
from medna_interp.causal.variants import Variant, variant_effects

pytestmark = pytest.mark.skipif(not (DEMO_CHECKPOINT / "model.safetensors").exists(), reason="no demo checkpoint")


@pytest.fixture(scope="module")
def data_path(tmp_path_factory):
    return write_synthetic(tmp_path_factory.mktemp("var") / "d", n_train=0, n_test=200, seed=7) / "test.tsv"


@pytest.fixture(scope="module")
def positive(data_path):
    data = read_sequences(data_path)
    return next((i, s) for i, s, y in zip(data.ids, data.sequences, data.labels) if y == 1 and s[19:23] == "GAGG")


def _write(path, lines):
    path.write_text("\n".join(lines) + "\n")
    return path


def test_destroying_the_planted_gagg_ranks_in_the_top_tenth(data_path, tmp_path, capsys):
    # The demo grammar is an AND of two motifs, so a change to any planted base breaks the call:
    # GAGG's three non-centre bases and the A-tract's five give 24 changes that each drop the
    # log-odds by about 10, and which of them ranks first in a window is noise among equals.
    # The claim is therefore per window: its most damaging GAGG-breaking change is among the
    # top tenth of all 3 L changes, in most positive windows.
    data = read_sequences(data_path)
    windows = [(i, s) for i, s, y in zip(data.ids, data.sequences, data.labels) if y == 1 and s[19:23] == "GAGG"][:20]
    lines = ["id\twindow_id\tsequence\tposition\tref\talt"]
    for ident, window in windows:
        lines += [f"{ident}:{p + 1}{alt}\t{ident}\t\t{p + 1}\t{window[p]}\t{alt}"
                  for p in (19, 21, 22) for alt in "ACGT" if alt != window[p]]
    first = windows[0][1]
    lines.append(f"far\t\t{first}\t2\t{first[1]}\t{'A' if first[1] != 'A' else 'C'}")
    out = tmp_path / "out"
    assert main(["variants", str(DEMO_CHECKPOINT), str(_write(tmp_path / "v.tsv", lines)), "-o", str(out),
                 "--data", str(data_path), "--device", "cpu"]) == 0
    table = pd.read_csv(out / "variants.tsv", sep="\t", keep_default_na=False)
    core = table[table.id != "far"]
    assert len(core) == 9 * len(windows) and (core.n_changes == 3 * 41).all()
    assert (core.delta_logit < 0).all() and (core.p_alt < core.p_ref).all()
    strongest = core.groupby("window_id").rank_fraction.min()
    assert (strongest <= 0.10).mean() >= 0.8
    far = table.set_index("id").loc["far"]
    assert far.rank_by_drop > core[core.window_id == windows[0][0]].rank_by_drop.min()
    assert (out / "provenance.json").exists()
    assert f"{windows[0][0]}:22T: G22T" in capsys.readouterr().out


def test_scores_and_ranks_agree_with_saturation_mutagenesis(positive):
    import medna_interp as mi

    model = mi.load(DEMO_CHECKPOINT, device="cpu")
    ident, window = positive
    variants = [Variant("a", window, 22, "G", "T"), Variant("b", window, 5, window[4], "G" if window[4] != "G" else "C")]
    table = variant_effects(model, variants)
    scan = ism(model, [window])
    deltas = np.sort(scan.delta[0][scan.delta[0] != 0])
    for row, variant in zip(table.itertuples(), variants):
        value = scan.delta[0, variant.position - 1, "ACGT".index(variant.alt)]
        assert row.delta_logit == pytest.approx(value, abs=1e-5)
        assert row.rank_by_drop == int((deltas < value).sum()) + 1
        assert row.p_ref == pytest.approx(1 / (1 + np.exp(-scan.reference[0])), abs=1e-6)


@pytest.mark.parametrize("line, message", [
    ("x\t{w}\t22\tC\tT", ":2: ref C does not match the window, which has G at position 22"),
    ("x\t{w}\t42\tG\tT", ":2: position 42 is outside the 41-base window"),
    ("x\t{w}\t22\tG\tN", ":2: alt N must be one of A, C, G, T"),
    ("x\t{w}\t22\tG\tG", ":2: alt equals ref"),
    ("x\t{w}\tten\tG\tT", ":2: position 'ten' is not a whole number"),
    ("x\t{w}XY\t22\tG\tT", ":2: the window holds 'X'"),
])
def test_bad_variant_lines_exit_2_naming_the_line_and_write_nothing(positive, tmp_path, capsys, line, message):
    _, window = positive
    variants = _write(tmp_path / "v.tsv", ["id\tsequence\tposition\tref\talt", line.format(w=window)])
    out = tmp_path / "never"
    code = main(["variants", str(DEMO_CHECKPOINT), str(variants), "-o", str(out), "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_missing_columns_and_unknown_window_ids_exit_2(data_path, tmp_path, capsys):
    out = tmp_path / "never"
    no_window = _write(tmp_path / "a.tsv", ["id\tposition\tref\talt", "x\t3\tA\tC"])
    assert main(["variants", str(DEMO_CHECKPOINT), str(no_window), "-o", str(out)]) == 2
    assert ":1: missing column(s) sequence or window_id" in capsys.readouterr().err
    unknown = _write(tmp_path / "b.tsv", ["id\twindow_id\tposition\tref\talt", "x\tnope\t3\tA\tC"])
    assert main(["variants", str(DEMO_CHECKPOINT), str(unknown), "-o", str(out), "--data", str(data_path)]) == 2
    assert ":2: window_id 'nope' is not in" in capsys.readouterr().err
    assert main(["variants", str(DEMO_CHECKPOINT), str(unknown), "-o", str(out)]) == 2
    assert "needs --data" in capsys.readouterr().err
    short = _write(tmp_path / "c.tsv", ["id\tsequence\tposition\tref\talt", "x\t" + "A" * 30 + "\t3\tA\tC"])
    assert main(["variants", str(DEMO_CHECKPOINT), str(short), "-o", str(out)]) == 2
    assert "has 30 bases, the model reads 41" in capsys.readouterr().err
    assert main(["variants", str(DEMO_CHECKPOINT), str(short), "-o", str(out), "--length", "0"]) == 2
    assert "trained on 41-bp windows" in capsys.readouterr().err
    assert not out.exists()
