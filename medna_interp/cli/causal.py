"""Causal commands: mutate (motif ablation), insert (motif placement and pair spacing), variants."""

from __future__ import annotations

from ..core.errors import MednaError
from .options import (NON_NEGATIVE, NON_NEGATIVE_FLOAT, POSITIVE, common_options, execution_options,
                                      force_flag)


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


def cmd_mutate(args) -> None:
    from ..causal.mutagenesis import run_mutagenesis

    if args.from_run:
        from ..runs.follow_up import run_effects

        if args.checkpoint or args.data or args.motif or args.output:
            raise MednaError("--from-run takes the checkpoint, data and motifs of the run; give no CKPT, DATA, "
                             "--motif or -o with it")
        effects = run_effects(args.from_run, flank=args.flank, common=common_options(args))
        for row in effects.head(10).itertuples():
            print(f"{row.source}: {row.consensus} mean dP {row.mean_delta_p:+.4f} q {row.q_value:.2g} "
                  f"({row.windows_with_site} positives with a site)")
        print(f"wrote {args.from_run}/effects.tsv")
        return
    if not (args.checkpoint and args.data and args.motif and args.output):
        raise MednaError("mutate needs CKPT DATA -o DIR --motif MOTIF (or --from-run RUN)")
    result = run_mutagenesis(args.checkpoint, args.data, args.output, args.motif, flank=args.flank,
                             bootstrap=args.bootstrap, common=common_options(args), force=args.force)
    for row in result.table.itertuples():
        change = "" if row.group == "wild_type" else \
            f"  (SN {row.delta_sn:+.4f}, AUC {row.delta_auc:+.4f}; {row.windows_mutated} windows, Wilcoxon p {row.wilcoxon_p:.2g})"
        print(f"{row.group}: SN {row.sn:.4f} SP {row.sp:.4f} ACC {row.acc:.4f} AUC {row.auc:.4f}{change}")
    print(f"wrote {args.output}/mutagenesis.tsv")


def add_mutate(commands) -> None:
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
    force_flag(p)
    execution_options(p)
    p.set_defaults(handler=cmd_mutate)


def cmd_insert(args) -> None:
    if args.from_run:
        from ..runs.follow_up import run_insertion_step

        if args.checkpoint or args.data or args.motif or args.output or args.pair or args.offsets:
            raise MednaError("--from-run takes the checkpoint, data and motifs of the run; give no CKPT, DATA, "
                             "--motif, --pair, --offsets or -o with it")
        result = run_insertion_step(args.from_run, n_backgrounds=args.n_backgrounds, background=args.background,
                                    strand=args.strand, consensus=args.consensus, bootstrap=args.bootstrap,
                                    max_evalue=args.max_evalue, common=common_options(args))
        if result is not None:
            _print_insertion(result)
        print(f"wrote {args.from_run}/insertion/")
        return
    if not (args.checkpoint and args.data and args.motif and args.output):
        raise MednaError("insert needs CKPT DATA -o DIR --motif MOTIF (or --from-run RUN)")
    from ..causal.insertion_run import run_insertion

    result = run_insertion(args.checkpoint, args.data, args.output, args.motif, pairs=args.pair or [],
                           background=args.background, n_backgrounds=args.n_backgrounds, strand=args.strand,
                           consensus=args.consensus, offsets=args.offsets, bootstrap=args.bootstrap,
                           common=common_options(args), force=args.force)
    _print_insertion(result)
    print(f"wrote {args.output}/insertion.tsv")


def add_insert(commands) -> None:
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
    force_flag(p)
    execution_options(p)
    p.set_defaults(handler=cmd_insert)


def cmd_variants(args) -> None:
    from ..causal.variants import run_variants

    table = run_variants(args.checkpoint, args.variants, args.output, data_path=args.data, common=common_options(args),
                         force=args.force)
    for row in table.itertuples():
        print(f"{row.id}: {row.ref}{row.position}{row.alt} P {row.p_ref:.4f} -> {row.p_alt:.4f} "
              f"(log-odds {row.delta_logit:+.3f}; rank {row.rank_by_drop} of {row.n_changes} by drop)")
    print(f"wrote {args.output}/variants.tsv")


def add_variants(commands) -> None:
    p = commands.add_parser("variants", help="effect of single-base variants, ranked among all changes of the window")
    p.add_argument("checkpoint", metavar="CKPT")
    p.add_argument("variants", metavar="VARIANTS",
                   help="TSV: id, position (1-based), ref, alt and sequence (the window) or window_id")
    p.add_argument("-o", "--output", required=True, metavar="DIR")
    p.add_argument("--data", metavar="DATA", help="windows that window_id refers to")
    force_flag(p)
    execution_options(p)
    p.set_defaults(handler=cmd_variants)
