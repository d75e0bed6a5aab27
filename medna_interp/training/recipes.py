"""The training recipes: per starting point, the defaults :class:`~.train.TrainConfig` fills in.

Plain data without torch, so the command line can offer the choices without loading a model.
"""

#: Learning rates that train each size from scratch; fine-tuning DNABERT uses the paper's 1e-5,
#: and encoders narrower than DNABERT's (those `pretrain` makes at tiny or small size) 2e-4:
#: at 1e-5 a tiny pretrained model reached test AUC 0.77 on 5hmC M. musculus, at 2e-4 0.98
#: (benchmarks/results/train_recipe.jsonl, "pt-" rows).
DEFAULT_LR = {"tiny": 5e-4, "small": 3e-4, "base": 1e-4, "pretrained": 1e-5, "pretrained_narrow": 2e-4}
#: the width of the published DNABERT encoders, below which a pretrained start is "narrow"
PAPER_WIDTH = 768

#: FGM epsilon and warm-up when training starts from DNABERT directories (the paper's
#: fine-tuning values) and when it starts from random weights: from scratch, FGM at 1.0
#: stalled the tiny model (validation AUC 0.86 vs 1.00 without it) and doubles the cost,
#: and post-LayerNorm encoders need the learning rate warmed up. Random base substitutions
#: (20 % per base, new for every batch) over 40 epochs brought the tiny model from 0.02-0.04
#: below the linear baseline to within 0.004-0.006 of it on three of the four shared
#: iDNA-MS sets (benchmarks/results/train_recipe.jsonl). Keeping the last epoch of the
#: decayed schedule, not the best on a few hundred validation windows (patience often
#: stopped at epoch 7-11 with the rate still high), was better in every paired run (five
#: M. musculus seeds, seed 0 of the other sets) and brought the seed means to 0.0014-0.0033
#: below the baseline on three sets. The narrow encoders ``pretrain`` makes keep the last
#: epoch too: from them, keeping the best stopped at epoch 4-26 and was worse on all 12
#: set-and-seed pairs of the workflow's default path (benchmarks/results/README.md, "The
#: workflow's default path"). DNABERT-size encoders train as the paper did, on the windows
#: as given, keeping the best epoch.
_SCRATCH = {"fgm_epsilon": 0.0, "warmup": 0.1, "augment": 0.2, "epochs": 40, "keep": "last"}
DEFAULTS = {"pretrained": {"fgm_epsilon": 1.0, "warmup": 0.0, "augment": 0.0, "epochs": 20, "keep": "best"},
            "pretrained_narrow": _SCRATCH, "scratch": _SCRATCH}
KEEPS = ("best", "last")
