"""The ``medna-interp`` command line: parse, call one library function, print.

User mistakes surface as :class:`MednaError` (or as parser errors) and end with one line
on stderr and exit status 2, before any work starts and with nothing written; anything
else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

import numpy as np

from . import __version__
from .errors import MednaError
from .interpret.selection import MIN_SELECTED
from .train import KEEPS

FORCE_HELP = ("write into an existing folder (or over a file) that medna-interp did not make; only the files "
              "this command writes are replaced, nothing else there is removed, and inputs are never touched")


class _Parser(argparse.ArgumentParser):
    """Parser errors on one line (no usage block), exit status 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


class Number:
    """An argparse type: an int or a finite float within bounds; ``low``/``high`` are
    inclusive unless ``open_low``/``open_high``."""

    def __init__(self, kind: type = int, low: float | None = None, high: float | None = None,
                 open_low: bool = False, open_high: bool = False):
        self.kind, self.low, self.high, self.open_low, self.open_high = kind, low, high, open_low, open_high
        self.__name__ = kind.__name__

    def describe(self) -> str:
        what = "an integer" if self.kind is int else "a number"
        if self.low is not None and self.high is not None:
            return f"{what} in {'(' if self.open_low else '['}{self.low}, {self.high}{')' if self.open_high else ']'}"
        if self.low is not None:
            return f"{what} {'>' if self.open_low else '>='} {self.low}"
        if self.high is not None:
            return f"{what} {'<' if self.open_high else '<='} {self.high}"
        return what

    def __call__(self, text: str):
        try:
            value = self.kind(text)
        except (TypeError, ValueError):
            raise argparse.ArgumentTypeError(f"must be {self.describe()}, got {text!r}") from None
        if isinstance(value, float) and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be {self.describe()}, got {text!r}")
        too_low = self.low is not None and (value <= self.low if self.open_low else value < self.low)
        too_high = self.high is not None and (value >= self.high if self.open_high else value > self.high)
        if too_low or too_high:
            raise argparse.ArgumentTypeError(f"must be {self.describe()}, got {text!r}")
        return value


POSITIVE = Number(int, 1)
NON_NEGATIVE = Number(int, 0)
SEED = Number(int, 0, 2**32 - 1)
FRACTION = Number(float, 0, 1, open_low=True, open_high=True)
PROBABILITY = Number(float, 0, 1, open_high=True)  # a confidence or dropout: 1 would keep nothing
NON_NEGATIVE_FLOAT = Number(float, 0)
FINITE = Number(float)


def _device(text: str) -> str:
    if text in ("auto", "cpu", "cuda") or (text.startswith("cuda:") and text[5:].isdigit()):
        return text
    raise argparse.ArgumentTypeError(f"must be auto, cpu, cuda or cuda:N, got {text!r}")


def _heads(text: str):
    if text == "all":
        return None
    try:
        heads = [int(h) for h in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be 'all' or comma-separated head indices, got {text!r}") from None
    if any(h < 0 for h in heads):
        raise argparse.ArgumentTypeError(f"head indices are 0-based and not negative, got {text!r}")
    return heads


def _tax(text: str) -> str:
    from .motifs.jaspar import TAX_GROUPS

    unknown = [name for name in text.split(",") if name not in (*TAX_GROUPS, "all")]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown JASPAR tax group {unknown[0]!r}; valid: "
                                         f"{', '.join(TAX_GROUPS)}, all")
    return text


def _common(parser: argparse.ArgumentParser, *, data: bool = True, precision: bool = True) -> None:
    parser.add_argument("--device", default="auto", type=_device, help="auto | cpu | cuda (default: auto)")
    if precision:
        from .precision import PRECISIONS

        parser.add_argument("--precision", default="fp32", choices=PRECISIONS,
                            help="fp32, bf16 autocast, or auto: bf16 where the device has it natively "
                                 "(default: fp32)")
    parser.add_argument("--batch-size", type=POSITIVE, default=64, help="windows per forward pass (default: 64)")
    parser.add_argument("--seed", type=SEED, default=0, help="random seed (default: 0)")
    if data:
        parser.add_argument("--negatives", help="FASTA/plain file of negatives; DATA then holds the positives")
        parser.add_argument("--length", type=NON_NEGATIVE, default=41,
                            help="required window length; 0 accepts any common length (default: 41)")


def _read_data(args, path: str, model=None):
    from .io import read_sequences

    data = read_sequences(path, negatives=args.negatives, length=args.length or None)
    if model is not None:
        model.require_length(data.length, str(path))
    return data


def _load_model(args, checkpoint: str):
    from .device import resolve_device, seed_everything
    from .models.checkpoint import from_pretrained

    seed_everything(args.seed)
    return from_pretrained(checkpoint, resolve_device(args.device), args.precision)


def cmd_info(args) -> None:
    from .models.checkpoint import describe

    print(json.dumps(describe(args.checkpoint), indent=2))


def cmd_predict(args) -> None:
    from .baseline import is_baseline, load_baselines
    from .outputs import claim_file
    from .predict import HEADER, predict_proba, write_predictions

    claim_file(args.output, inputs=[args.checkpoint, args.data, args.negatives], force=args.force, ours=HEADER)
    if is_baseline(args.checkpoint):  # the linear baseline's probabilities
        linear = load_baselines(args.checkpoint).linear
        data = _read_data(args, args.data)
        if data.length != linear.length:
            raise MednaError(f"{args.data}: windows are {data.length} bp, but the baseline was fitted on "
                             f"{linear.length}-bp windows")
        probabilities = linear.predict_proba(data.sequences)
    else:
        model = _load_model(args, args.checkpoint)
        data = _read_data(args, args.data, model)
        probabilities = predict_proba(model, data.sequences, args.batch_size)
    write_predictions(args.output, data, probabilities)
    print(f"wrote {args.output} ({len(data)} windows)")


