"""Does pretraining pay on the four shared iDNA-MS sets? Test AUC and MCC of models trained
(a) from scratch, (b) from encoders pretrained by `medna-interp pretrain` on the pooled
training windows of all four sets (never a test split), and (c) as (b) followed by the
paper's domain-adaptive stage: one model trained on the pooled labelled windows of the
sets that share a modification type (6mA: D. melanogaster and C. elegans), whose exported
encoders start each of those sets' models. CPU time of every stage.

    .venv/bin/python benchmarks/pretrain_idna_ms.py [--size tiny] [--stages pretrained adaptive scratch]
        [--encoders DIR]   # reuse encoders pretrained earlier with the same settings

Writes benchmarks/results/pretrain_idna_ms.json, one row per set and stage, updated after
each model so that an interrupted run keeps what it finished.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import PAPER, RESULTS, SETS, SHARED, machine  # noqa: E402


class Clock:
    """CPU and wall seconds of a block."""

    def __enter__(self):
        self.cpu, self.wall = time.process_time(), time.perf_counter()
        return self

    def __exit__(self, *_):
        self.cpu, self.wall = time.process_time() - self.cpu, time.perf_counter() - self.wall


def main() -> None:
    from medna_interp.training.evaluate import evaluate
    from medna_interp.models.checkpoint import BPE_DIR, KMER_DIR, export_encoders
    from medna_interp.models.sizes import size_config
    from medna_interp.training.pretrain import PretrainConfig, pretrain
    from medna_interp.training.train import train

    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="tiny", choices=("tiny", "small"))
    parser.add_argument("--stages", nargs="+", default=["pretrained", "adaptive", "scratch"],
                        choices=("pretrained", "adaptive", "scratch", "throughput"))
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=SETS)
    parser.add_argument("--encoders", type=Path, help="encoders pretrained earlier (skips the pretraining stage)")
    parser.add_argument("--work", type=Path, default=Path(__file__).parent / "work" / "pretrain")
    args = parser.parse_args()
    torch.set_num_threads(2)
    folders = {name: SHARED / name for name in args.sets if (SHARED / name).exists()}
    if not folders:
        raise SystemExit(f"{SHARED} not found: this benchmark needs the shared iDNA-MS data")
    out = RESULTS / "pretrain_idna_ms.json"
    payload = json.loads(out.read_text()) if out.exists() else {}
    payload.update({"benchmark": "pretrain_idna_ms", "size": args.size, "paper": PAPER, "machine": machine()})
    rows = {(r["set"], r["stage"]): r for r in payload.get("rows", [])}

    def save() -> None:
        payload["rows"] = sorted(rows.values(), key=lambda r: (r["set"] not in SETS, r["set"], r["stage"]))
        out.write_text(json.dumps(payload, indent=2) + "\n")

    def fit_and_score(name: str, stage: str, train_files=None, scored_on: str | None = None,
                      **start) -> Path | None:
        """Train on ``train_files`` (default: set ``name``'s own), score the test windows of
        ``scored_on`` (default: ``name``), record."""
        with tempfile.TemporaryDirectory() as work:
            with Clock() as clock:
                checkpoint, result = train(train_files or folders[name] / "train.tsv", Path(work) / "ckpt",
                                           size=args.size, model_config=size_config(args.size), device="cpu",
                                           progress=False, **start)
            (test,) = evaluate([checkpoint], [folders[scored_on or name] / "test.tsv"], Path(work) / "eval",
                               device="cpu")
            rows[(name, stage)] = {"set": name, "stage": stage, "scored_on": scored_on or name,
                                   "best_epoch": result.best_epoch,
                                   "epochs_run": len(result.history), "valid_auc": round(result.validation["auc"], 4),
                                   "test_auc": round(test["auc"], 4), "test_mcc": round(test["mcc"], 4),
                                   "test_acc": round(test["acc"], 4), "cpu_minutes": round(clock.cpu / 60, 1),
                                   "wall_minutes": round(clock.wall / 60, 1)}
            save()
            print(json.dumps(rows[(name, stage)]), flush=True)
            if train_files:  # the pooled model's encoders start each set of its modification type
                with Clock() as export_clock:
                    exported = export_encoders(checkpoint, args.work / f"adaptive_{name}_{args.size}", force=True)
                rows[(name, stage)]["export_cpu_seconds"] = round(export_clock.cpu, 1)
                return exported
        return None

    encoders = args.encoders
    if encoders is None and {"pretrained", "adaptive"} & set(args.stages):
        encoders = args.work / f"all4_{args.size}"
        with Clock() as clock:
            result = pretrain([f / "train.tsv" for f in folders.values()], encoders,
                              config=PretrainConfig(size=args.size), exclude=[f / "test.tsv" for f in folders.values()],
                              device="cpu", progress=False, force=True)
        payload["pretraining"] = {"cpu_minutes": round(clock.cpu / 60, 1), "wall_minutes": round(clock.wall / 60, 1)}
    if encoders is not None:
        record = json.loads((encoders / "provenance.json").read_text())
        speeds = [row["windows_per_second"] for row in record["history"]]
        payload.setdefault("pretraining", {}).update({
            "windows": record["n_train"], "epochs": len(record["history"]), "sources": record["sources"],
            "median_windows_per_second": sorted(speeds)[len(speeds) // 2],
            "final": {k: v for k, v in record["history"][-1].items() if "valid" in k},
            "seconds_per_epoch": round(sum(r["seconds"] for r in record["history"]) / len(speeds), 1)})
        payload["pretraining"].setdefault("wall_minutes", round(record["resources"]["wall_seconds"] / 60, 1))
        save()
    start_from = {"kmer_encoder": encoders / KMER_DIR, "bpe_encoder": encoders / BPE_DIR} if encoders else {}
    if "pretrained" in args.stages:
        for name in folders:
            fit_and_score(name, "pretrained", **start_from)
    if "adaptive" in args.stages:
        by_type: dict[str, list[str]] = {}
        for name in folders:
            by_type.setdefault(name.split("_")[0], []).append(name)
        for modification, names in by_type.items():
            if len(names) < 2:
                continue
            exported = fit_and_score(f"{modification}_pooled", "adaptive-pooled",
                                     [folders[n] / "train.tsv" for n in names], scored_on=names[0], **start_from)
            for name in names:
                fit_and_score(name, "adaptive", kmer_encoder=exported / KMER_DIR, bpe_encoder=exported / BPE_DIR)
    if "throughput" in args.stages:  # pretraining speed of each size on the 5hmC training windows
        speeds = payload.setdefault("throughput", {})
        for size in ("tiny", "small"):
            with tempfile.TemporaryDirectory() as work:
                result = pretrain([SHARED / "5hmC_M.musculus" / "train.tsv"], Path(work) / "enc",
                                  config=PretrainConfig(size=size, epochs=2), device="cpu", progress=False)
            speeds[size] = {"windows_per_second": result.history[-1]["windows_per_second"],
                            "windows": sum(s["windows"] for s in result.sources), "epochs": 2,
                            "threads": torch.get_num_threads()}
            save()
    if "scratch" in args.stages:
        for name in folders:
            fit_and_score(name, "scratch")


if __name__ == "__main__":
    main()
