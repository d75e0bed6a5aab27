"""embed: four processing stages of the model, their UMAPs and separability numbers; and the
transfer heatmaps of evaluate."""

import numpy as np
import pytest

from conftest import DEMO_CHECKPOINT
from medna_interp.cli import main
from medna_interp.interpret.embed import STAGES, carriers_of, sample_windows
from medna_interp.core.errors import MednaError
from medna_interp.core.settings import Common
from medna_interp.runs.explain import run_embed
from medna_interp.data.synth import write_synthetic


@pytest.fixture(scope="module")
def demo_data(tmp_path_factory):
    return write_synthetic(tmp_path_factory.mktemp("embed") / "synth", n_train=0, n_test=240, seed=5) / "test.tsv"


@pytest.fixture(scope="module")
def embedded(demo_data, tmp_path_factory):
    run = tmp_path_factory.mktemp("embed_run") / "run"
    return run, run_embed(DEMO_CHECKPOINT, demo_data, run, max_windows=200, color_by="GAGG",
                          common=Common(device="cpu", seed=3))


def test_four_stages_with_their_numbers_and_the_model_separates_better_than_its_inputs(embedded):
    run, result = embedded
    numbers = result.numbers.set_index("stage")
    assert list(numbers.index) == list(STAGES) and len(result.ids) == 200
    assert numbers.loc["post_moe", "knn_accuracy"] >= numbers.loc["raw", "knn_accuracy"]
    assert numbers.loc["post_moe", "silhouette_features"] > numbers.loc["raw", "silhouette_features"]
    assert ((numbers[["silhouette_features", "silhouette_map"]] >= -1) & (numbers[["silhouette_features",
                                                                                   "silhouette_map"]] <= 1)).all().all()
    saved = np.load(run / "embeddings.npz")
    assert all(saved[stage].shape == (200, 2) for stage in STAGES)
    assert list(saved["ids"]) == result.ids and (saved["labels"] == result.labels).all()
    assert (run / "embed.png").stat().st_size > 0 and (run / "embed.svg").exists()
    assert (run / "embed.tsv").read_text().splitlines()[0].split("\t") == \
        ["stage", "silhouette_features", "silhouette_map", "knn_accuracy", "positive_clusters"]


def test_the_sample_keeps_the_class_proportions_and_the_same_seed_gives_the_same_map(embedded, demo_data, tmp_path):
    _, first = embedded
    labels = np.array([0] * 300 + [1] * 100)
    chosen = sample_windows(labels, 40, seed=1)
    assert len(chosen) == 40 and labels[chosen].sum() == 10
    again = run_embed(DEMO_CHECKPOINT, demo_data, tmp_path / "again", max_windows=200, color_by="GAGG",
                      stages=["post_moe", "raw"], common=Common(device="cpu", seed=3))
    assert list(again.coordinates) == ["raw", "post_moe"]  # canonical order whatever the order given
    assert all(np.array_equal(again.coordinates[s], first.coordinates[s]) for s in again.coordinates)
    other = run_embed(DEMO_CHECKPOINT, demo_data, tmp_path / "other", max_windows=200, stages=["raw"],
                      common=Common(device="cpu", seed=4))
    assert other.ids != first.ids or not np.array_equal(other.coordinates["raw"], first.coordinates["raw"])


def test_color_by_marks_the_positives_that_carry_the_motif(embedded):
    _, result = embedded
    assert result.carriers is not None and result.color_by == "GAGG"
    positives = result.labels == 1
    assert result.carriers[positives].mean() > result.carriers[~positives].mean()  # the planted core
    sequences = ["A" * 10 + "GAGG" + "A" * 27, "A" * 41, "C" * 10 + "GAAG" + "C" * 27]
    assert carriers_of("GAGG", ["a", "b", "c"], sequences).tolist() == [True, False, False]
    assert carriers_of("GARG", ["a", "b", "c"], sequences).tolist() == [True, False, True]
    assert carriers_of("CCTC", ["a"], sequences[:1]).tolist() == [False]  # the window's own strand only


def test_color_by_a_motif_of_the_run_reads_its_sites(tmp_path):
    (tmp_path / "motifs").mkdir()
    (tmp_path / "motifs" / "motifs.tsv").write_text("source\tmotif\tconsensus\ncad_kmer\tcad_kmer:1-GAGG\tGAGG\n")
    (tmp_path / "motifs" / "sites.tsv").write_text("motif\tid\tlabel\tstart\tend\ncad_kmer:1-GAGG\tb\t1\t3\t7\n")
    assert carriers_of("cad_kmer:1-GAGG", ["a", "b"], ["A" * 41] * 2, tmp_path).tolist() == [False, True]
    with pytest.raises(MednaError, match="no such motif in .*motifs.tsv, and not an IUPAC string"):
        carriers_of("cad_kmer:9-XYZ", ["a"], ["A" * 41], tmp_path)


@pytest.mark.parametrize("body, extra, message", [
    ("".join(f"{i}\t{i % 2}\t{'ACGT' * 10}A\n" for i in range(12)), [], "12 windows (6 positives, 6 negatives)"),
    ("".join(f"{i}\t1\t{'ACGT' * 10}A\n" for i in range(30)), [], "the data holds only positives"),
    (None, ["--color-by", "NOPE1"], "no such motif"),
    (None, ["--stages", "raw", "umap"], "unknown stage 'umap'"),
])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(demo_data, tmp_path, capsys, body, extra, message):
    data = demo_data
    if body is not None:
        data = tmp_path / "data.tsv"
        data.write_text("index\tlabel\ttext\n" + body)
    out = tmp_path / "run"
    assert main(["embed", str(DEMO_CHECKPOINT), str(data), "-o", str(out), "--device", "cpu", *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert not out.exists()
