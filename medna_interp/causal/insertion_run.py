"""An insertion experiment on disk: its tables and figures, and the runner of ``medna-interp insert``."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.errors import MednaError
from ..core.outputs import claim_directory, step_outputs
from ..core.provenance import Resources, provenance
from .insertion import STRANDS, InsertionResult, Placeable, check_pairs, insert, make_backgrounds, start_offsets


def file_stem(name: str) -> str:
    """A motif name as it appears in file names."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "motif"


def _profile_figure(table: pd.DataFrame, name: str, stem: Path) -> None:
    from ..core.figures import plt, save_figure

    rows = table[(table.motif == name) & (table.role == "motif")]
    kinds = list(dict.fromkeys(rows.background))
    figure, axes = plt.subplots(1, len(kinds), figsize=(5.2 * len(kinds), 3.0), squeeze=False)
    for axis, kind in zip(axes[0], kinds):
        for strand, colour in zip(STRANDS, ("tab:blue", "tab:orange")):
            part = rows[(rows.background == kind) & (rows.strand == strand)]
            if part.empty:
                continue
            # skipped offsets (over the centre) leave gaps; markers keep lone points visible
            axis.plot(part.offset, part.mean_delta_p, "o-", ms=2.5, color=colour, lw=1.2, label=f"strand {strand}")
            axis.fill_between(part.offset, part.ci_low, part.ci_high, color=colour, alpha=0.2, lw=0)
        control = table[(table.motif == name) & (table.role == "control") & (table.background == kind)]
        for row in control.itertuples():
            axis.errorbar([row.offset], [row.mean_delta_p], yerr=[[row.mean_delta_p - row.ci_low],
                                                                    [row.ci_high - row.mean_delta_p]],
                          fmt="o", color="grey", ms=4, label=f"control {row.sequence}")
        axis.axhline(0, color="black", lw=0.6)
        axis.set_xlabel("motif start (0-based)")
        axis.set_ylabel("mean change in P(modified)")
        axis.set_title(f"{name} into {kind} (n = {int(rows[rows.background == kind].n.max())})", fontsize=9)
        axis.legend(fontsize=7)
    figure.tight_layout()
    save_figure(figure, stem)


def _spacing_figure(pairs: pd.DataFrame, a: str, b: str, stem: Path) -> None:
    from ..core.figures import plt, save_figure

    rows = pairs[(pairs.motif_a == a) & (pairs.motif_b == b)]
    kinds = list(dict.fromkeys(rows.background))
    figure, axes = plt.subplots(2, len(kinds), figsize=(5.2 * len(kinds), 5.2), squeeze=False, sharex=True)
    for k, kind in enumerate(kinds):
        for orientation, colour in zip(("same", "opposite"), ("tab:green", "tab:purple")):
            part = rows[(rows.background == kind) & (rows.orientation == orientation)]
            if part.empty:
                continue
            axes[0][k].plot(part.offset_b, part.delta_p_given_a, "o-", ms=2.5, color=colour, label=orientation)
            axes[0][k].fill_between(part.offset_b, part.given_a_low, part.given_a_high, color=colour, alpha=0.2,
                                    lw=0)
            axes[1][k].plot(part.offset_b, part.interaction, "o-", ms=2.5, color=colour, label=orientation)
            axes[1][k].fill_between(part.offset_b, part.interaction_low, part.interaction_high, color=colour,
                                    alpha=0.2, lw=0)
        first = rows[rows.background == kind].iloc[0] if len(rows[rows.background == kind]) else None
        title = f"{a} at {first.offset_a} ({first.strand_a}) + {b}, into {kind}" if first is not None else kind
        axes[0][k].set_title(title, fontsize=9)
        axes[0][k].set_ylabel("P(A+B) - P(A)")
        axes[1][k].set_ylabel("interaction")
        axes[1][k].set_xlabel(f"{b} start (0-based)")
        for axis in (axes[0][k], axes[1][k]):
            axis.axhline(0, color="black", lw=0.6)
            axis.legend(fontsize=7)
    figure.tight_layout()
    save_figure(figure, stem)


