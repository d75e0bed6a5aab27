"""How the model separates the classes stage by stage: features of four processing stages,
a UMAP of each, and numbers that make the pictures comparable (MEDNA-DFM paper, Fig. 3A-D
and Fig. 6).

Stages, for a batch of B windows and model width d:

- ``raw``: the mean of each view's input token embeddings over its real tokens (specials
  included), the views concatenated, shape (B, 2d) (B, d for ``kmer_only``);
- ``post_dnabert``: both views' pooled encoder outputs as the model pools them
  (``h_kmer``, ``h_bpe``) concatenated, (B, 2d);
- ``post_film``: the fusion output ``h_mod``, (B, d);
- ``post_moe``: the classifier's input ``h_moe``, (B, d).

Per stage, ``separability`` measures the labels' silhouette in the feature space (cosine)
and on the 2-D map (Euclidean), the 5-fold cross-validated accuracy of a 15-nearest-
neighbour classifier in the feature space (cosine), and the number of clusters HDBSCAN
finds among the positives on the map (``min_cluster_size`` = max(10, 5 % of the
positives); noise points belong to none): the paper's "sub-clusters of positives".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ..core.errors import MednaError
from ..data.io import SequenceSet
from ..models.medna_dfm import MednaDFM

STAGES = ("raw", "post_dnabert", "post_film", "post_moe")
TITLES = {"raw": "raw token embeddings", "post_dnabert": "post-DNABERT (pooled views)",
          "post_film": "post-FiLM (h_mod)", "post_moe": "post-MoE (classifier input)"}
NEIGHBOURS = 15
FOLDS = 5
MIN_WINDOWS = 20


@dataclass
class Embedding:
    """Features and maps of the sampled windows.

    Attributes
    ----------
    ids : list of N window ids
    labels : np.ndarray of int, shape (N,)
    features : stage -> np.ndarray (N, F)
    coordinates : stage -> np.ndarray (N, 2), the UMAP
    numbers : one row per stage: silhouette_features, silhouette_map, knn_accuracy, positive_clusters
    carriers : np.ndarray of bool, shape (N,): the windows carrying ``color_by``; None without it
    color_by : the motif or IUPAC string the carriers carry
    """

    ids: list[str]
    labels: np.ndarray
    features: dict[str, np.ndarray]
    coordinates: dict[str, np.ndarray]
    numbers: pd.DataFrame
    carriers: np.ndarray | None = None
    color_by: str | None = None


def check_stages(stages) -> tuple[str, ...]:
    """``stages`` in the canonical order, after checking each is one we know."""
    unknown = [s for s in stages if s not in STAGES]
    if unknown or not stages:
        raise MednaError(f"unknown stage {unknown[0]!r}" if unknown else "no stage chosen",
                         hint=f"choose from {', '.join(STAGES)}")
    return tuple(s for s in STAGES if s in stages)


def check_options(data: SequenceSet, stages, max_windows: int, n_neighbors: int, min_dist: float) -> tuple[str, ...]:
    """Every option of :func:`embed` against the data, before any work; returns the stages in order."""
    stages = check_stages(stages)
    labels = data.require_labels()
    counts = [int((labels == value).sum()) for value in (0, 1)]
    if max_windows < MIN_WINDOWS:
        raise MednaError(f"max_windows must be at least {MIN_WINDOWS}, got {max_windows}")
    if min(counts) == 0:
        only = "positives (label 1)" if counts[0] == 0 else "negatives (label 0)"
        raise MednaError(f"{data.source}: the data holds only {only}; separating the classes needs both")
    if len(labels) < MIN_WINDOWS or min(counts) < FOLDS:
        raise MednaError(f"{data.source}: {len(labels)} windows ({counts[1]} positives, {counts[0]} negatives); "
                         f"the maps and numbers need at least {MIN_WINDOWS} windows and {FOLDS} of each class")
    if n_neighbors < 2 or not 0.0 <= min_dist <= 1.0:
        raise MednaError(f"n_neighbors must be at least 2 and min_dist in [0, 1], got {n_neighbors} and {min_dist}")
    return stages


def sample_windows(labels: np.ndarray, max_windows: int, seed: int) -> np.ndarray:
    """Indices of at most ``max_windows`` windows, each class in its proportion, seeded; sorted."""
    if len(labels) <= max_windows:
        return np.arange(len(labels))
    rng = np.random.default_rng(seed)
    chosen = []
    for value in (0, 1):
        members = np.flatnonzero(labels == value)
        share = max(1, int(round(max_windows * len(members) / len(labels))))
        chosen.append(rng.choice(members, size=min(share, len(members)), replace=False))
    return np.sort(np.concatenate(chosen))


def stage_features(model: MednaDFM, sequences: list[str], batch_size: int = 64) -> dict[str, np.ndarray]:
    """stage -> features of every window, shape (N, F) (see the module docstring)."""
    parts: dict[str, list[np.ndarray]] = {stage: [] for stage in STAGES}
    model.eval()
    with torch.no_grad():
        for start in range(0, len(sequences), batch_size):
            inputs = model.tokenize(sequences[start : start + batch_size]).to(model.device)
            views = [(model.kmer_encoder, inputs.kmer)]
            if model.has_bpe_view:
                views.append((model.bpe_encoder, inputs.bpe))
            raw = []
            for encoder, batch in views:
                vectors = encoder.get_input_embeddings()(batch.input_ids).float()
                mask = batch.attention_mask.to(vectors.dtype).unsqueeze(-1)
                raw.append((vectors * mask).sum(1) / mask.sum(1).clamp(min=1.0))
            output = model.run(inputs)
            pooled = [output.h_kmer] + ([output.h_bpe] if output.h_bpe is not None else [])
            for stage, tensor in (("raw", torch.cat(raw, 1)), ("post_dnabert", torch.cat(pooled, 1)),
                                  ("post_film", output.h_mod), ("post_moe", output.h_moe)):
                parts[stage].append(tensor.float().cpu().numpy())
    return {stage: np.concatenate(chunks) for stage, chunks in parts.items()}


def umap_map(features: np.ndarray, n_neighbors: int, min_dist: float, seed: int) -> np.ndarray:
    """Seeded 2-D UMAP of ``features`` (N, F) -> (N, 2); seeding makes umap-learn run single-threaded and repeatable."""
    import warnings

    import umap

    with warnings.catch_warnings():
        # "n_jobs value 1 overridden to 1 by setting random_state": the price of repeatability
        warnings.filterwarnings("ignore", message="n_jobs value", category=UserWarning)
        reducer = umap.UMAP(n_neighbors=min(n_neighbors, len(features) - 1), min_dist=min_dist, n_components=2,
                            random_state=seed)
        return reducer.fit_transform(features).astype(np.float32)


def separability(features: np.ndarray, coordinates: np.ndarray, labels: np.ndarray, seed: int) -> dict:
    """Silhouettes, cross-validated 15-NN accuracy and positive clusters (module docstring) of one stage."""
    from sklearn.cluster import HDBSCAN
    from sklearn.metrics import silhouette_score
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=seed)
    knn = KNeighborsClassifier(n_neighbors=NEIGHBOURS, metric="cosine")
    positives = coordinates[labels == 1]
    clusters = HDBSCAN(min_cluster_size=max(10, int(0.05 * len(positives))), copy=True).fit(positives).labels_ \
        if len(positives) >= 10 else np.array([-1])
    return {"silhouette_features": float(silhouette_score(features, labels, metric="cosine")),
            "silhouette_map": float(silhouette_score(coordinates, labels)),
            "knn_accuracy": float(cross_val_score(knn, features, labels, cv=folds).mean()),
            "positive_clusters": int(len(set(clusters.tolist()) - {-1}))}


def run_motif_files(run_dir: str | Path | None, name: str) -> tuple[Path, Path] | None:
    """(``motifs.tsv``, ``sites.tsv``) of a run directory when ``name`` is one of its motifs, else None."""
    if run_dir is None:
        return None
    table = Path(run_dir) / "motifs" / "motifs.tsv"
    sites = table.parent / "sites.tsv"
    if not (table.exists() and sites.exists()):
        return None
    return (table, sites) if name in set(pd.read_csv(table, sep="\t", keep_default_na=False).motif) else None


def carriers_of(color_by: str, ids: list[str], sequences: list[str], run_dir: Path | None = None) -> np.ndarray:
    """Which windows carry ``color_by``: a motif of ``RUN/motifs/motifs.tsv`` (its FIMO sites
    in ``sites.tsv``), else an IUPAC string found exactly on the window's own strand (the
    strand of the candidate base). Shape (N,), bool."""
    from ..core.sequence import IUPAC, iupac_pattern

    files = run_motif_files(run_dir, color_by)
    if files is not None:
        sites = pd.read_csv(files[1], sep="\t", dtype={"id": str})
        return np.isin(ids, sites.id[sites.motif == color_by].unique())
    try:
        letters = iupac_pattern(color_by)
    except MednaError:
        table = Path(run_dir) / "motifs" / "motifs.tsv" if run_dir is not None else None
        where = f"in {table}" if table is not None and table.exists() else "(no motifs/motifs.tsv in the run)"
        raise MednaError(f"--color-by {color_by!r}: no such motif {where}, and not an IUPAC string",
                         hint="give a motif id from the 'motif' column of motifs.tsv or a string such as GAGG") from None
    pattern = re.compile("".join(f"[{IUPAC[c]}]" for c in letters))
    return np.array([pattern.search(s) is not None for s in sequences])


def embed(model: MednaDFM, data: SequenceSet, *, stages=STAGES, max_windows: int = 2000, n_neighbors: int = 15,
          min_dist: float = 0.1, color_by: str | None = None, run_dir: str | Path | None = None, seed: int = 0,
          batch_size: int = 64) -> Embedding:
    """Features, UMAPs and separability numbers of up to ``max_windows`` windows of ``data``.

    Parameters
    ----------
    stages : which of :data:`STAGES`
    n_neighbors, min_dist : UMAP's
    color_by : a motif of ``run_dir``'s motif table or an IUPAC string (see :func:`carriers_of`)

    Raises
    ------
    MednaError : fewer than 20 windows, a class with fewer than 5 (the folds), an unknown
        stage or ``color_by``, or an option out of range
    """
    stages = check_options(data, stages, max_windows, n_neighbors, min_dist)
    labels = data.labels
    index = sample_windows(labels, max_windows, seed)
    sample = data.subset(index)
    carriers = None if color_by is None else carriers_of(color_by, sample.ids, sample.sequences,
                                                        Path(run_dir) if run_dir is not None else None)
    features = {stage: values for stage, values in stage_features(model, sample.sequences, batch_size).items()
                if stage in stages}
    coordinates = {stage: umap_map(values, n_neighbors, min_dist, seed) for stage, values in features.items()}
    numbers = pd.DataFrame([{"stage": stage, **separability(features[stage], coordinates[stage], sample.labels, seed)}
                            for stage in stages])
    return Embedding(list(sample.ids), sample.labels, features, coordinates, numbers, carriers, color_by)


def plot_embedding(result: Embedding, stem: Path) -> None:
    """The maps side by side (2 x 2 for four stages) coloured by label, or with ``color_by``
    the positives split by whether they carry it; ``stem``.png and ``stem``.svg."""
    from ..core.figures import plt, save_figure

    stages = list(result.coordinates)
    columns = 2 if len(stages) > 1 else 1
    rows = -(-len(stages) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(5 * columns, 4.6 * rows), squeeze=False)
    groups = [("negatives", result.labels == 0, "#b8b8b8")]
    if result.carriers is None:
        groups.append(("positives", result.labels == 1, "#c0392b"))
    else:
        groups += [(f"positives without {result.color_by}", (result.labels == 1) & ~result.carriers, "#f0a35e"),
                   (f"positives with {result.color_by}", (result.labels == 1) & result.carriers, "#5b2c83")]
    numbers = result.numbers.set_index("stage")
    for axis, stage in zip(axes.flat, stages):
        points = result.coordinates[stage]
        for name, mask, colour in groups:
            axis.scatter(points[mask, 0], points[mask, 1], s=5, c=colour, label=f"{name} ({int(mask.sum())})",
                         linewidths=0, alpha=0.8)
        row = numbers.loc[stage]
        axis.set_title(f"{TITLES[stage]}\n15-NN acc {row.knn_accuracy:.3f}, silhouette {row.silhouette_features:.3f}, "
                       f"{int(row.positive_clusters)} positive clusters", fontsize=9)
        axis.set_xticks([])
        axis.set_yticks([])
    for axis in list(axes.flat)[len(stages):]:
        axis.axis("off")
    axes.flat[0].legend(fontsize=7, markerscale=2, loc="best")
    figure.tight_layout()
    save_figure(figure, stem)


def write_embedding(result: Embedding, directory: Path) -> None:
    """``embeddings.npz`` (stage -> coordinates, ids, labels, carriers), ``embed.tsv`` and ``embed.png``/``.svg``."""
    arrays = {stage: coordinates for stage, coordinates in result.coordinates.items()}
    arrays.update(ids=np.array(result.ids), labels=result.labels)
    if result.carriers is not None:
        arrays["carriers"] = result.carriers
    np.savez_compressed(directory / "embeddings.npz", **arrays)
    result.numbers.to_csv(directory / "embed.tsv", sep="\t", index=False, float_format="%.6g")
    plot_embedding(result, directory / "embed")
