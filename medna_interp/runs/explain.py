"""The steps that explain the model on the data (CAD, CWGA, ISM, representations): each checks
its output and options, loads the checkpoint and windows, computes, then writes its outputs
together (staged) and records its provenance."""

from __future__ import annotations

import os

import numpy as np

from ..core.errors import MednaError
from ..core.outputs import claim_directory, step_outputs
from ..core.provenance import Resources
from ..core.settings import Common, input_paths
from ..core.stats import MIN_SELECTED
from ..data.composition import composition
from ..data.io import load_data
from ..interpret.cad import cad, check_gc_strata, scan, write_cad
from ..interpret.cwga import cwga, write_cwga
from ..interpret.selection import select_confident
from ..models.loading import load_checkpoint
from ..models.medna_dfm import MednaDFM
from ..models.predict import predict_proba
from .cache import cached_probabilities, input_checksums, probabilities_for, save_probabilities
from .checks import check_cad_options, check_cwga_options, check_probability
from .record import StepResult, step_record
from .registry import runner_of


@runner_of("cad")
def run_cad(checkpoint: str | os.PathLike, data_path: str | os.PathLike, run_dir: str | os.PathLike, *,
            views=("kmer", "bpe"), layer: int = -1, heads=None, min_samples: int = 3,
            per_sequence_mean: bool = False, confidence: float = 0.9, max_per_class: int | None = None,
            min_selected: int = MIN_SELECTED, kmer_encoder: str | None = None, bpe_encoder: str | None = None,
            gc_strata: int = 5, common: Common = Common(), model: MednaDFM | None = None, force: bool = False):
    """Selection then CAD; writes ``selection.tsv``, ``cad_{view}.tsv``, positional profiles and
    ``composition.tsv`` (positives against negatives in the data and in the selection).

    Returns
    -------
    StepResult : (CadResult, Selection)
    """
    started = Resources()  # the step's wall time and memory include its computation
    paths = input_paths(checkpoint, data_path, common, kmer_encoder=kmer_encoder, bpe_encoder=bpe_encoder)
    claim_directory(run_dir, "run", inputs=paths.values(), force=force)
    model = model or load_checkpoint(checkpoint, common)
    data = load_data(data_path, common, model)
    standalone = check_cad_options(model, views, layer, heads, min_samples, confidence, max_per_class,
                                   kmer_encoder, bpe_encoder)
    check_gc_strata(gc_strata, data.require_labels(), f"windows in {data.source}")
    options = dict(views=list(views), layer=layer, heads=heads, min_samples=min_samples,
                   per_sequence_mean=per_sequence_mean, confidence=confidence, max_per_class=max_per_class,
                   min_selected=min_selected, kmer_encoder=kmer_encoder, bpe_encoder=bpe_encoder, gc_strata=gc_strata)
    checksums = input_checksums(paths)
    probabilities, key = cached_probabilities(run_dir, data, checksums)
    attention, fresh = None, probabilities is None
    if fresh:
        if standalone:
            probabilities = predict_proba(model, data.sequences, common.batch_size)
        else:  # the predicting pass reads the attention too: no second pass over the selection
            probabilities, attention = scan(model, data.sequences, views, layer, heads, common.batch_size)
    selection = select_confident(model, data, confidence, max_per_class, probabilities=probabilities,
                                 min_selected=min_selected)
    if attention is not None:
        attention = {view: read.subset(selection.source_index) for view, read in attention.items()}
    result = cad(model, selection.data.sequences, selection.labels, views=views, layer=layer, heads=heads,
                 min_samples=min_samples, per_sequence_mean=per_sequence_mean,
                 batch_size=common.batch_size, standalone=standalone, attention=attention, gc_strata=gc_strata)
    report = composition({"data": (data.sequences, data.require_labels()),
                          "selection": (selection.data.sequences, selection.labels)})
    record = step_record("cad", options, paths, common, {}, reported=result.options)
    record.update(selection=selection.counts, data_metrics=selection.metrics, composition_warnings=report.warnings)
    with step_outputs(run_dir, "cad", record, started=started) as stage:
        selection.write(stage.path / "selection.tsv")
        write_cad(result, stage.path)
        report.table.to_csv(stage.path / "composition.tsv", sep="\t", index=False, float_format="%.6g")
    if fresh:
        save_probabilities(run_dir, probabilities, key)
    return StepResult(result, selection)


