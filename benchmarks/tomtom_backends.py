"""TOMTOM backends: the MEME binary vs memelite (numba), on the JASPAR vertebrates set.

Queries: every JASPAR 2024 CORE insect matrix (real motifs of motif-like widths, 4-30
columns); targets: JASPAR 2024 CORE vertebrates. Both backends score with Euclidean
distance (memelite's only one; MEME's ``-dist ed``), so the comparison is like for like.
Reported: wall time of each (memelite after one warm-up call, which compiles its numba
code; the compile time is reported apart), the speed ratio, and how often both name the
same best match among queries with a match at q <= 0.5.

    .venv/bin/python benchmarks/tomtom_backends.py
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RESULTS, machine  # noqa: E402

from medna_interp.motifs.jaspar import jaspar_database  # noqa: E402
from medna_interp.motifs.motif import read_meme  # noqa: E402
from medna_interp.motifs.tomtom import TomtomOptions, best_matches, run_tomtom, run_tomtom_lite  # noqa: E402


def main() -> None:
    targets_path = jaspar_database("JASPAR2024", "vertebrates")
    targets = read_meme(targets_path)
    queries = read_meme(jaspar_database("JASPAR2024", "insects"))
    options = TomtomOptions(dist="ed")
    names = {m.id: m.name for m in targets}
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        start = time.perf_counter()
        run_tomtom_lite(queries[:2], targets, work / "warm", options)
        compile_seconds = time.perf_counter() - start
        timings = {"meme": [], "memelite": []}
        for repeat in range(3):
            start = time.perf_counter()
            meme = run_tomtom(queries, targets_path, work / f"meme{repeat}", options, names=names)
            timings["meme"].append(time.perf_counter() - start)
            start = time.perf_counter()
            lite = run_tomtom_lite(queries, targets, work / f"lite{repeat}", options)
            timings["memelite"].append(time.perf_counter() - start)
    best_meme, best_lite = best_matches(meme), best_matches(lite)
    either = sorted(set(best_meme) | set(best_lite))
    same = sum(1 for q in either if q in best_meme and q in best_lite
               and best_meme[q].target_id == best_lite[q].target_id)
    both = sum(1 for q in either if q in best_meme and q in best_lite)
    result = {
        "machine": machine(),
        "queries": len(queries), "targets": len(targets), "distance": "ed",
        "seconds": {k: min(v) for k, v in timings.items()}, "all_seconds": timings,
        "memelite_first_call_seconds": compile_seconds,
        "speedup_memelite_over_meme": min(timings["meme"]) / min(timings["memelite"]),
        "queries_matched": {"meme": len(best_meme), "memelite": len(best_lite), "both": both},
        "same_best_match": same, "same_best_match_fraction_of_both": same / max(both, 1),
        "matches_at_q_0.5": {"meme": len(meme), "memelite": len(lite)},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "tomtom_backends.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "all_seconds"}, indent=2))


if __name__ == "__main__":
    main()
