"""The motif report of a run directory: ``report.html`` (self-contained) and ``report.json``."""

from __future__ import annotations

import os
from pathlib import Path

from ..outputs import atomic_file, record_step, software_versions, write_json
from .collect import collect
from .render import render


def _without_images(content: dict) -> dict:
    """report.json carries the numbers; the PNGs stay in motifs/logos/."""
    sources = [{**entry, "motifs": [{k: v for k, v in m.items() if k not in ("logo", "aligned_logo")}
                                    for m in entry["motifs"]]} for entry in content["sources"]]
    return {**{k: v for k, v in content.items() if k != "images"}, "sources": sources}


def write_report(run_dir: str | os.PathLike) -> tuple[Path, Path]:
    """Gather a run's results and write ``report.html`` and ``report.json``; returns their paths."""
    run_dir = Path(run_dir)
    content = collect(run_dir)
    html_path, json_path = run_dir / "report.html", run_dir / "report.json"
    with atomic_file(html_path) as handle:
        handle.write(render(content))
    write_json(json_path, _without_images(content))
    record_step(run_dir, "report", {"versions": software_versions(), "warnings": content["warnings"]})
    return html_path, json_path