def write_insertion(result: InsertionResult, stage_dir: Path, extra: dict | None = None) -> None:
    """``insertion.tsv``/``.json``, ``pairs.tsv`` (with pairs), and one profile plot per
    motif (``insertion_<motif>.png``/``.svg``) and spacing plot per pair into ``stage_dir``;
    ``extra`` goes into ``insertion.json``."""
    result.table.to_csv(stage_dir / "insertion.tsv", sep="\t", index=False, float_format="%.6g")
    payload = {"options": result.options, "motifs": result.summary, **(extra or {})}
    if result.options["pairs"]:
        result.pairs.to_csv(stage_dir / "pairs.tsv", sep="\t", index=False, float_format="%.6g")
        payload["pairs"] = result.pair_summary
    (stage_dir / "insertion.json").write_text(json.dumps(payload, indent=2, default=_plain) + "\n")
    for name in result.options["motifs"]:
        _profile_figure(result.table, name, stage_dir / f"insertion_{file_stem(name)}")
    for a, b in result.options["pairs"]:
        _spacing_figure(result.pairs, a, b, stage_dir / f"pairs_{file_stem(a)}__{file_stem(b)}")


def _plain(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def parse_offsets(text: str | None) -> tuple[int, int] | None:
    """``5`` or ``5-11`` (0-based starts, inclusive) -> (first, last)."""
    if text is None:
        return None
    match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", text)
    if not match:
        raise MednaError(f"--offsets {text!r}: give a 0-based start or a range such as 5-11")
    first = int(match.group(1))
    last = int(match.group(2)) if match.group(2) is not None else first
    if last < first:
        raise MednaError(f"--offsets {text!r}: the range ends before it starts")
    return first, last


def parse_pair(text: str) -> tuple[str, str]:
    """``A,B`` -> (A, B), upper-cased as motifs are."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 2 or not all(parts):
        raise MednaError(f"--pair {text!r}: give two motifs separated by a comma, e.g. GAGG,AAAAA")
    return parts[0].upper(), parts[1].upper()


def run_insertion(checkpoint: str | os.PathLike, data_path: str | os.PathLike, output: str | os.PathLike,
                  motifs: list[str], *, pairs: list[str] = (), background: str = "both", n_backgrounds: int = 200,
                  strand: str = "both", consensus: bool = False, offsets: str | None = None, bootstrap: int = 1000,
                  common=None, force: bool = False) -> InsertionResult:
    """``medna-interp insert CKPT DATA -o DIR --motif ...``: check everything, insert, write ``output``."""
    from ..core.settings import Common, input_paths
    from ..models.loading import load_checkpoint
    from ..data.io import load_data

    started = Resources()
    common = common or Common()
    placeables = [Placeable.parse(text) for text in motifs]  # before anything is read
    pair_names = [parse_pair(text) for text in pairs]
    first_last = parse_offsets(offsets)
    check_pairs(pair_names, [m.name for m in placeables])
    paths = input_paths(checkpoint, data_path, common)
    claim_directory(output, "insertion", inputs=paths.values(), force=force)
    model = load_checkpoint(checkpoint, common)
    data = load_data(data_path, common, model)
    length = data.length or len(data.sequences[0])
    for motif in placeables:
        start_offsets(motif.width, length, first_last, motif.name)
    make_backgrounds(data, background, 1, common.seed)  # an empty background set fails before any scoring
    result = insert(model, data, placeables, pairs=pair_names, background=background, n_backgrounds=n_backgrounds,
                    strand=strand, consensus=consensus, offsets=first_last, bootstrap=bootstrap, seed=common.seed,
                    batch_size=max(common.batch_size, 256))
    record = provenance({**result.options, "precision": model.precision}, paths, common.seed)
    with step_outputs(output, "insert", record, kind="insertion", started=started) as stage:
        write_insertion(result, stage.path)
    return result