def cmd_import_checkpoint(args) -> None:
    from .models.checkpoint import import_fusion

    out = import_fusion(args.fusion, args.kmer_encoder, args.bpe_encoder, args.output, bpe_pooling=args.bpe_pooling,
                        force=args.force)
    print(f"wrote checkpoint {out}")


def cmd_train(args) -> None:
    from .models.medna_dfm import MednaConfig
    from .models.sizes import size_config
    from .train import TrainConfig, train

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


def cmd_pretrain(args) -> None:
    from .pretrain import PretrainConfig, pretrain

    config = PretrainConfig(size=args.size, epochs=args.epochs, lr=args.lr, batch_size=args.batch_size,
                            mask_rate=args.mask_rate, window=args.window, seed=args.seed)
    result = pretrain(args.data, args.output, config=config, exclude=args.exclude or [],
                      kmer_encoder=args.kmer_encoder, bpe_encoder=args.bpe_encoder, device=args.device,
                      progress=not args.quiet, force=args.force)
    last = result.history[-1] if result.history else {}
    print(f"wrote {result.kmer_encoder} and {result.bpe_encoder} (masked-token accuracy on held-out windows: "
          f"k-mer {last.get('kmer_valid_accuracy', float('nan')):.3f}, BPE {last.get('bpe_valid_accuracy', float('nan')):.3f}); "
          f"train with --kmer-encoder {result.kmer_encoder} --bpe-encoder {result.bpe_encoder}")


def cmd_export_encoders(args) -> None:
    from .models.checkpoint import BPE_DIR, KMER_DIR, export_encoders

    out = export_encoders(args.checkpoint, args.output, force=args.force)
    print(f"wrote {out / KMER_DIR} and {out / BPE_DIR}; start other models from them with "
          f"--kmer-encoder {out / KMER_DIR} --bpe-encoder {out / BPE_DIR}")


def cmd_baseline(args) -> None:
    from .baseline import train_baselines

    path, baselines = train_baselines(args.train, args.output, valid_path=args.valid, negatives=args.negatives,
                                      valid_fraction=args.valid_fraction, seed=args.seed,
                                      length=args.length or None, cnn=not args.no_cnn, force=args.force)
    for name, metrics in baselines.validation.items():
        print(f"{name}: valid AUC {metrics['auc']:.4f}, AUPRC {metrics['auprc']:.4f}, ACC {metrics['acc']:.4f}")
    print(f"wrote baselines {path} (L2 C = {baselines.linear.c:g})")


def cmd_mutate(args) -> None:
    from .mutagenesis import run_mutagenesis

    if args.from_run:
        from .steps import run_effects

        if args.checkpoint or args.data or args.motif or args.output:
            raise MednaError("--from-run takes the checkpoint, data and motifs of the run; give no CKPT, DATA, "
                             "--motif or -o with it")
        effects = run_effects(args.from_run, flank=args.flank, common=_common_step(args))
        for row in effects.head(10).itertuples():
            print(f"{row.source}: {row.consensus} mean dP {row.mean_delta_p:+.4f} q {row.q_value:.2g} "
                  f"({row.windows_with_site} positives with a site)")
        print(f"wrote {args.from_run}/effects.tsv")
        return
    if not (args.checkpoint and args.data and args.motif and args.output):
        raise MednaError("mutate needs CKPT DATA -o DIR --motif MOTIF (or --from-run RUN)")
    result = run_mutagenesis(args.checkpoint, args.data, args.output, args.motif, flank=args.flank,
                             bootstrap=args.bootstrap, common=_common_step(args), force=args.force)
    for row in result.table.itertuples():
        change = "" if row.group == "wild_type" else \
            f"  (SN {row.delta_sn:+.4f}, AUC {row.delta_auc:+.4f}; {row.windows_mutated} windows, Wilcoxon p {row.wilcoxon_p:.2g})"
        print(f"{row.group}: SN {row.sn:.4f} SP {row.sp:.4f} ACC {row.acc:.4f} AUC {row.auc:.4f}{change}")
    print(f"wrote {args.output}/mutagenesis.tsv")


def cmd_insert(args) -> None:
    if args.from_run:
        from .steps import run_insertion_step

        if args.checkpoint or args.data or args.motif or args.output or args.pair or args.offsets:
            raise MednaError("--from-run takes the checkpoint, data and motifs of the run; give no CKPT, DATA, "
                             "--motif, --pair, --offsets or -o with it")
        result = run_insertion_step(args.from_run, n_backgrounds=args.n_backgrounds, background=args.background,
                                    strand=args.strand, consensus=args.consensus, bootstrap=args.bootstrap,
                                    max_evalue=args.max_evalue, common=_common_step(args))
        if result is not None:
            _print_insertion(result)
        print(f"wrote {args.from_run}/insertion/")
        return
    if not (args.checkpoint and args.data and args.motif and args.output):
        raise MednaError("insert needs CKPT DATA -o DIR --motif MOTIF (or --from-run RUN)")
    from .insertion import run_insertion

    result = run_insertion(args.checkpoint, args.data, args.output, args.motif, pairs=args.pair or [],
                           background=args.background, n_backgrounds=args.n_backgrounds, strand=args.strand,
                           consensus=args.consensus, offsets=args.offsets, bootstrap=args.bootstrap,
                           common=_common_step(args), force=args.force)
    _print_insertion(result)
    print(f"wrote {args.output}/insertion.tsv")


