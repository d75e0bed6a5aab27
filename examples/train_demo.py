"""Reproduce the shipped demo checkpoint in model/demo/ from a fixed seed.

    .venv/bin/python examples/train_demo.py [--output model/demo]

Generates the default synthetic grammar (GAGG core over the central A AND an upstream
A-tract) with misplaced decoys, trains the tiny MEDNA-DFM on it, scores a freshly
generated test set, and writes the checkpoint with its model card. About two minutes on
one CPU core.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch

from medna_interp.training.evaluate import evaluate
from medna_interp.data.synth import Grammar, write_synthetic
from medna_interp.training.train import TrainConfig, train

SEED = 0
#: misplaced decoys (both motifs, one outside its starts) make where the A-tract sits part of
#: the task: without them the model accepted an A-tract anywhere beside GAGG (issue 20's
#: spacing check: 1.35x, not 2x); light base substitutions keep that model from hanging its
#: call on single bases (benchmarks/results/demo_recipe.tsv)
GRAMMAR = Grammar(misplaced_fraction=0.4)
#: a constant rate, so the best epoch by validation AUPRC rather than the last
TRAIN_CONFIG = TrainConfig(epochs=40, lr=1e-3, flood=0.06, fgm_epsilon=0.0, patience=10, seed=SEED, warmup=0.0,
                           augment=0.05, keep="best")

CARD = """# MEDNA-DFM demo checkpoint (tiny, synthetic)

A deliberately small MEDNA-DFM (DNABERT-6mer view + DNABERT-2-style BPE view, FiLM,
4 experts; width {width}, 2+2 encoder layers, {parameters:,} parameters) trained on
synthetic 41-bp windows whose truth is known. It exists so that `medna-interp demo`,
the tests and the examples run in minutes on a laptop CPU, and so that CAD, CWGA and
the motif workflow can be checked against planted motifs. It is not a model of any
real methylation data.

## Data
`medna-interp synth` default grammar, seed {seed}: positives carry a GAGG core
covering the central A (0-based 19-22) AND an upstream A-tract (AAAAA starting at
5-11); negatives are decoys (60 %) or AT-rich background (A/T 0.3, C/G 0.2). In the
training windows 40 % of the decoys carry both motifs with one of them outside its
allowed starts (`misplaced_fraction` 0.4), so where a motif sits is part of the task; the
others carry only one motif (a quarter the GAGG core, three quarters the A-tract).
{n_train} training windows (10 % held out for validation); the test set is freshly
generated with seed {test_seed} from the default grammar ({n_test} windows).

## Training
`examples/train_demo.py`: AdamW lr {lr} (constant), weight decay {weight_decay}, batch {batch_size},
flooding b = {flood}, random base substitutions at {augment} per base (new for every
batch), FGM off (epsilon {fgm}): on a 64-wide embedding trained from scratch, in trial
runs on the first version of this grammar, the paper's epsilon 1.0 stalled training
(valid AUC 0.86) and 0.1 plateaued at 0.97, against 1.00 without it (`medna-interp train
--fgm-epsilon` keeps it available). Best epoch by validation AUPRC (epoch {best_epoch}),
early stopping patience {patience}.
Trained in {minutes:.1f} min on {threads} CPU threads, torch {torch}.

## Test metrics (threshold 0.5)
| ACC | Sn | Sp | MCC | AUC | AUPRC |
|---|---|---|---|---|---|
| {acc:.4f} | {sn:.4f} | {sp:.4f} | {mcc:.4f} | {auc:.4f} | {auprc:.4f} |

Validation AUC {valid_auc:.4f} against {baseline_auc:.4f} for the position-specific linear
baseline fitted on the same split, so reports of this model carry the below-baseline
banner. That is expected here: bases at fixed positions separate this grammar almost
perfectly, and the demo exists to check explanations against a known truth, not to beat
a linear model.

## Reproduce
    .venv/bin/python examples/train_demo.py --output model/demo
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", default="model/demo")
    args = parser.parse_args()
    torch.set_num_threads(1)  # the result depends on the thread count; one reproduces it anywhere
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        write_synthetic(work / "train", GRAMMAR, n_train=4000, n_test=0, seed=SEED)
        write_synthetic(work / "test", Grammar(), n_train=0, n_test=1000, seed=SEED + 1)
        start = time.time()
        path, result = train(work / "train" / "train.tsv", args.output, size="tiny", config=TRAIN_CONFIG,
                             device="cpu")
        minutes = (time.time() - start) / 60
        metrics = evaluate([path], [work / "test" / "test.tsv"], work / "eval", device="cpu")[0]
    payload = json.loads((path / "config.json").read_text())
    payload["metrics"]["synthetic_test"] = metrics
    (path / "config.json").write_text(json.dumps(payload, indent=2) + "\n")
    from medna_interp.models.checkpoint import from_pretrained

    model = from_pretrained(path)
    card = CARD.format(width=model.width, parameters=sum(p.numel() for p in model.parameters()), seed=SEED,
                       test_seed=SEED + 1, n_train=4000, n_test=1000, best_epoch=result.best_epoch,
                       minutes=minutes, threads=torch.get_num_threads(), torch=torch.__version__,
                       fgm=TRAIN_CONFIG.fgm_epsilon, **{k: v for k, v in vars(TRAIN_CONFIG).items() if k not in ("fgm_epsilon", "seed", "warmup")},
                       valid_auc=result.validation["auc"], baseline_auc=result.baseline["auc"],
                       **{k: metrics[k] for k in ("acc", "sn", "sp", "mcc", "auc", "auprc")})
    (path / "README.md").write_text(card)
    print(f"wrote {path}: test AUC {metrics['auc']:.4f}, ACC {metrics['acc']:.4f}")


if __name__ == "__main__":
    main()
