"""The motif report of a run directory: ``report.html`` (self-contained) and ``report.json``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from ..core.outputs import step_outputs, write_json
from ..core.provenance import provenance, software_versions
from ..runs.record import fingerprint, upstream_ids
from ..runs.registry import runner_of
from .collect import collect
from .render import render


def _without_images(content: dict) -> dict:
    """report.json carries the numbers; the PNGs stay in motifs/logos/."""
    sources = [{**entry, "motifs": [{k: v for k, v in m.items() if k not in ("logo", "aligned_logo")}
                                    for m in entry["motifs"]]} for entry in content["sources"]]
    grammar = {k: v for k, v in (content.get("grammar") or {}).items() if k != "profiles"}
    representations = content.get("representations")
    if representations:
        representations = {k: v for k, v in representations.items() if k != "panel"}
    return {**{k: v for k, v in content.items() if k not in ("images", "grammar")}, "sources": sources,
            "grammar": grammar, "representations": representations}


class ReportFiles(NamedTuple):
    """The two files a report consists of."""

    html: Path
    json: Path


@runner_of("report")
def write_report(run_dir: str | os.PathLike) -> ReportFiles:
    """Gather a run's results and write ``report.html`` and ``report.json``.

    Refuses (:class:`MednaError`) a run whose steps are missing, were altered after they
    were written, or were made from different data, checkpoints or upstream results.

    Returns
    -------
    ReportFiles : the HTML and JSON reports
    """
    run_dir = Path(run_dir)
    content = collect(run_dir)
    steps = content.pop("_provenance")["steps"]
    upstream = upstream_ids(steps, "report")
    record = {**provenance({}, {}, None), "versions": software_versions(),
              "warnings": content["warnings"], "fingerprint": fingerprint("report", {}, {}, upstream),
              "upstream": upstream}
    with step_outputs(run_dir, "report", record) as stage:
        (stage.path / "report.html").write_text(render(content))
        write_json(stage.path / "report.json", _without_images(content))
    return ReportFiles(run_dir / "report.html", run_dir / "report.json")
