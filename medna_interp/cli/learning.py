"""Commands about models and data: info, predict, import-checkpoint, train, pretrain,
export-encoders, baseline, evaluate and synth."""

from __future__ import annotations

import json

from ..core.errors import MednaError
from ..training.recipes import KEEPS
from .options import (FRACTION, NON_NEGATIVE, NON_NEGATIVE_FLOAT, Number, POSITIVE, PROBABILITY, SEED,
                                      execution_options, force_flag, load_model, read_data)


def cmd_info(args) -> None:
    from ..models.checkpoint import describe

    print(json.dumps(describe(args.checkpoint), indent=2))


def add_info(commands) -> None:
    p = commands.add_parser("info", help="describe a checkpoint (config, parameter counts, tokenizers)")
    p.add_argument("checkpoint", metavar="CKPT")
    p.set_defaults(handler=cmd_info)


def cmd_predict(args) -> None:
    from ..training.baseline import is_baseline, load_baselines
    from ..core.outputs import claim_file
    from ..models.predict import HEADER, predict_proba, write_predictions

    claim_file(args.output, inputs=[args.checkpoint, args.data, args.negatives], force=args.force, ours=HEADER)
    if is_baseline(args.checkpoint):  # the linear baseline's probabilities
        linear = load_baselines(args.checkpoint).linear
        data = read_data(args, args.data)
        if data.length != linear.length:
            raise MednaError(f"{args.data}: windows are {data.length} bp, but the baseline was fitted on "
                             f"{linear.length}-bp windows")
        probabilities = linear.predict_proba(data.sequences)
    else:
        model = load_model(args, args.checkpoint)
        data = read_data(args, args.data, model)
        probabilities = predict_proba(model, data.sequences, args.batch_size)
    write_predictions(args.output, data, probabilities)
    print(f"wrote {args.output} ({len(data)} windows)")


def add_predict(commands) -> None:
    p = commands.add_parser("predict", help="P(modified) for every window of a data file")
    p.add_argument("checkpoint", metavar="CKPT")
    p.add_argument("data", metavar="DATA", help="iDNA-MS TSV, FASTA or one sequence per line (optionally .gz)")
    p.add_argument("-o", "--output", required=True, help="predictions TSV to write")
    force_flag(p)
    execution_options(p)
    p.set_defaults(handler=cmd_predict)


def cmd_import_checkpoint(args) -> None:
    from ..models.checkpoint import import_fusion

    out = import_fusion(args.fusion, args.kmer_encoder, args.bpe_encoder, args.output, bpe_pooling=args.bpe_pooling,
                        force=args.force)
    print(f"wrote checkpoint {out}")


def add_import_checkpoint(commands) -> None:
    p = commands.add_parser("import-checkpoint", help="convert the authors' Fusion .pt into a checkpoint directory")
    p.add_argument("fusion", metavar="FUSION_PT")
    p.add_argument("--kmer-encoder", required=True, metavar="DIR", help="DNABERT-6mer directory")
    p.add_argument("--bpe-encoder", required=True, metavar="DIR", help="DNABERT-2 directory")
    p.add_argument("-o", "--output", required=True, metavar="OUT")
    p.add_argument("--bpe-pooling", default="unmasked_mean", choices=("unmasked_mean", "masked_mean"),
                   help="unmasked_mean reproduces the authors' predictions (default)")
    force_flag(p)
    p.set_defaults(handler=cmd_import_checkpoint)


