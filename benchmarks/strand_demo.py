"""Strand consistency of the shipped demo checkpoint, reported as it is: its windows are
oriented on the modified A and it was trained on one strand, so nothing obliges it to read
the reverse complement alike. CWGA (both views, 100 windows per class) and ISM (50 per class)
on fresh synthetic windows (seed 11), each window's reverse complement explained again and
mapped back. Writes benchmarks/results/strand_demo.tsv and .json.

    .venv/bin/python benchmarks/strand_demo.py
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RESULTS, ROOT, machine  # noqa: E402


def main() -> None:
    from medna_interp.core.settings import Common
    from medna_interp.runs.explain import run_cwga, run_ism
    from medna_interp.data.synth import write_synthetic

    work = ROOT / "benchmarks" / "work" / "strand_demo"
    shutil.rmtree(work, ignore_errors=True)
    data = write_synthetic(work / "data", n_train=0, n_test=2000, seed=11) / "test.tsv"
    common = Common(device="cpu")
    checkpoint = ROOT / "model" / "demo"
    run_cwga(checkpoint, data, work / "run", strand_check=True, progress=False, common=common)
    run_ism(checkpoint, data, work / "run", max_per_class=50, strand_check=True, common=common)
    table = pd.concat([pd.read_csv(work / "run" / f"strand_{m}.tsv", sep="\t") for m in ("cwga", "ism")])
    RESULTS.mkdir(exist_ok=True)
    table.to_csv(RESULTS / "strand_demo.tsv", sep="\t", index=False, float_format="%.4g")
    (RESULTS / "strand_demo.json").write_text(json.dumps({"machine": machine(), "checkpoint": "model/demo",
                                                          "data": "synth seed 11, 2000 windows",
                                                          "methods": table.to_dict("records")}, indent=2) + "\n")
    print(table.to_string(index=False))


if __name__ == "__main__":
    main()
