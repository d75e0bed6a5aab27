"""The experiments that set `train`'s from-scratch defaults: each configuration trained on
the shared iDNA-MS sets, scored on their test windows beside the linear baseline fitted on
the same split. One JSON line per run in benchmarks/results/train_recipe.jsonl, with the
training settings as resolved (rows written before that record the options given, where
null meant the default of the time: "defaults" rows up to the first "tiny-aug" ones had
no base substitutions and at most 20 epochs; rows whose settings have no "keep" kept the
best epoch, the rule before round 5).

    .venv/bin/python benchmarks/train_recipe.py --sets 6mA_D.melanogaster --configs defaults wd05
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RESULTS, SHARED, machine  # noqa: E402

#: name -> (size, TrainConfig overrides, MednaConfig overrides)
CONFIGS = {
    "defaults": ("tiny", {}, {}),
    "small-defaults": ("small", {}, {}),
    "tiny-lr1e-3": ("tiny", {"lr": 1e-3}, {}),
    "tiny-wd0.05": ("tiny", {"weight_decay": 0.05}, {}),
    "tiny-lr1e-3-wd0.05-drop0.1": ("tiny", {"lr": 1e-3, "weight_decay": 0.05}, {"dropout": 0.1}),
    "tiny-noflood": ("tiny", {"flood": 0.0}, {}),
    "tiny-drop0.1": ("tiny", {}, {"dropout": 0.1}),
    "small-wd0.05-drop0.3": ("small", {"weight_decay": 0.05}, {"dropout": 0.3}),
    "small-lr1e-4": ("small", {"lr": 1e-4}, {}),
    "tiny-ema0.999": ("tiny", {"ema": 0.999}, {}),
    "tiny-aug0.05": ("tiny", {"augment": 0.05}, {}),
    "tiny-aug0.1": ("tiny", {"augment": 0.1}, {}),
    "tiny-aug0.2": ("tiny", {"augment": 0.2}, {}),
    "tiny-aug0.1-ema0.99": ("tiny", {"augment": 0.1, "ema": 0.99}, {}),
    "tiny-aug0.1-e40": ("tiny", {"augment": 0.1, "epochs": 40}, {}),
    "tiny-aug0.1-lr1e-3": ("tiny", {"augment": 0.1, "lr": 1e-3}, {}),
    "tiny-aug0.2-e40": ("tiny", {"augment": 0.2, "epochs": 40}, {}),
    "tiny-aug0.3-e40": ("tiny", {"augment": 0.3, "epochs": 40}, {}),
    "tiny-aug0.2-e40-p8": ("tiny", {"augment": 0.2, "epochs": 40, "patience": 8}, {}),
    "tiny-aug0.2-e40-noflood": ("tiny", {"augment": 0.2, "epochs": 40, "flood": 0.0}, {}),
    "tiny-aug0.2-e40-lr1e-3": ("tiny", {"augment": 0.2, "epochs": 40, "lr": 1e-3}, {}),
    "tiny-aug0.2-e40-drop0.1": ("tiny", {"augment": 0.2, "epochs": 40}, {"dropout": 0.1}),
    "tiny-aug0.2-e40-wd0.05": ("tiny", {"augment": 0.2, "epochs": 40, "weight_decay": 0.05}, {}),
    "tiny-aug0.2-e40-b32": ("tiny", {"augment": 0.2, "epochs": 40, "batch_size": 32}, {}),
    "tiny-aug0.2-e30": ("tiny", {"augment": 0.2, "epochs": 30}, {}),
    "tiny-aug0.25-e30": ("tiny", {"augment": 0.25, "epochs": 30}, {}),
    "small-aug0.2-e40": ("small", {"augment": 0.2, "epochs": 40}, {}),
    "tiny-rc0.5": ("tiny", {"rc_augment": 0.5}, {}),
    "tiny-e200-p20": ("tiny", {"epochs": 200, "patience": 20}, {}),
    "tiny-e200-p20-aug0.3": ("tiny", {"epochs": 200, "patience": 20, "augment": 0.3}, {}),
    "tiny-e200-p20-wd0.05": ("tiny", {"epochs": 200, "patience": 20, "weight_decay": 0.05}, {}),
    "tiny-p40": ("tiny", {"patience": 40, "keep": "best"}, {}),
    "tiny-p40-last": ("tiny", {"keep": "last"}, {}),
    "tiny-keep-best": ("tiny", {"keep": "best"}, {}),
    "tiny-e60": ("tiny", {"epochs": 60}, {}),
    "tiny-e100": ("tiny", {"epochs": 100}, {}),
    "tiny-e200": ("tiny", {"epochs": 200}, {}),
    "tiny-kmer-only": ("tiny", {}, {"fusion": "kmer_only"}),
    "tiny-aug0.2-e40-kmer-only": ("tiny", {"augment": 0.2, "epochs": 40}, {"fusion": "kmer_only"}),
    "tiny-aug0.2-e40-concat": ("tiny", {"augment": 0.2, "epochs": 40}, {"fusion": "concat"}),
    "tiny-concat": ("tiny", {}, {"fusion": "concat"}),
    # with --encoders (pretrained by `medna-interp pretrain`); the size names the fusion head only
    "pt-defaults": ("tiny", {}, {}),
    "pt-scratch-recipe": ("tiny", {"lr": 5e-4, "fgm_epsilon": 0.0, "warmup": 0.1, "augment": 0.2, "epochs": 40}, {}),
    "pt-lr2e-4-aug0.2": ("tiny", {"lr": 2e-4, "fgm_epsilon": 0.0, "warmup": 0.1, "augment": 0.2, "epochs": 40}, {}),
    "pt-lr1e-4-noaug": ("tiny", {"lr": 1e-4, "fgm_epsilon": 0.0, "warmup": 0.1, "augment": 0.0, "epochs": 40}, {}),
    "pt-keep-last": ("tiny", {"keep": "last"}, {}),
    "pt-keep-last-e60": ("tiny", {"keep": "last", "epochs": 60}, {}),
}


def main() -> None:
    from medna_interp.training.evaluate import evaluate
    from medna_interp.data.io import read_sequences
    from medna_interp.core.metrics import binary_metrics
    from medna_interp.training.baseline import fit_linear
    from medna_interp.models.sizes import size_config
    from medna_interp.training.train import TrainConfig, train
    from medna_interp.data.splits import stratified_split

    parser = argparse.ArgumentParser()
    parser.add_argument("--sets", nargs="+", default=["6mA_D.melanogaster"])
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--keep", type=Path, help="copy each checkpoint to KEEP/SET-CONFIG for later benchmarks")
    parser.add_argument("--encoders", type=Path, help="start from ENCODERS/kmer and ENCODERS/bpe (pretrained)")
    parser.add_argument("--seed", type=int, default=0, help="training seed, which also draws the validation split")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (1 each for two runs side by side)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    out = RESULTS / "train_recipe.jsonl"
    for name in args.sets:
        folder = SHARED / name
        data, test = read_sequences(folder / "train.tsv"), read_sequences(folder / "test.tsv")
        train_part, valid_part = stratified_split(data, 0.1, args.seed)
        linear, _ = fit_linear(train_part, valid_part)
        linear_test = binary_metrics(test.labels, linear.predict_proba(test.sequences)).auc
        for config_name in args.configs:
            size, overrides, model_overrides = CONFIGS[config_name]
            config = TrainConfig(seed=args.seed, **overrides)
            with tempfile.TemporaryDirectory() as work:
                start = time.process_time()
                wall = time.perf_counter()
                encoders = {"kmer_encoder": args.encoders / "kmer", "bpe_encoder": args.encoders / "bpe"} \
                    if args.encoders else {}
                checkpoint, result = train(folder / "train.tsv", Path(work) / "ckpt", size=size, config=config,
                                           model_config=size_config(size, **model_overrides), device="cpu",
                                           progress=False, **encoders)
                cpu, wall = time.process_time() - start, time.perf_counter() - wall
                (row,) = evaluate([checkpoint], [folder / "test.tsv"], Path(work) / "eval", device="cpu")
                # the settings as resolved, so that "defaults" rows say which defaults they had
                resolved = json.loads((checkpoint / "config.json").read_text())["provenance"]["config"]["train"]
                if args.keep:
                    shutil.copytree(checkpoint, args.keep / f"{name}-{config_name}", dirs_exist_ok=True)
            record = {"set": name, "config": config_name, "size": size, "seed": args.seed, "train": resolved,
                      "encoders": str(args.encoders) if args.encoders else None,
                      "model": model_overrides, "best_epoch": result.best_epoch, "epochs_run": len(result.history),
                      "valid_auc": round(result.validation["auc"], 4),
                      "baseline_valid_auc": round(result.baseline["auc"], 4),
                      "test_auc": round(row["auc"], 4), "baseline_test_auc": round(linear_test, 4),
                      "test_minus_baseline": round(row["auc"] - linear_test, 4),
                      "cpu_minutes": round(cpu / 60, 1), "wall_minutes": round(wall / 60, 1),
                      "threads": torch.get_num_threads(), "machine": machine()["cpu"]}
            with open(out, "a") as handle:
                handle.write(json.dumps(record) + "\n")
            print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