def cmd_train(args) -> None:
    from ..models.medna_dfm import MednaConfig
    from ..models.sizes import size_config
    from ..training.train import TrainConfig, train

    overrides = dict(fusion=args.fusion, n_experts=args.experts, expert_ff=args.expert_ff, dropout=args.dropout)
    model_config = None if args.init else \
        MednaConfig(**{k: v for k, v in overrides.items() if v is not None}) if args.kmer_encoder \
        else size_config(args.size, **overrides)
    config = TrainConfig(epochs=args.epochs, lr=args.lr, weight_decay=args.weight_decay,
                         batch_size=args.batch_size, flood=args.flood, fgm_epsilon=args.fgm_epsilon,
                         patience=args.patience, valid_fraction=args.valid_fraction, seed=args.seed,
                         warmup=args.warmup, augment=args.augment, rc_augment=args.rc_augment,
                         keep=args.keep, precision=args.precision)
    path, result = train(args.train, args.output, valid_path=args.valid,
                         negatives=args.negatives, size=args.size, init=args.init,
                         kmer_encoder=args.kmer_encoder, bpe_encoder=args.bpe_encoder,
                         model_config=model_config, config=config, length=args.length or None,
                         device=args.device, progress=not args.quiet, force=args.force)
    v = result.validation
    print(f"wrote checkpoint {path} (epoch {result.best_epoch} kept: valid AUPRC {v['auprc']:.4f}, "
          f"AUC {v['auc']:.4f}, ACC {v['acc']:.4f}; linear baseline AUC {result.baseline['auc']:.4f})")


