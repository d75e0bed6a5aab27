"""The steps that read a run directory: motif discovery, motif effects, insertion and
faithfulness, each on what the explaining steps recorded."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import MednaError
from ..core.outputs import step_outputs
from ..core.provenance import Resources
from ..core.settings import Common
from ..models.loading import load_checkpoint
from ..models.medna_dfm import MednaDFM
from ..motifs.discover import DatabaseChoice, discover
from ..motifs.export import ExportOptions
from ..motifs.streme import StremeOptions
from ..motifs.tomtom import TomtomOptions
from .checks import check_motif_options
from .inputs import discovered_motifs, recorded_windows, run_data, run_inputs, run_motif_matrices
from .linear_source import write_linear_source
from .record import check_consistency, step_record, upstream_ids
from .registry import runner_of


def motif_defaults(options: dict[str, Any], seed: int) -> dict[str, Any]:
    """``options`` of the motifs step with its ``None`` objects made: the export, STREME,
    TOMTOM and database settings it then uses (export and STREME seeded by ``seed``)."""
    made = {"export_options": ExportOptions(seed=seed), "streme": StremeOptions(seed=seed),
            "tomtom": TomtomOptions(), "database": DatabaseChoice()}
    return {**options, **{name: value for name, value in made.items() if options.get(name) is None}}


@runner_of("motifs")
def run_motifs(run_dir: str | os.PathLike, *, export_options=None, streme=None, tomtom=None, database=None,
               meme_bin: str | None = None, raw_baseline: bool = True, controls: str = "negatives",
               match_cpg: bool = False, backend: str = "meme", linear: bool = True, permute_labels: bool = True,
               modisco=None, common: Common = Common()):
    """Export -> STREME -> TOMTOM for every source, raw baselines, sites and logos into ``RUN_DIR/motifs``;
    with ``permute_labels`` (the default) the same under permuted labels into ``RUN_DIR/motifs/null``,
    which decides whether each source is calibrated; ``modisco`` (:class:`ModiscoOptions`) adds
    TF-MoDISco on the CWGA and ISM attributions as sources
    (see :func:`medna_interp.motifs.discover.discover`). ``linear`` adds the linear
    baseline's source (:func:`medna_interp.runs.linear_source.write_linear_source`); of
    ``common`` the step uses the seed and the window length.

    Returns
    -------
    MotifsResult
    """
    payload = check_consistency(run_dir, ("cad", "cwga", "ism"))
    data, inputs = run_data(run_dir, common.length)
    options = motif_defaults(dict(export_options=export_options, streme=streme, tomtom=tomtom, database=database,
                                  meme_bin=meme_bin, raw_baseline=raw_baseline, controls=controls, match_cpg=match_cpg,
                                  backend=backend, linear=linear, permute_labels=permute_labels, modisco=modisco),
                              common.seed)
    export_options, streme, tomtom, database = (options[k] for k in ("export_options", "streme", "tomtom", "database"))
    check_motif_options(database, meme_bin, backend, controls, modisco=modisco is not None)
    upstream = upstream_ids(payload["steps"], "motifs")
    record: dict = {}
    with step_outputs(run_dir, "motifs", record) as stage:
        result = discover(run_dir, data, stage.path / "motifs", export_options=export_options, streme=streme,
                          tomtom=tomtom, database=database, meme_bin=meme_bin, raw_baseline=raw_baseline,
                          controls=controls, match_cpg=match_cpg, backend=backend,
                          linear=write_linear_source if linear else None, permute_labels=permute_labels,
                          modisco=modisco)
        record.update(step_record("motifs", options, {"data": inputs["data"]["path"]},
                                  Common(seed=common.seed, length=common.length), upstream, fingerprint_inputs=False))
    return result


@runner_of("effects")
def run_effects(run_dir: str | os.PathLike, *, flank: int = 3, common: Common = Common(),
                model: MednaDFM | None = None):
    """The causal effect of every motif in ``RUN/motifs/motifs.tsv``: its sites shuffled in the
    positives (:func:`medna_interp.causal.mutagenesis.motif_effects`); writes ``RUN/effects.tsv``.

    Returns
    -------
    DataFrame : one row per motif, the strongest loss of P(modified) first
    """
    import pandas as pd

    from ..causal.mutagenesis import motif_effects

    started = Resources()  # the step's wall time and memory include its computation
    run_dir = Path(run_dir)
    payload, motifs = discovered_motifs(run_dir, "ablate")
    if flank < 0:
        raise MednaError(f"flank must not be negative, got {flank}")
    data, inputs = run_data(run_dir, common.length)
    model = model or load_checkpoint(inputs["checkpoint"]["path"], common)
    sites_path = run_dir / "motifs" / "sites.tsv"
    sites = pd.read_csv(sites_path, sep="\t", dtype={"id": str}) if sites_path.exists() else \
        pd.DataFrame(columns=["motif", "id", "label", "start", "end"])
    effects = motif_effects(model, data, motifs, sites, flank=flank, seed=common.seed, batch_size=common.batch_size)
    upstream = upstream_ids(payload["steps"], "effects")
    record = step_record("effects", {"flank": flank}, {name: entry["path"] for name, entry in inputs.items()},
                     common, upstream, fingerprint_inputs=False)
    with step_outputs(run_dir, "effects", record, started=started) as stage:
        effects.to_csv(stage.path / "effects.tsv", sep="\t", index=False, float_format="%.6g")
    return effects


@runner_of("insertion")
def run_insertion_step(run_dir: str | os.PathLike, *, n_backgrounds: int = 100, background: str = "both",
                       strand: str = "both", consensus: bool = False, bootstrap: int = 1000,
                       max_evalue: float = 0.05, common: Common = Common(), model: MednaDFM | None = None):
    """Insert every motif of ``RUN/motifs/motifs.tsv`` with STREME E <= ``max_evalue`` into
    backgrounds (:func:`medna_interp.causal.insertion.insert`); writes ``RUN/insertion/``. Motifs
    above the E-value gate are listed in ``insertion.json`` as not tested: STREME reports
    them as chance findings, and each tested motif costs ~4 x window length x backgrounds
    forward passes.

    Returns
    -------
    InsertionResult, or None when no motif passes the gate
    """
    import pandas as pd

    from ..causal.insertion import Placeable, insert
    from ..causal.insertion_run import write_insertion

    started = Resources()  # the step's wall time and memory include its computation
    run_dir = Path(run_dir)
    payload, motifs = discovered_motifs(run_dir, "insert")
    if n_backgrounds < 1 or bootstrap < 0 or max_evalue < 0:
        raise MednaError("insertion needs at least one background, and a non-negative bootstrap and E-value gate")
    inputs = run_inputs(run_dir)
    matrices = run_motif_matrices(run_dir)
    evalues = pd.to_numeric(motifs.evalue, errors="coerce")
    tested = motifs[(evalues <= max_evalue) & motifs.motif.isin(list(matrices))]
    placeables = [Placeable(row.motif, row.consensus, matrices[row.motif].pwm) for row in tested.itertuples()]
    options = {"n_backgrounds": n_backgrounds, "background": background, "strand": strand, "consensus": consensus,
               "bootstrap": bootstrap, "max_evalue": max_evalue}
    result = None
    if placeables:
        model = model or load_checkpoint(inputs["checkpoint"]["path"], common)
        data = recorded_windows(inputs, common.length)
        result = insert(model, data, placeables, background=background, n_backgrounds=n_backgrounds, strand=strand,
                        consensus=consensus, bootstrap=bootstrap, seed=common.seed,
                        batch_size=max(common.batch_size, 256))
    upstream = upstream_ids(payload["steps"], "insertion")
    record = step_record("insertion", options, {name: entry["path"] for name, entry in inputs.items()}, common, upstream,
                     fingerprint_inputs=False)
    with step_outputs(run_dir, "insertion", record, started=started) as stage:
        folder = stage.path / "insertion"
        folder.mkdir()
        untested = sorted(set(motifs.motif) - set(tested.motif))
        if result is not None:
            write_insertion(result, folder, extra={"not_tested": untested, "max_evalue": max_evalue})
        else:
            (folder / "insertion.json").write_text(json.dumps(
                {"options": options, "motifs": [], "not_tested": untested, "max_evalue": max_evalue}, indent=2) + "\n")
    return result


@runner_of("faithfulness")
def run_faithfulness(run_dir: str | os.PathLike, *, truth: str | os.PathLike | None = None,
                     common: Common = Common(), model: MednaDFM | None = None):
    """Deletion curves of every per-base explanation of a run (CAD and CWGA per view, ISM,
    random), on the positives all of them explain; with ``truth`` (a ``synth`` sites
    file), planted-site AUROC and AUPRC. Writes ``faithfulness.tsv``,
    ``faithfulness_curves.tsv`` and ``faithfulness.png``/``.svg``.

    Returns
    -------
    Faithfulness
    """
    from ..interpret.faithfulness import faithfulness, plot_curves
    from ..motifs.export import available_sources, per_base_scores
    from ..data.synth import planted_mask

    started = Resources()  # the step's wall time and memory include its computation
    run_dir = Path(run_dir)
    payload = check_consistency(run_dir, ("cad", "cwga", "ism"))
    sources = [pair for pair in available_sources(run_dir)]
    if not sources:
        raise MednaError(f"{run_dir}: no per-base explanation to compare",
                         hint=f"run 'medna-interp run' or 'cad'/'cwga'/'ism' into {run_dir} first")
    per_source = {}
    for source, view in sources:
        selection, scores = per_base_scores(run_dir, source, view)
        keep = selection.label.to_numpy() == 1
        per_source[f"{source}_{view}"] = dict(zip(selection.id[keep], scores[keep]))
    shared = sorted(set.intersection(*(set(values) for values in per_source.values())))
    if len(shared) < 5:
        raise MednaError(f"{run_dir}: only {len(shared)} positives are explained by every method; need 5")
    data, inputs = run_data(run_dir, common.length)
    sequence_of = dict(zip(data.ids, data.sequences))
    sequences = [sequence_of[i] for i in shared]
    mask = None
    if truth is not None:
        import pandas as pd

        if not Path(truth).is_file():
            raise MednaError(f"{truth}: no such file")
        if not set(pd.read_csv(truth, sep="\t", dtype={"id": str}).id) & set(shared):
            raise MednaError(f"{truth}: none of its window ids are in the run's data ({data.source})",
                             hint="give the sites.tsv that 'medna-interp synth' wrote with this data")
        mask = planted_mask(shared, truth, data.length)
    model = model or load_checkpoint(inputs["checkpoint"]["path"], common)
    result = faithfulness(model, sequences, {name: np.stack([values[i] for i in shared])
                                             for name, values in per_source.items()},
                          truth=mask, seed=common.seed, batch_size=max(common.batch_size, 256))
    upstream = upstream_ids(payload["steps"], "faithfulness")
    paths = {name: entry["path"] for name, entry in inputs.items()}
    if truth is not None:
        paths["truth"] = str(truth)
    record = step_record("faithfulness", {"truth": str(truth) if truth else None}, paths, common, upstream,
                     fingerprint_inputs=False)
    record["positives"] = len(shared)
    with step_outputs(run_dir, "faithfulness", record, started=started) as stage:
        result.table.to_csv(stage.path / "faithfulness.tsv", sep="\t", index=False, float_format="%.6g")
        result.curves.to_csv(stage.path / "faithfulness_curves.tsv", sep="\t", index=False, float_format="%.6g")
        plot_curves(result.curves, stage.path / "faithfulness", len(shared))
    return result