def _print_insertion(result) -> None:
    for entry in result.summary:
        best, control = entry.get("best"), entry.get("control")
        if best is None:
            print(f"{entry['motif']} into {entry['background']}: every placement would change the centre base")
            continue
        print(f"{entry['motif']} into {entry['background']}: best at {best['offset']} ({best['strand']}) "
              f"dP {best['mean_delta_p']:+.4f} [{best['ci_low']:+.4f}, {best['ci_high']:+.4f}]; "
              f"control {control['sequence']} dP {control['mean_delta_p']:+.4f}")
    for entry in result.pair_summary:
        print(f"{entry['motif_a']} + {entry['motif_b']} ({entry['orientation']}) into {entry['background']}: "
              f"best B start {entry['best_offset_b']}, interaction {entry['interaction']:+.4f} "
              f"[{entry['interaction_low']:+.4f}, {entry['interaction_high']:+.4f}]")


def cmd_variants(args) -> None:
    from .variants import run_variants

    table = run_variants(args.checkpoint, args.variants, args.output, data_path=args.data, common=_common_step(args),
                         force=args.force)
    for row in table.itertuples():
        print(f"{row.id}: {row.ref}{row.position}{row.alt} P {row.p_ref:.4f} -> {row.p_alt:.4f} "
              f"(log-odds {row.delta_logit:+.3f}; rank {row.rank_by_drop} of {row.n_changes} by drop)")
    print(f"wrote {args.output}/variants.tsv")


def cmd_evaluate(args) -> None:
    from .evaluate import COLUMNS, evaluate

    rows = evaluate(args.checkpoints, args.tests, args.output, args.batch_size, args.device, args.length or None,
                    negatives=args.negatives, seed=args.seed, precision=args.precision, force=args.force)
    print("\t".join(COLUMNS))
    for row in rows:
        print("\t".join(f"{row[c]:.4f}" if isinstance(row[c], float) else str(row[c]) for c in COLUMNS))
    print(f"wrote {args.output}/metrics.tsv")


def cmd_synth(args) -> None:
    from .synth import Grammar, write_synthetic

    grammar = Grammar.from_file(args.grammar) if args.grammar else Grammar()
    out = write_synthetic(args.output, grammar, args.n_train, args.n_test, args.seed, force=args.force,
                          grammar_file=args.grammar)
    print(f"wrote {out}/train.tsv, test.tsv, sites.tsv, grammar.json")


def _common_step(args):
    from .steps import Common

    return Common(device=args.device, batch_size=args.batch_size, seed=args.seed,
                  length=args.length or None, negatives=args.negatives, precision=args.precision)


def _views(view: str) -> tuple[str, ...]:
    return ("kmer", "bpe") if view == "both" else (view,)


def _cad_arguments(parser: argparse.ArgumentParser, standalone: bool = True) -> None:
    group = parser.add_argument_group("CAD")
    group.add_argument("--layer", type=int, default=-1, help="encoder layer (default: -1, the last)")
    group.add_argument("--heads", default=None, type=_heads, help="'all' or comma-separated 0-based head indices")
    group.add_argument("--min-samples", type=POSITIVE, default=3, help="minimum occurrences per class (default: 3)")
    group.add_argument("--per-sequence-mean", action="store_true",
                       help="one value per window and token (mean of its occurrences) instead of every occurrence")
    group.add_argument("--max-per-class", type=POSITIVE, help="most confident windows kept per class (default: all)")
    if standalone:
        group.add_argument("--kmer-encoder", metavar="DIR", help="read k-mer attention from this stand-alone DNABERT-k")
        group.add_argument("--bpe-encoder", metavar="DIR", help="read BPE attention from this stand-alone DNABERT-2")


def _cad_kwargs(args) -> dict:
    return dict(views=_views(args.view), layer=args.layer, heads=args.heads, min_samples=args.min_samples,
                per_sequence_mean=args.per_sequence_mean, confidence=args.confidence,
                min_selected=args.min_selected, max_per_class=args.max_per_class, kmer_encoder=getattr(args, "kmer_encoder", None),
                bpe_encoder=getattr(args, "bpe_encoder", None), gc_strata=args.gc_strata)


def _cwga_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("CWGA")
    group.add_argument("--top-dims", type=POSITIVE, default=40, help="h_mod dimensions aggregated (default: 40)")
    group.add_argument("--dim-score", default="activation", choices=("activation", "impact"),
                       help="rank dimensions by h_mod (default) or by h_mod - h_kmer (the authors' scripts)")
    group.add_argument("--n-samples", type=Number(int, 2), default=100, help="most confident windows per class (default: 100)")
    group.add_argument("--baseline", choices=("pad", "mask", "zero"),
                       help="IG baseline for sequence tokens (default: pad ids for BPE, zero vectors for k-mers)")
    group.add_argument("--steps", type=POSITIVE, default=50, help="IG steps (default: 50)")
    group.add_argument("--internal-batch-size", type=POSITIVE, default=128,
                       help="interpolated inputs per forward pass; lower it to save memory (default: 128)")
    group.add_argument("--per-dim", action="store_true",
                       help="one IG pass per dimension (K times slower, same result; for verification)")
    group.add_argument("--min-count", type=POSITIVE, default=3,
                       help="drop tokens seen fewer times (both classes together) from cwga_*.tsv (default: 3)")
    group.add_argument("--strand-check", action="store_true",
                       help="also predict and explain each selected window's reverse complement and compare the "
                            "mapped-back attributions (strand_cwga.tsv): twice CWGA's cost")
    group.add_argument("--rc-average", action="store_true",
                       help="for strand-symmetric marks (5mC/5hmC at CpG): store each window's per-base "
                            "attributions as the mean of both strands (implies --strand-check)")