def add_train(commands) -> None:
    p = commands.add_parser("train", help="train MEDNA-DFM on a labelled TSV")
    p.add_argument("train", metavar="TRAIN", nargs="+",
                   help="labelled training data (iDNA-MS TSV), or positives with --negatives; several files are "
                        "pooled, each split for validation alike (the paper's multi-species stage)")
    p.add_argument("-o", "--output", required=True, metavar="CKPT", help="checkpoint directory to write")
    p.add_argument("--valid", metavar="FILE", help="validation data (default: a stratified split of TRAIN)")
    p.add_argument("--valid-fraction", type=FRACTION, default=0.1, help="held-out fraction when no --valid (0.1)")
    p.add_argument("--size", default="tiny", choices=("tiny", "small", "base"),
                   help="random-init size when no encoders are given; base = the paper's (default: tiny)")
    p.add_argument("--kmer-encoder", metavar="DIR", help="start from a DNABERT-k directory")
    p.add_argument("--bpe-encoder", metavar="DIR", help="start from a DNABERT-2 directory")
    p.add_argument("--init", metavar="CKPT", help="start every weight from a trained checkpoint (with "
                   "--kmer-encoder/--bpe-encoder, those replace its encoders and must share its tokenizers)")
    p.add_argument("--fusion", default="film", choices=("film", "concat", "kmer_only", "reverse_film"))
    p.add_argument("--experts", type=int, default=4, choices=(0, 1, 2, 4, 8), help="MoE experts (default: 4)")
    p.add_argument("--expert-ff", type=POSITIVE, help="expert feed-forward width (default: by size; 256 for DNABERT)")
    p.add_argument("--dropout", type=PROBABILITY,
                   help="dropout of the experts and classifier (default: 0.5, the paper's; 0.1 for --size small)")
    p.add_argument("--epochs", type=POSITIVE, help="most epochs (default: 40 from scratch, 20 from paper-size DNABERT)")
    p.add_argument("--augment", type=PROBABILITY,
                   help="per-base probability of a random substitution in each training batch, the centre kept "
                        "(default: 0.2 from scratch, 0 from paper-size DNABERT)")
    p.add_argument("--rc-augment", type=PROBABILITY, default=0.0,
                   help="probability that a training window is replaced by its reverse complement, drawn anew "
                        "every batch: for strand-symmetric marks (default: 0)")
    p.add_argument("--keep", choices=KEEPS,
                   help="the weights training ends with: 'best' (highest valid AUPRC, stopping after --patience "
                        "epochs without a better one) or 'last' (every epoch; the final, decayed weights) "
                        "(default: best from DNABERT-size encoders, last otherwise)")
    p.add_argument("--patience", type=POSITIVE, default=4,
                   help="with --keep best: epochs without a better valid AUPRC before stopping")
    p.add_argument("--lr", type=Number(float, 0, open_low=True),
                   help="AdamW learning rate (default: 1e-5 from paper-size DNABERT, 2e-4 from narrower pretrained "
                        "encoders such as those of 'pretrain', else by size)")
    p.add_argument("--weight-decay", type=NON_NEGATIVE_FLOAT, default=0.003)
    p.add_argument("--warmup", type=PROBABILITY,
                   help="fraction of steps with a linear learning-rate warm-up, then linear decay; 0 = constant "
                        "(default: 0.1 from scratch, 0 from paper-size DNABERT, as the paper)")
    p.add_argument("--flood", type=NON_NEGATIVE_FLOAT, default=0.06, help="flooding level b; 0 disables (default: 0.06)")
    p.add_argument("--fgm-epsilon", type=NON_NEGATIVE_FLOAT,
                   help="FGM epsilon; 0 disables (default: 1.0 from paper-size DNABERT, the paper's; 0 from scratch, where "
                        "it stalls training)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    force_flag(p)
    execution_options(p)
    p.set_defaults(handler=cmd_train)


def cmd_pretrain(args) -> None:
    from ..training.pretrain import PretrainConfig, pretrain

    config = PretrainConfig(size=args.size, epochs=args.epochs, lr=args.lr, batch_size=args.batch_size,
                            mask_rate=args.mask_rate, window=args.window, seed=args.seed)
    result = pretrain(args.data, args.output, config=config, exclude=args.exclude or [],
                      kmer_encoder=args.kmer_encoder, bpe_encoder=args.bpe_encoder, device=args.device,
                      progress=not args.quiet, force=args.force)
    last = result.history[-1] if result.history else {}
    print(f"wrote {result.kmer_encoder} and {result.bpe_encoder} (masked-token accuracy on held-out windows: "
          f"k-mer {last.get('kmer_valid_accuracy', float('nan')):.3f}, BPE {last.get('bpe_valid_accuracy', float('nan')):.3f}); "
          f"train with --kmer-encoder {result.kmer_encoder} --bpe-encoder {result.bpe_encoder}")


def add_pretrain(commands) -> None:
    p = commands.add_parser("pretrain", help="masked-LM pretraining of a DNABERT-6 and a DNABERT-2 encoder on "
                                             "unlabelled windows or genome FASTA")
    p.add_argument("data", metavar="DATA", nargs="+",
                   help="TSV, FASTA or plain files (labels ignored); long records are cut into --window pieces")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="directory for kmer/ and bpe/")
    p.add_argument("--exclude", metavar="FILE", nargs="+",
                   help="held-out files (test splits): their windows and reverse complements are never used")
    p.add_argument("--size", default="tiny", choices=("tiny", "small", "base"), help="encoder size (default: tiny)")
    p.add_argument("--kmer-encoder", metavar="DIR", help="continue training this DNABERT-k directory")
    p.add_argument("--bpe-encoder", metavar="DIR", help="continue training this DNABERT-2 directory")
    p.add_argument("--epochs", type=POSITIVE, default=20, help="passes over the windows (default: 20)")
    p.add_argument("--lr", type=Number(float, 0, open_low=True),
                   help="peak AdamW learning rate (default: 1e-3 tiny, 5e-4 small, 1e-4 base; a tenth when "
                        "continuing)")
    p.add_argument("--mask-rate", type=FRACTION, default=0.15, help="fraction of tokens masked (default: 0.15)")
    p.add_argument("--window", type=Number(int, 6), default=41,
                   help="bases per piece cut from longer records (default: 41)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    force_flag(p)
    execution_options(p, data=False, precision=False)
    p.set_defaults(handler=cmd_pretrain)


def cmd_export_encoders(args) -> None:
    from ..models.checkpoint import BPE_DIR, KMER_DIR, export_encoders

    out = export_encoders(args.checkpoint, args.output, force=args.force)
    print(f"wrote {out / KMER_DIR} and {out / BPE_DIR}; start other models from them with "
          f"--kmer-encoder {out / KMER_DIR} --bpe-encoder {out / BPE_DIR}")


def add_export_encoders(commands) -> None:
    p = commands.add_parser("export-encoders", help="write a trained model's encoders as DNABERT-6 and DNABERT-2 "
                                                    "directories, to start other models from")
    p.add_argument("checkpoint", metavar="CKPT")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="directory for kmer/ and bpe/")
    force_flag(p)
    p.set_defaults(handler=cmd_export_encoders)