@runner_of("cwga")
def run_cwga(checkpoint: str | os.PathLike, data_path: str | os.PathLike, run_dir: str | os.PathLike, *,
             views=("kmer", "bpe"), top_dims: int = 40, dim_score: str = "activation", n_samples: int = 100,
             confidence: float = 0.9, min_selected: int = MIN_SELECTED, baseline: str | None = None,
             steps: int = 50,
             internal_batch_size: int = 128, per_dim: bool = False, min_count: int = 3, progress: bool = True,
             gc_strata: int = 5, strand_check: bool = False, rc_average: bool = False,
             common: Common = Common(), model: MednaDFM | None = None, force: bool = False):
    """Selection (top ``n_samples`` per class) then CWGA; writes ``cwga_selection.tsv``,
    ``dims.tsv``, ``cwga_{view}.tsv`` and ``attributions.npz``.

    ``strand_check`` also explains every selected window's reverse complement with the same
    dimensions and weights and writes ``strand_cwga.tsv`` (:mod:`medna_interp.interpret.strand`);
    ``rc_average`` (for strand-symmetric marks) does the same and stores each window's per-base
    attributions as the mean of the forward and the mapped-back reverse strand.

    Returns
    -------
    StepResult : (CwgaResult, Selection)
    """
    started = Resources()  # the step's wall time and memory include its computation
    paths = input_paths(checkpoint, data_path, common)
    claim_directory(run_dir, "run", inputs=paths.values(), force=force)
    model = model or load_checkpoint(checkpoint, common)
    data = load_data(data_path, common, model)
    check_cwga_options(model, views, top_dims, n_samples, confidence, steps, internal_batch_size, min_count,
                       gc_strata)
    check_gc_strata(gc_strata, data.require_labels(), f"windows in {data.source}")
    options = dict(views=list(views), top_dims=top_dims, dim_score=dim_score, n_samples=n_samples,
                   confidence=confidence, min_selected=min_selected, baseline=baseline, steps=steps, per_dim=per_dim,
                   min_count=min_count, gc_strata=gc_strata, strand_check=strand_check, rc_average=rc_average)
    probabilities, key, fresh = probabilities_for(run_dir, model, data, paths, common.batch_size)
    selection = select_confident(model, data, confidence, n_samples, min_per_class=2, probabilities=probabilities,
                                 min_selected=min_selected)
    result = cwga(model, selection.data.sequences, selection.labels, views=views, top_dims=top_dims,
                  dim_score=dim_score, baseline=baseline, steps=steps, internal_batch_size=internal_batch_size,
                  per_dim=per_dim, batch_size=common.batch_size, min_count=min_count, progress=progress,
                  gc_strata=gc_strata)
    strand = None
    if strand_check or rc_average:
        strand = _cwga_strands(model, selection.data.sequences, selection.labels, result, baseline, steps,
                               internal_batch_size, common.batch_size)
        if rc_average:
            for view, attribution in result.attributions.items():
                attribution.per_base = (attribution.per_base + strand.mapped_back[f"cwga_{view}"]) / 2
    record = step_record("cwga", options, paths, common, {}, reported=result.options)
    record.update(selection=selection.counts, data_metrics=selection.metrics)
    if strand is not None:
        record["strand"] = {"consistent": strand.consistent, "rc_average": rc_average,
                            "methods": strand.table.to_dict("records")}
    record["convergence_delta"] = {view: {"mean_abs": float(abs(a.delta).mean()), "max_abs": float(abs(a.delta).max()),
                                          "mean_abs_total": float(abs(a.total).mean())}
                                   for view, a in result.attributions.items()}
    with step_outputs(run_dir, "cwga", record, started=started) as stage:
        selection.write(stage.path / "cwga_selection.tsv")
        write_cwga(result, stage.path, selection.data.ids, selection.labels)
        if strand is not None:
            strand.table.to_csv(stage.path / "strand_cwga.tsv", sep="\t", index=False, float_format="%.6g")
    if fresh:
        save_probabilities(run_dir, probabilities, key)
    return StepResult(result, selection)


def _cwga_strands(model: MednaDFM, sequences: list[str], labels: np.ndarray, result, baseline, steps: int,
                  internal_batch_size: int, batch_size: int):
    """CWGA's strand check: each view's attributions of the reverse-complement windows, with the
    forward ranking's dimensions and weights, mapped back and compared."""
    from ..interpret.cwga import attribute_view
    from ..interpret.strand import strand_consistency

    def explainer(view: str):
        return lambda windows: attribute_view(model, windows, view, result.ranking.dims, result.ranking.weights,
                                              baseline=baseline, steps=steps,
                                              internal_batch_size=internal_batch_size).per_base

    views = list(result.attributions)
    return strand_consistency(model, sequences, labels, {f"cwga_{v}": result.attributions[v].per_base for v in views},
                              {f"cwga_{v}": explainer(v) for v in views}, batch_size)