def _cwga_kwargs(args) -> dict:
    return dict(views=_views(args.view), top_dims=args.top_dims, dim_score=args.dim_score, n_samples=args.n_samples,
                confidence=args.confidence, min_selected=args.min_selected, baseline=args.baseline, steps=args.steps,
                internal_batch_size=args.internal_batch_size, per_dim=args.per_dim, min_count=args.min_count,
                progress=not getattr(args, "quiet", False), gc_strata=args.gc_strata, strand_check=args.strand_check,
                rc_average=args.rc_average)


def _strata_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gc-strata", type=POSITIVE, default=5,
                        help="GC-quantile strata of the selected windows for the composition-adjusted token "
                             "columns (cad_adj / contribution_adj, p_adj, q_adj); 1 = unstratified (default: 5)")


def _analysis_arguments(parser: argparse.ArgumentParser, views: bool = True) -> None:
    parser.add_argument("checkpoint", metavar="CKPT")
    parser.add_argument("data", metavar="DATA", help="labelled windows (iDNA-MS TSV or labelled FASTA)")
    parser.add_argument("-o", "--output", required=True, metavar="RUN_DIR")
    if views:
        parser.add_argument("--view", default="both", choices=("kmer", "bpe", "both"))
    parser.add_argument("--confidence", type=PROBABILITY, default=0.9,
                        help="keep correctly classified windows above this probability (default: 0.9)")
    parser.add_argument("--min-selected", type=NON_NEGATIVE, default=MIN_SELECTED,
                        help="per class, take the most confident correctly classified windows up to this many when "
                             "fewer pass --confidence (a weak model), and say so; 0 never relaxes (default: "
                             f"{MIN_SELECTED}, the fewest for which Cohen's d of a large effect is 2.5 standard "
                             "errors from zero)")


def cmd_cad(args) -> None:
    from .steps import run_cad

    result, selection = run_cad(args.checkpoint, args.data, args.output, common=_common_step(args), force=args.force,
                                **_cad_kwargs(args))
    counts = selection.counts
    print(f"selected {counts['positives']} positives and {counts['negatives']} negatives "
          f"(confidence > {args.confidence})")
    for view, table in result.tokens.items():
        top = ", ".join(f"{t} ({d:.2f})" for t, d in zip(table.token[:5], table.cad[:5]))
        print(f"{view}: {len(table)} tokens; top CAd: {top}")
    print(f"wrote {args.output}")


def cmd_cwga(args) -> None:
    from .steps import run_cwga

    result, selection = run_cwga(args.checkpoint, args.data, args.output, common=_common_step(args), force=args.force,
                                 **_cwga_kwargs(args))
    counts = selection.counts
    print(f"attributed {counts['positives']} positives and {counts['negatives']} negatives "
          f"over the top {args.top_dims} h_mod dimensions")
    for view, table in result.tokens.items():
        delta = abs(result.attributions[view].delta).mean()
        top = ", ".join(f"{t} ({c:.2f})" for t, c in zip(table.token[:5], table.scaled_contribution[:5]))
        print(f"{view}: top tokens {top}; mean |convergence delta| {delta:.2e}")
    print(f"wrote {args.output}")


def cmd_ism(args) -> None:
    from .steps import run_ism

    result, selection = run_ism(args.checkpoint, args.data, args.output, confidence=args.confidence,
                                max_per_class=args.max_per_class, min_selected=args.min_selected,
                                strand_check=args.strand_check, common=_common_step(args), force=args.force)
    counts = selection.counts
    profile = result.mean_drop[selection.labels == 1].mean(axis=0)
    top = ", ".join(str(i + 1) for i in np.argsort(-profile)[:5])
    print(f"scored {3 * result.scores.shape[1]} substitutions of {counts['positives']} positives and "
          f"{counts['negatives']} negatives; positions that matter most in positives: {top}")
    print(f"wrote {args.output}")


def cmd_embed(args) -> None:
    from .steps import run_embed

    result = run_embed(args.checkpoint, args.data, args.output, stages=args.stages, max_windows=args.max_windows,
                       n_neighbors=args.n_neighbors, min_dist=args.min_dist, color_by=args.color_by,
                       common=_common_step(args), force=args.force)
    print(f"mapped {len(result.ids)} windows; 15-NN accuracy per stage: "
          + ", ".join(f"{row.stage} {row.knn_accuracy:.3f}" for row in result.numbers.itertuples()))
    print(f"wrote {args.output}/embed.png, embed.tsv and embeddings.npz")


def cmd_faithfulness(args) -> None:
    from .steps import Common, run_faithfulness

    result = run_faithfulness(args.run_dir, truth=args.truth,
                              common=Common(device=args.device, batch_size=args.batch_size, seed=args.seed,
                                            length=args.length or None, precision=args.precision))
    print(result.table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"wrote {args.run_dir}/faithfulness.tsv")


def cmd_install_meme(args) -> None:
    from .motifs.meme import install_meme

    install_meme(args.prefix, source=args.source, jobs=args.jobs, force=args.force)


def _export_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("export")
    group.add_argument("--mode", default="seqlets", choices=("tokens", "seqlets", "sequences"),
                       help="tokens: top vs bottom tokens; seqlets: windows at top-scoring positions vs "
                            "position-matched negatives; sequences: selected positives vs negatives (default: seqlets)")
    group.add_argument("--top-tokens", type=POSITIVE, default=100, help="tokens per side in tokens mode (default: 100)")
    group.add_argument("--window", type=Number(int, 3), default=12, help="seqlet width in bp (default: 12)")
    group.add_argument("--seqlets-per-sequence", type=POSITIVE, default=2, help="peaks per positive (default: 2)")
    group.add_argument("--min-score", type=FINITE, default=0.0, help="seqlet peaks must score above this (default: 0)")