def cmd_baseline(args) -> None:
    from ..training.baseline import train_baselines

    path, baselines = train_baselines(args.train, args.output, valid_path=args.valid, negatives=args.negatives,
                                      valid_fraction=args.valid_fraction, seed=args.seed,
                                      length=args.length or None, cnn=not args.no_cnn, force=args.force)
    for name, metrics in baselines.validation.items():
        print(f"{name}: valid AUC {metrics['auc']:.4f}, AUPRC {metrics['auprc']:.4f}, ACC {metrics['acc']:.4f}")
    print(f"wrote baselines {path} (L2 C = {baselines.linear.c:g})")


def add_baseline(commands) -> None:
    p = commands.add_parser("baseline", help="linear and CNN baselines on the split 'train' uses")
    p.add_argument("train", metavar="TRAIN", help="labelled training data, or positives with --negatives")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="baseline directory to write")
    p.add_argument("--valid", metavar="FILE", help="validation data (default: a stratified split of TRAIN)")
    p.add_argument("--valid-fraction", type=FRACTION, default=0.1, help="held-out fraction when no --valid (0.1)")
    p.add_argument("--no-cnn", action="store_true", help="fit the linear baseline only")
    force_flag(p)
    execution_options(p, precision=False)
    p.set_defaults(handler=cmd_baseline)


def cmd_evaluate(args) -> None:
    from ..core.margin import Versus
    from ..training.evaluate import COLUMNS, evaluate

    rows = evaluate(args.checkpoints, args.tests, args.output, args.batch_size, args.device, args.length or None,
                    negatives=args.negatives, seed=args.seed, precision=args.precision, force=args.force)
    print("\t".join(COLUMNS))
    for row in rows:
        print("\t".join(f"{row[c]:.4f}" if isinstance(row[c], float) else str(row[c]) for c in COLUMNS))
    for row in rows:
        if row["verdict"] is not None:
            print(f"{row['checkpoint']}: {Versus(row['auc'], row['linear_auc'], on=row['dataset']).sentence()}")
    print(f"wrote {args.output}/metrics.tsv")


def add_evaluate(commands) -> None:
    p = commands.add_parser("evaluate", help="ACC/Sn/Sp/MCC/AUC/AUPRC of checkpoints on test sets")
    p.add_argument("checkpoints", metavar="CKPT", nargs="+", help="checkpoints and baseline directories")
    p.add_argument("--test", dest="tests", metavar="TEST", nargs="+", required=True, help="labelled test file(s)")
    p.add_argument("-o", "--output", required=True, metavar="DIR")
    force_flag(p)
    execution_options(p)
    p.set_defaults(handler=cmd_evaluate)


def cmd_synth(args) -> None:
    from ..data.synth import Grammar, write_synthetic

    grammar = Grammar.from_file(args.grammar) if args.grammar else Grammar()
    out = write_synthetic(args.output, grammar, args.n_train, args.n_test, args.seed, force=args.force,
                          grammar_file=args.grammar)
    print(f"wrote {out}/train.tsv, test.tsv, sites.tsv, grammar.json")


def add_synth(commands) -> None:
    p = commands.add_parser("synth", help="synthetic windows with a planted motif grammar")
    p.add_argument("-o", "--output", required=True, metavar="DIR")
    p.add_argument("--grammar", metavar="FILE", help="YAML/JSON grammar (default: GAGG core AND A-tract)")
    p.add_argument("--n-train", type=NON_NEGATIVE, default=4000)
    p.add_argument("--n-test", type=NON_NEGATIVE, default=1000)
    p.add_argument("--seed", type=SEED, default=0)
    force_flag(p)
    p.set_defaults(handler=cmd_synth)
