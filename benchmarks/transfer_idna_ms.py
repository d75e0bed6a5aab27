"""The paper's Fig. 3E on the four shared iDNA-MS sets: every model scored on every test
set, ACC normalised by the model's own test ACC, drawn as heatmaps grouped by
modification type.

    .venv/bin/python benchmarks/train_recipe.py --sets 4mC_C.equisetifolia 5hmC_M.musculus \\
        6mA_D.melanogaster 6mA_C.elegans --configs defaults --keep benchmarks/work/transfer
    .venv/bin/python benchmarks/transfer_idna_ms.py

The models are `train`'s default (tiny, from scratch) on each set's training windows.
Evaluates into benchmarks/work/transfer_eval and copies its files, less the ROC points
(6 MB), to benchmarks/results/transfer_idna_ms/.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RESULTS, ROOT, SHARED  # noqa: E402

SETS = ("5hmC_M.musculus", "4mC_C.equisetifolia", "6mA_D.melanogaster", "6mA_C.elegans")


def main() -> None:
    import torch

    from medna_interp.training.evaluate import evaluate

    torch.set_num_threads(2)
    models = ROOT / "benchmarks" / "work" / "transfer"
    checkpoints = [models / f"{name}-defaults" for name in SETS]
    missing = [str(c) for c in checkpoints if not c.exists()]
    if missing:
        sys.exit(f"missing models {', '.join(missing)}: train them first (see this file's docstring)")
    work, out = ROOT / "benchmarks" / "work" / "transfer_eval", RESULTS / "transfer_idna_ms"
    for folder in (work, out):
        if folder.exists():
            shutil.rmtree(folder)
    started = time.perf_counter()
    evaluate(checkpoints, [SHARED / name / "test.tsv" for name in SETS], work, device="cpu")
    print(f"{time.perf_counter() - started:.0f} s; wrote {work}")
    shutil.copytree(work, out, ignore=shutil.ignore_patterns("roc.tsv"))
    print((out / "transfer_normalised.tsv").read_text())


if __name__ == "__main__":
    main()