def _export_options(args):
    from .motifs.export import ExportOptions

    return ExportOptions(mode=args.mode, top_tokens=args.top_tokens, window=args.window,
                         per_sequence=args.seqlets_per_sequence, min_score=args.min_score, seed=args.seed)


def _motifs_arguments(parser: argparse.ArgumentParser) -> None:
    from .motifs.tomtom import DISTANCES

    _export_arguments(parser)
    group = parser.add_argument_group("STREME, TOMTOM and JASPAR")
    group.add_argument("--nmotifs", type=NON_NEGATIVE, default=0,
                       help="STREME motifs per source, significant or not; 0 = STREME's own stopping rule at "
                            "--max-evalue (default: 0)")
    group.add_argument("--max-evalue", type=Number(float, 0, 1, open_low=True), default=0.05,
                       help="a motif is significant (discovered) only at STREME held-out E <= this; the others are "
                            "kept, flagged significant = false (default: 0.05)")
    group.add_argument("--match-thresh", type=Number(float, 0, 1, open_low=True), default=0.05,
                       help="a database match names a significant motif only at TOMTOM E <= this (p x the number "
                            "of database motifs searched) (default: 0.05)")
    group.add_argument("--minw", type=Number(int, 3, 30), default=4, help="STREME minimum width (default: 4)")
    group.add_argument("--maxw", type=Number(int, 3, 30), default=10, help="STREME maximum width (default: 10)")
    group.add_argument("--objfun", default="de", choices=("de", "cd"), help="STREME objective (default: de)")
    group.add_argument("--order", type=Number(int, 0, 5), default=2, help="STREME background/shuffle order (default: 2)")
    group.add_argument("--strands", default="single", choices=("single", "both"),
                       help="search the given strand only (windows are oriented) or both (default: single)")
    group.add_argument("--jaspar-release", default="JASPAR2024")
    group.add_argument("--jaspar-tax", default="vertebrates", type=_tax,
                       help="vertebrates|insects|plants|fungi|nematodes|urochordates|all, or a comma list")
    group.add_argument("--motif-db", metavar="FILE", help="your own MEME-format motif file instead of JASPAR")
    group.add_argument("--dist", default="pearson", choices=DISTANCES, help="TOMTOM distance (default: pearson)")
    group.add_argument("--min-overlap", type=POSITIVE, default=5, help="TOMTOM minimum overlap (default: 5)")
    group.add_argument("--tomtom-thresh", type=Number(float, 0, 1, open_low=True), default=0.5, help="TOMTOM q-value threshold (default: 0.5)")
    group.add_argument("--no-raw", action="store_true", help="skip the raw-data STREME baseline")
    group.add_argument("--no-linear", action="store_true",
                       help="skip the linear-baseline source (a position-specific logistic regression fitted on "
                            "the run's windows; its weights become a positional logo and seqlets for STREME)")
    group.add_argument("--controls", default="negatives", choices=("negatives", "shuffled", "matched"),
                       help="what STREME contrasts each source with: the negatives; shuffles of the primaries "
                            "(keeping --order-mers); or negatives drawn to the positives' GC distribution, bin by "
                            "bin (matching.tsv says how well) (default: negatives)")
    group.add_argument("--match-cpg", action="store_true",
                       help="match CpG observed/expected (tertiles) as well as GC, for --controls matched and the "
                            "per-motif composition check (5mC/5hmC data)")
    group.add_argument("--permute-labels", action="store_true",
                       help="also repeat motif discovery with the labels permuted (seeded by --seed) into "
                            "RUN/motifs/null: what each source 'finds' under the null")
    group.add_argument("--meme-bin", metavar="DIR", help="folder holding streme and tomtom")
    group.add_argument("--backend", default="meme", choices=("meme", "memelite"),
                       help="TOMTOM from the MEME binary (--dist applies) or from memelite (numba, Euclidean "
                            "distance, no compiler; pip install 'medna-interp[memelite]') (default: meme)")


def _motifs_kwargs(args) -> dict:
    from .motifs.discover import DatabaseChoice
    from .motifs.streme import StremeOptions
    from .motifs.tomtom import TomtomOptions

    return dict(
        export_options=_export_options(args),
        streme=StremeOptions(nmotifs=args.nmotifs, thresh=args.max_evalue, minw=args.minw, maxw=args.maxw,
                             objfun=args.objfun, order=args.order, strands=args.strands, seed=args.seed),
        tomtom=TomtomOptions(dist=args.dist, min_overlap=args.min_overlap, thresh=args.tomtom_thresh,
                             match_thresh=args.match_thresh),
        database=DatabaseChoice(release=args.jaspar_release, tax=args.jaspar_tax, motif_db=args.motif_db),
        meme_bin=args.meme_bin, raw_baseline=not args.no_raw, controls=args.controls, match_cpg=args.match_cpg,
        backend=args.backend, linear=not args.no_linear, permute_labels=args.permute_labels,
    )


def cmd_export(args) -> None:
    from .motifs.export import export

    out = args.output or f"{args.run_dir}/export/{args.source}_{args.view}_{args.mode}"
    result = export(args.run_dir, args.source, args.view, out, _export_options(args), force=args.force)
    print(f"wrote {result.primary} ({result.n_primary}) and {result.control} ({result.n_control})")


def _print_motifs(table) -> None:
    for row in table.itertuples():
        if not row.motif:
            print(f"{row.source}: {row.note}")
        elif row.significant:
            match = f"{row.best_match_name} ({row.best_match_id}, E={row.best_match_e:.2g})" if row.named \
                else "not named by a database match"
            print(f"{row.source}: {row.consensus} E={row.evalue:.2g}  {match}")
    for source, rows in table[table.motif != ""].groupby("source", sort=False):
        if not rows.significant.any():
            print(f"{source}: no significant motif ({len(rows)} above the E-value threshold)")


