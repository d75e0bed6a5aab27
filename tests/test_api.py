"""The Python API: the README snippet as written, the example script, and input checks."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import medna_interp as mi
from conftest import DEMO_CHECKPOINT
from medna_interp.cli import main

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not (DEMO_CHECKPOINT / "model.safetensors").exists(), reason="no demo checkpoint")


def readme_snippet() -> str:
    text = (REPO / "README.md").read_text()
    section = text.split("## Python API", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.fixture(scope="module")
def snippet_namespace():
    namespace: dict = {}
    cwd = Path.cwd()
    try:
        import os

        os.chdir(REPO)  # the snippet names model/demo relative to the checkout, as a user would run it
        exec(compile(readme_snippet(), "README.md", "exec"), namespace)
    finally:
        os.chdir(cwd)
    return namespace


def test_readme_snippet_runs_and_finds_the_planted_core(snippet_namespace):
    cad, cwga, found = snippet_namespace["cad"], snippet_namespace["cwga"], snippet_namespace["found"]
    assert snippet_namespace["p"].shape == (600,)
    assert cwga["kmer"].per_base.shape == (len(cwga.selection.labels), 41)
    assert any("GAGG" in t for t in cad["kmer"].tokens.token.head(10))
    assert any("GAGG" in t or "GGAG" in t for t in cwga["kmer"].tokens.token.head(10))
    assert found.directory is None and found.motifs and all(m.source.startswith("cwga_") for m in found.motifs)


def test_api_cad_table_equals_the_cli_on_the_same_windows(snippet_namespace, tmp_path, capsys):
    windows, cad = snippet_namespace["windows"], snippet_namespace["cad"]
    data = tmp_path / "windows.tsv"
    data.write_text("index\tlabel\ttext\n" + "".join(f"{i}\t{y}\t{s}\n" for i, y, s in
                                                     zip(windows.ids, windows.labels, windows.sequences)))
    assert main(["cad", str(DEMO_CHECKPOINT), str(data), "-o", str(tmp_path / "run"), "--device", "cpu"]) == 0
    capsys.readouterr()
    for view in ("kmer", "bpe"):
        cli = pd.read_csv(tmp_path / "run" / f"cad_{view}.tsv", sep="\t", keep_default_na=False)
        api = cad[view].tokens
        assert list(cli.token) == list(api.token)
        assert np.allclose(cli.cad, api.cad, rtol=1e-5, atol=1e-6)
        assert (cli.n_pos.to_numpy() == api.n_pos.to_numpy()).all()


def test_wrong_inputs_raise_value_errors_naming_the_problem():
    model = mi.load(DEMO_CHECKPOINT, device="cpu")
    windows = mi.synthetic(40, seed=2)
    cases = [
        (([s.lower() for s in windows.sequences], windows.labels), "(lower case: upper-case soft-masked windows first)"),
        ((["N" + s[1:] for s in windows.sequences], windows.labels), "sequence 0: invalid base 'N' at position 1"),
        ((windows.sequences, np.ones(40, int)), "0 negative (label 0) windows given"),
        ((windows.sequences, np.zeros(40, int)), "0 positive (label 1) windows given"),
        ((windows.sequences[:-1] + ["ACGT"], windows.labels), "sequence 39 has length 4"),
        ((windows.sequences, windows.labels[:5]), "labels have shape (5,)"),
        (([s[:30] for s in windows.sequences], windows.labels), "trained on 41-bp windows"),
    ]
    for (sequences, labels), message in cases:
        with pytest.raises(ValueError, match=re.escape(message)):
            mi.cad(model, sequences, labels)
    with pytest.raises(ValueError, match="top_dims 999 is larger than the model width"):
        mi.cwga(model, windows.sequences, windows.labels, top_dims=999)
    with pytest.raises(mi.MednaError) as caught:
        mi.cad(model, windows.sequences, windows.labels, confidence=0.9999999)
    assert "--confidence" not in str(caught.value) and "--confidence" in caught.value.hint


def test_select_false_explains_every_window_given():
    model = mi.load(DEMO_CHECKPOINT, device="cpu")
    windows = mi.synthetic(60, seed=4)
    result = mi.cad(model, windows.sequences, windows.labels, select=False, views=("kmer",))
    assert result["kmer"].per_base.shape == (60, 41) and set(result.views) == {"kmer"}
    assert sorted(result.selection.source_index.tolist()) == list(range(60))
    with pytest.raises(KeyError, match="no 'bpe' view"):
        result["bpe"]


def test_example_script_runs(tmp_path):
    result = subprocess.run([sys.executable, str(REPO / "examples" / "python_api.py"), str(tmp_path / "motifs")],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "cad kmer: top tokens" in result.stdout and (tmp_path / "motifs" / "motifs.tsv").exists()
    peak = int(re.search(r"peaks at window position (\d+)", result.stdout).group(1))
    # on a planted motif: the core starts anywhere in 0-based 12-24 and the A-tract 9-12 bp
    # before it, so planted bases span 1-based positions 1 to 28
    assert 1 <= peak <= 28
    best = int(re.search(r"GAGG into negatives: best start (\d+)", result.stdout).group(1))
    spacing = int(re.search(r"adds most at start \d+, ([+-]\d+) bp from the core", result.stdout).group(1))
    assert 12 <= best <= 24 and -12 <= spacing <= -9


def test_insert_pairs_and_variant_effects_from_python():
    import medna_interp as mi

    model = mi.load(DEMO_CHECKPOINT, device="cpu")
    data = mi.synthetic(300, seed=2)
    result = mi.insert(model, data.sequences, data.labels, ["GAGG"], background="negatives", n_backgrounds=30,
                       bootstrap=100)
    best = result.summary[0]["best"]
    assert 12 <= best["offset"] <= 24 and best["ci_low"] > 0  # where the demo grammar lets the core start
    spacing = mi.pairs(model, data.sequences, None, ("GAGG", "AAAAA"), background="shuffled", n_backgrounds=30,
                       bootstrap=0)
    assert set(spacing.orientation) == {"same", "opposite"} and spacing.offset_a.between(12, 24).all()
    window = next(s for s, y in zip(data.sequences, data.labels) if y == 1 and s[19:23] == "GAGG")
    effects = mi.variant_effects(model, [window], [22], ["T"])
    assert effects.rank_fraction[0] <= 0.1
    with pytest.raises(mi.MednaError, match="differ from the window's G"):
        mi.variant_effects(model, [window], [22], ["G"])


def test_embed_from_python():
    import medna_interp as mi

    model = mi.load(DEMO_CHECKPOINT, device="cpu")
    data = mi.synthetic(200, seed=4)
    result = mi.embed(model, data.sequences, data.labels, stages=["raw", "post_moe"], color_by="GAGG")
    numbers = result.numbers.set_index("stage")
    assert list(numbers.index) == ["raw", "post_moe"] and result.coordinates["raw"].shape == (200, 2)
    assert numbers.loc["post_moe", "knn_accuracy"] >= numbers.loc["raw", "knn_accuracy"]
    with pytest.raises(mi.MednaError, match="unknown stage 'h_mod'"):
        mi.embed(model, data.sequences, data.labels, stages=["h_mod"])
