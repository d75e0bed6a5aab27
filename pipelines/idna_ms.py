"""Every iDNA-MS dataset in a folder: train a model each, score every model on every
test set (the cross-dataset matrix of the paper, section 7), and optionally explain
each model on its own test set (selection -> CAD -> CWGA -> motifs -> report).

    .venv/bin/python pipelines/idna_ms.py ../shared/data/idna_ms -o work/idna_ms \\
        [--datasets 6mA_D.melanogaster 5hmC_M.musculus] [--size small] [--epochs N] [--explain]

Each dataset folder holds train.tsv and test.tsv. Every stage is skipped when its
outputs exist, so the script can be rerun after an interruption.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from medna_interp.evaluate import evaluate  # noqa: E402
from medna_interp.pipeline import RunOptions, run  # noqa: E402
from medna_interp.steps import Common  # noqa: E402
from medna_interp.train import TrainConfig, train  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("root", type=Path, help="folder of dataset folders (train.tsv, test.tsv)")
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--datasets", nargs="*", help="default: every folder under ROOT with both files")
    parser.add_argument("--size", default="small", choices=("tiny", "small", "base"))
    parser.add_argument("--epochs", type=int, help="default: train's (40 from scratch)")
    parser.add_argument("--fgm-epsilon", type=float, help="default: train's (0 from scratch)")
    parser.add_argument("--explain", action="store_true", help="also run CAD/CWGA/motifs/report per dataset")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    names = args.datasets or sorted(p.name for p in args.root.iterdir()
                                    if (p / "train.tsv").exists() and (p / "test.tsv").exists())
    if not names:
        raise SystemExit(f"{args.root}: no dataset folders with train.tsv and test.tsv")
    checkpoints = []
    for name in names:
        checkpoint = args.output / "models" / name
        if not (checkpoint / "model.safetensors").exists():
            print(f"== training {name}", flush=True)
            train(args.root / name / "train.tsv", checkpoint, size=args.size, device=args.device,
                  config=TrainConfig(epochs=args.epochs, fgm_epsilon=args.fgm_epsilon, seed=args.seed),
                  progress=False)
        checkpoints.append(checkpoint)
    print("== cross-dataset evaluation", flush=True)
    evaluate(checkpoints, [args.root / n / "test.tsv" for n in names], args.output / "evaluation", device=args.device)
    print((args.output / "evaluation" / "matrix_auc.tsv").read_text())
    if args.explain:
        for name, checkpoint in zip(names, checkpoints):
            print(f"== explaining {name}", flush=True)
            run(checkpoint, args.root / name / "test.tsv", args.output / "runs" / name, RunOptions(),
                Common(device=args.device, seed=args.seed))


if __name__ == "__main__":
    main()