def cmd_motifs(args) -> None:
    from .steps import run_motifs

    result = run_motifs(args.run_dir, seed=args.seed, length=args.length or None, **_motifs_kwargs(args))
    _print_motifs(result.table)
    print(f"wrote {args.run_dir}/motifs/motifs.tsv")


def cmd_report(args) -> None:
    from .report import write_report

    html_path, json_path = write_report(args.run_dir)
    print(f"wrote {html_path} and {json_path}")


def _name_value(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name or not value:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE (e.g. 6mA_D.melanogaster=6mA), got {text!r}")
    return name, value


def cmd_summary(args) -> None:
    from .report.summary import summarize

    files = summarize(args.run_dirs, args.output, evaluation=args.evaluation,
                      modifications=dict(args.modification or []), force=args.force)
    print(f"wrote {files.tsv} and {files.html}")


def _run_options(args):
    from .pipeline import RunOptions

    return RunOptions(cad=_cad_kwargs(args), cwga=_cwga_kwargs(args), motifs=_motifs_kwargs(args),
                      insertion=dict(n_backgrounds=args.insert_backgrounds, max_evalue=args.insert_evalue),
                      embed=None if args.no_embed else {})


def cmd_run(args) -> None:
    from .pipeline import run

    status = run(args.checkpoint, args.data, args.output, _run_options(args), _common_step(args), force=args.force)
    print(f"steps: {', '.join(f'{k} {v}' for k, v in status.items())}")
    print(f"report: {args.output}/report.html")


def cmd_demo(args) -> None:
    from .demo import demo

    report = demo(args.output, checkpoint=args.checkpoint, n=args.n, seed=args.seed, device=args.device,
                  force=args.force)
    print(f"\nThe demo report is at {report}\nOpen it in a browser; it needs no network.")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="medna-interp",
        description="Interpretability and motif discovery for MEDNA-DFM DNA-methylation classifiers.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    def force(p, text: str = FORCE_HELP) -> None:
        p.add_argument("--force", action="store_true", help=text)

    p = commands.add_parser("info", help="describe a checkpoint (config, parameter counts, tokenizers)")
    p.add_argument("checkpoint", metavar="CKPT")
    p.set_defaults(handler=cmd_info)

    p = commands.add_parser("predict", help="P(modified) for every window of a data file")
    p.add_argument("checkpoint", metavar="CKPT")
    p.add_argument("data", metavar="DATA", help="iDNA-MS TSV, FASTA or one sequence per line (optionally .gz)")
    p.add_argument("-o", "--output", required=True, help="predictions TSV to write")
    force(p)
    _common(p)
    p.set_defaults(handler=cmd_predict)

    p = commands.add_parser("import-checkpoint", help="convert the authors' Fusion .pt into a checkpoint directory")
    p.add_argument("fusion", metavar="FUSION_PT")
    p.add_argument("--kmer-encoder", required=True, metavar="DIR", help="DNABERT-6mer directory")
    p.add_argument("--bpe-encoder", required=True, metavar="DIR", help="DNABERT-2 directory")
    p.add_argument("-o", "--output", required=True, metavar="OUT")
    p.add_argument("--bpe-pooling", default="unmasked_mean", choices=("unmasked_mean", "masked_mean"),
                   help="unmasked_mean reproduces the authors' predictions (default)")
    force(p)
    p.set_defaults(handler=cmd_import_checkpoint)

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
                        "(default: last from scratch, best from pretrained encoders)")
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
    force(p)
    _common(p)
    p.set_defaults(handler=cmd_train)

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
    force(p)
    _common(p, data=False, precision=False)
    p.set_defaults(handler=cmd_pretrain)

    p = commands.add_parser("export-encoders", help="write a trained model's encoders as DNABERT-6 and DNABERT-2 "
                                                    "directories, to start other models from")
    p.add_argument("checkpoint", metavar="CKPT")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="directory for kmer/ and bpe/")
    force(p)
    p.set_defaults(handler=cmd_export_encoders)

    p = commands.add_parser("baseline", help="linear and CNN baselines on the split 'train' uses")
    p.add_argument("train", metavar="TRAIN", help="labelled training data, or positives with --negatives")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="baseline directory to write")
    p.add_argument("--valid", metavar="FILE", help="validation data (default: a stratified split of TRAIN)")
    p.add_argument("--valid-fraction", type=FRACTION, default=0.1, help="held-out fraction when no --valid (0.1)")
    p.add_argument("--no-cnn", action="store_true", help="fit the linear baseline only")
    force(p)
    _common(p, precision=False)
    p.set_defaults(handler=cmd_baseline)

    p = commands.add_parser("evaluate", help="ACC/Sn/Sp/MCC/AUC/AUPRC of checkpoints on test sets")
    p.add_argument("checkpoints", metavar="CKPT", nargs="+", help="checkpoints and baseline directories")
    p.add_argument("--test", dest="tests", metavar="TEST", nargs="+", required=True, help="labelled test file(s)")
    p.add_argument("-o", "--output", required=True, metavar="DIR")
    force(p)
    _common(p)
    p.set_defaults(handler=cmd_evaluate)

    p = commands.add_parser("mutate", help="mutate named motifs in the positives and measure what the model loses")
    p.add_argument("checkpoint", metavar="CKPT", nargs="?")
    p.add_argument("data", metavar="DATA", nargs="?", help="labelled windows")
    p.add_argument("-o", "--output", metavar="DIR")
    p.add_argument("--from-run", metavar="RUN",
                   help="ablate the FIMO sites of every motif of a run in its positives; writes RUN/effects.tsv")
    p.add_argument("--motif", action="append", metavar="IUPAC[=REPL]",
                   help="a motif to mutate, e.g. GAGG=CTCC (explicit replacement) or GAGG (shuffle the site "
                        "and its flanks, keeping the window's composition); repeat for several")
    p.add_argument("--flank", type=NON_NEGATIVE, default=3, help="bases either side shuffled with a site (default: 3)")
    p.add_argument("--bootstrap", type=NON_NEGATIVE, default=1000,
                   help="paired bootstrap resamples for 95 %% intervals; 0 = none (default: 1000)")
    force(p)
    _common(p)
    p.set_defaults(handler=cmd_mutate)

    p = commands.add_parser("insert", help="place motifs into neutral windows: positional profiles, pair spacing")
    p.add_argument("checkpoint", metavar="CKPT", nargs="?")
    p.add_argument("data", metavar="DATA", nargs="?", help="windows the backgrounds are made from")
    p.add_argument("-o", "--output", metavar="DIR")
    p.add_argument("--from-run", metavar="RUN",
                   help="insert every motif of a run with STREME E <= --max-evalue; writes RUN/insertion/")
    p.add_argument("--motif", action="append", metavar="IUPAC", help="a motif to place, e.g. GAGG; repeat for several")
    p.add_argument("--pair", action="append", metavar="A,B",
                   help="A at its best offset, B swept over every other offset, both orientations; repeatable")
    p.add_argument("--background", default="both", choices=("both", "shuffled", "negatives"),
                   help="dinucleotide shuffles of the windows (centre kept), the negative windows, or both "
                        "(default: both)")
    p.add_argument("--n-backgrounds", type=POSITIVE, default=200,
                   help="shuffles made, and most negatives used (default: 200)")
    p.add_argument("--strand", default="both", choices=("both", "+", "-"), help="- places the reverse complement")
    p.add_argument("--consensus", action="store_true",
                   help="place each discovered motif's top base per position instead of sampling from its matrix")
    p.add_argument("--offsets", metavar="START[-END]", help="0-based starts to place single motifs at (default: all)")
    p.add_argument("--bootstrap", type=NON_NEGATIVE, default=1000,
                   help="resamples of the backgrounds for 95 %% intervals; 0 = none (default: 1000)")
    p.add_argument("--max-evalue", type=NON_NEGATIVE_FLOAT, default=0.05,
                   help="with --from-run: insert motifs with STREME E at most this (default: 0.05)")
    force(p)
    _common(p)
    p.set_defaults(handler=cmd_insert)

    p = commands.add_parser("variants", help="effect of single-base variants, ranked among all changes of the window")
    p.add_argument("checkpoint", metavar="CKPT")
    p.add_argument("variants", metavar="VARIANTS",
                   help="TSV: id, position (1-based), ref, alt and sequence (the window) or window_id")
    p.add_argument("-o", "--output", required=True, metavar="DIR")
    p.add_argument("--data", metavar="DATA", help="windows that window_id refers to")
    force(p)
    _common(p)
    p.set_defaults(handler=cmd_variants)

    p = commands.add_parser("cad", help="contrastive attention Cohen's d per token (and per position)")
    _analysis_arguments(p)
    _strata_argument(p)
    _cad_arguments(p)
    force(p)
    _common(p)
    p.set_defaults(handler=cmd_cad)

    p = commands.add_parser("cwga", help="contrastive weighted gradient attribution (Integrated Gradients)")
    _analysis_arguments(p)
    _strata_argument(p)
    _cwga_arguments(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    force(p)
    _common(p)
    p.set_defaults(handler=cmd_cwga)

    p = commands.add_parser("ism", help="saturation mutagenesis of the confident windows: a per-base source for motifs")
    _analysis_arguments(p, views=False)  # ISM changes bases, and both views see every change
    p.add_argument("--max-per-class", type=Number(int, 2), default=200,
                   help="most confident windows per class scored (3 x L variants each; default: 200)")
    p.add_argument("--strand-check", action="store_true",
                   help="also mutate each window's reverse complement and compare the mapped-back drops "
                        "(strand_ism.tsv): twice the cost")
    force(p)
    _common(p)
    p.set_defaults(handler=cmd_ism)

    p = commands.add_parser("embed", help="UMAP of four processing stages with separability numbers (paper Fig. 3)")
    p.add_argument("checkpoint", metavar="CKPT")
    p.add_argument("data", metavar="DATA", help="labelled windows (iDNA-MS TSV or labelled FASTA)")
    p.add_argument("-o", "--output", required=True, metavar="RUN_DIR")
    p.add_argument("--stages", nargs="+", default=["raw", "post_dnabert", "post_film", "post_moe"], metavar="STAGE",
                   help="raw, post_dnabert, post_film, post_moe (default: all four)")
    p.add_argument("--max-windows", type=Number(int, 20), default=2000,
                   help="windows mapped, a class-stratified seeded sample (default: 2000)")
    p.add_argument("--n-neighbors", type=Number(int, 2), default=15, help="UMAP n_neighbors (default: 15)")
    p.add_argument("--min-dist", type=Number(float, 0, 1), default=0.1, help="UMAP min_dist (default: 0.1)")
    p.add_argument("--color-by", metavar="MOTIF",
                   help="colour positives by a motif of RUN_DIR/motifs/motifs.tsv or an IUPAC string (e.g. GAGG)")
    force(p)
    _common(p)
    p.set_defaults(handler=cmd_embed)

    p = commands.add_parser("faithfulness", help="deletion curves of every per-base explanation of a run, vs random")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--truth", metavar="SITES", help="planted sites (sites.tsv from 'synth'): adds site AUROC/AUPRC")
    p.add_argument("--length", type=NON_NEGATIVE, default=41, help="window length; 0 accepts any (default: 41)")
    _common(p, data=False)
    p.set_defaults(handler=cmd_faithfulness)

    p = commands.add_parser("install-meme", help="build STREME and TOMTOM (MEME 5.4.1) on this machine")
    p.add_argument("--prefix", help="install prefix (default: <venv>/opt/meme-5.4.1 or a per-user folder)")
    p.add_argument("--source", metavar="TARBALL", help="a downloaded pymemesuite-0.1.0a4.tar.gz (else pip downloads it)")
    p.add_argument("--jobs", type=POSITIVE, default=2)
    force(p, "rebuild even if installed (a prefix is replaced only if it holds an earlier build)")
    p.set_defaults(handler=cmd_install_meme)

    p = commands.add_parser("export", help="FASTA of CAD/CWGA-ranked tokens, seqlets or sequences for STREME")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--source", required=True, choices=("cad", "cwga"))
    p.add_argument("--view", required=True, choices=("kmer", "bpe"))
    p.add_argument("-o", "--output", metavar="DIR", help="default: RUN_DIR/export/SOURCE_VIEW_MODE")
    p.add_argument("--seed", type=SEED, default=0)
    force(p)
    _export_arguments(p)
    p.set_defaults(handler=cmd_export)

    p = commands.add_parser("motifs", help="export -> STREME -> TOMTOM vs JASPAR for every source + raw baseline")
    p.add_argument("run_dir", metavar="RUN_DIR")
    _motifs_arguments(p)
    p.add_argument("--seed", type=SEED, default=0)
    p.add_argument("--length", type=NON_NEGATIVE, default=41, help="window length; 0 accepts any (default: 41)")
    p.set_defaults(handler=cmd_motifs)

    p = commands.add_parser("report", help="write RUN_DIR/report.html (self-contained) and report.json")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.set_defaults(handler=cmd_report)

    p = commands.add_parser("summary", help="one page over many run directories: metrics, best motifs against "
                                           "raw STREME, logos, transfer heatmap, links to each report")
    p.add_argument("run_dirs", metavar="RUN_DIR", nargs="+", help="run directories with a report, named by folder")
    p.add_argument("-o", "--output", required=True, metavar="DIR")
    p.add_argument("--evaluation", metavar="DIR", help="an evaluate folder: its transfer heatmap and AUC matrix")
    p.add_argument("--modification", metavar="NAME=MOD", nargs="+", type=_name_value,
                   help="modification type of each dataset (e.g. 6mA_D.melanogaster=6mA)")
    force(p)
    p.set_defaults(handler=cmd_summary)

    p = commands.add_parser("run", help="selection -> CAD -> CWGA -> motifs -> report, resuming finished steps")
    _analysis_arguments(p)
    _strata_argument(p)
    _cad_arguments(p, standalone=False)
    _cwga_arguments(p)
    _motifs_arguments(p)
    p.add_argument("--insert-backgrounds", type=POSITIVE, default=100,
                   help="backgrounds of each kind for the insertion step (default: 100)")
    p.add_argument("--insert-evalue", type=NON_NEGATIVE_FLOAT, default=0.05,
                   help="the insertion step places motifs with STREME E at most this (default: 0.05)")
    p.add_argument("--no-embed", action="store_true",
                   help="leave out the representations step (UMAP maps; the slowest part of a small run)")
    force(p, "rerun every step; also write into a folder medna-interp did not make (only its own files are "
             "replaced there)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    _common(p)
    p.set_defaults(handler=cmd_run)

    p = commands.add_parser("demo", help="run everything on the shipped demo checkpoint and fresh synthetic data")
    p.add_argument("-o", "--output", default="demo_run", metavar="DIR", help="(default: demo_run)")
    p.add_argument("--checkpoint", metavar="CKPT", help="default: model/demo of this checkout")
    p.add_argument("--n", type=Number(int, 100), default=2000, help="synthetic windows to explain (default: 2000)")
    p.add_argument("--seed", type=SEED, default=11, help="seed of the fresh synthetic set (default: 11)")
    p.add_argument("--device", default="auto", type=_device)
    force(p, "rerun every step")
    p.set_defaults(handler=cmd_demo)

    p = commands.add_parser("synth", help="synthetic windows with a planted motif grammar")
    p.add_argument("-o", "--output", required=True, metavar="DIR")
    p.add_argument("--grammar", metavar="FILE", help="YAML/JSON grammar (default: GAGG core AND A-tract)")
    p.add_argument("--n-train", type=NON_NEGATIVE, default=4000)
    p.add_argument("--n-test", type=NON_NEGATIVE, default=1000)
    p.add_argument("--seed", type=SEED, default=0)
    force(p)
    p.set_defaults(handler=cmd_synth)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as stop:  # a parser error (status 2) or --help/--version (0)
        return stop.code if isinstance(stop.code, int) else 0
    from . import outputs

    outputs.COMMAND = ["medna-interp", *(sys.argv[1:] if argv is None else argv)]
    try:
        if getattr(args, "device", None) is not None:
            from .device import resolve_device

            resolve_device(args.device)  # a missing GPU is found before any work
        args.handler(args)
    except MednaError as error:
        hint = f"; {error.hint}" if error.hint else ""
        print(f"medna-interp: error: {' '.join(str(error).split())}{hint}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("medna-interp: interrupted", file=sys.stderr)
        return 130
    finally:
        outputs.COMMAND = None
    return 0


if __name__ == "__main__":
    sys.exit(main())