@runner_of("ism")
def run_ism(checkpoint: str | os.PathLike, data_path: str | os.PathLike, run_dir: str | os.PathLike, *,
            confidence: float = 0.9, max_per_class: int | None = 200, min_selected: int = MIN_SELECTED,
            strand_check: bool = False, common: Common = Common(), model: MednaDFM | None = None,
            force: bool = False):
    """Saturation mutagenesis of the high-confidence windows (at most ``max_per_class`` per
    class); writes ``ism_selection.tsv``, ``ism.npz`` (``bases_per_base`` = mean drop in
    log-odds (M, L), ``max_drop`` (M, L), ``delta`` (M, L, 4)) and ``ism_positions.tsv``
    (mean drop per position and base over the positives), a source for ``motifs``;
    ``strand_check`` also mutates every window's reverse complement and writes
    ``strand_ism.tsv`` (:mod:`medna_interp.interpret.strand`).

    Returns
    -------
    StepResult : (IsmResult, Selection)
    """
    from ..core.sequence import BASES, one_hot
    from ..interpret.ism import ism

    started = Resources()  # the step's wall time and memory include its computation
    paths = input_paths(checkpoint, data_path, common)
    claim_directory(run_dir, "run", inputs=paths.values(), force=force)
    check_probability(confidence, "confidence")
    if max_per_class is not None and max_per_class < 2:
        raise MednaError(f"max_per_class must be at least 2, got {max_per_class}")
    model = model or load_checkpoint(checkpoint, common)
    data = load_data(data_path, common, model)
    probabilities, key, fresh = probabilities_for(run_dir, model, data, paths, common.batch_size)
    selection = select_confident(model, data, confidence, max_per_class, min_per_class=2, probabilities=probabilities,
                                 min_selected=min_selected)
    batch_size = max(common.batch_size, 256)
    result = ism(model, selection.data.sequences, batch_size=batch_size)
    strand = None
    if strand_check:
        from ..interpret.strand import strand_consistency

        strand = strand_consistency(model, selection.data.sequences, selection.labels, {"ism": result.mean_drop},
                                    {"ism": lambda windows: ism(model, windows, batch_size=batch_size).mean_drop},
                                    common.batch_size)
    options = dict(confidence=confidence, max_per_class=max_per_class, min_selected=min_selected,
                   strand_check=strand_check)
    record = step_record("ism", options, paths, common, {})
    record.update(selection=selection.counts, data_metrics=selection.metrics)
    if strand is not None:
        record["strand"] = {"consistent": strand.consistent, "methods": strand.table.to_dict("records")}
    positives = selection.labels == 1
    with step_outputs(run_dir, "ism", record, started=started) as stage:
        selection.write(stage.path / "ism_selection.tsv")
        np.savez_compressed(stage.path / "ism.npz", bases_per_base=result.mean_drop, max_drop=result.max_drop,
                            delta=result.delta, reference=result.reference)
        drop = -result.delta[positives].mean(axis=0)  # (L, 4): what changing to each base costs, on average
        wild = one_hot(list(selection.data.sequences))[positives].mean(axis=0)
        with open(stage.path / "ism_positions.tsv", "w") as handle:
            handle.write("position\tbase\tmean_drop_to_base\twild_type_fraction\n")
            handle.writelines(f"{i + 1}\t{b}\t{drop[i, j]:.6g}\t{wild[i, j]:.4f}\n"
                              for i in range(drop.shape[0]) for j, b in enumerate(BASES))
        if strand is not None:
            strand.table.to_csv(stage.path / "strand_ism.tsv", sep="\t", index=False, float_format="%.6g")
    if fresh:
        save_probabilities(run_dir, probabilities, key)
    return StepResult(result, selection)


def embed_inputs(run_dir, checkpoint, data_path, common: Common, color_by: str | None) -> dict[str, str]:
    """The embed step's inputs: the model and data, and the run's motif table and sites when
    ``color_by`` names one of its motifs (their change then reruns the step)."""
    from ..interpret.embed import run_motif_files

    files = run_motif_files(run_dir, color_by) if color_by is not None else None
    return input_paths(checkpoint, data_path, common, **(dict(zip(("motifs", "motif_sites"), files)) if files else {}))


@runner_of("embed")
def run_embed(checkpoint: str | os.PathLike, data_path: str | os.PathLike, run_dir: str | os.PathLike, *,
              stages=("raw", "post_dnabert", "post_film", "post_moe"), max_windows: int = 2000,
              n_neighbors: int = 15, min_dist: float = 0.1, color_by: str | None = None,
              common: Common = Common(), model: MednaDFM | None = None, force: bool = False):
    """Features of up to ``max_windows`` windows at each processing stage, their UMAPs and
    separability numbers (:func:`medna_interp.interpret.embed.embed`); writes ``embeddings.npz``,
    ``embed.tsv`` and ``embed.png``/``.svg``.

    Returns
    -------
    Embedding
    """
    from ..interpret.embed import check_stages, embed, write_embedding

    started = Resources()  # the step's wall time and memory include its computation
    stages = check_stages(stages)  # canonical order, so that the fingerprint does not depend on it
    paths = embed_inputs(run_dir, checkpoint, data_path, common, color_by)
    claim_directory(run_dir, "run", inputs=paths.values(), force=force)
    model = model or load_checkpoint(checkpoint, common)
    data = load_data(data_path, common, model)
    result = embed(model, data, stages=stages, max_windows=max_windows, n_neighbors=n_neighbors, min_dist=min_dist,
                   color_by=color_by, run_dir=run_dir, seed=common.seed, batch_size=common.batch_size)
    options = dict(stages=list(stages), max_windows=max_windows, n_neighbors=n_neighbors, min_dist=min_dist,
                   color_by=color_by)
    record = step_record("embed", options, paths, common, {})
    record.update(windows=len(result.ids), numbers=result.numbers.to_dict("records"))
    with step_outputs(run_dir, "embed", record, started=started) as stage:
        write_embedding(result, stage.path)
    return result
