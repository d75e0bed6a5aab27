"""``medna-interp demo``: the whole workflow on the shipped demo checkpoint and a freshly
generated synthetic set whose planted motifs are known."""

from __future__ import annotations

import os
from pathlib import Path

from .core.errors import MednaError
from .core.settings import Common
from .data.synth import write_synthetic
from .motifs.discover import DatabaseChoice
from .pipeline import RunOptions, run

DEMO_CHECKPOINT = Path(__file__).resolve().parents[1] / "model" / "demo"


def demo(output: str | os.PathLike = "demo_run", checkpoint: str | os.PathLike | None = None, n: int = 2000,
         seed: int = 11, device: str = "auto", force: bool = False) -> Path:
    """Generate data, run every step (resuming), and return the report's path."""
    checkpoint = Path(checkpoint) if checkpoint else DEMO_CHECKPOINT
    if not (checkpoint / "config.json").exists():
        raise MednaError(f"{checkpoint}: demo checkpoint not found (run from a source checkout, "
                         "or pass --checkpoint)")
    output = Path(output)
    data = output / "data"
    if force or not (data / "test.tsv").exists():
        write_synthetic(data, n_train=0, n_test=n, seed=seed)
        print(f"generated {n} synthetic windows in {data} (planted sites: {data / 'sites.tsv'})")
    # The demo grammar is Drosophila-like (6mA), so name motifs against insect matrices.
    options = RunOptions(cwga={"progress": True}, motifs={"database": DatabaseChoice(tax="insects")})
    run(checkpoint, data / "test.tsv", output / "run", options, Common(device=device, seed=seed), force=force)
    return output / "run" / "report.html"
