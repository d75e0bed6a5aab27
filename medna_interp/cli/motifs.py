"""Motif commands: install-meme, export, modisco, motifs, report and summary."""

from __future__ import annotations

from .options import (NON_NEGATIVE, POSITIVE, SEED, export_arguments, export_options, force_flag,
                                      motifs_arguments, motifs_kwargs, name_value)


def _print_motifs(table) -> None:
    for row in table.itertuples():
        if not row.motif:
            print(f"{row.source}: {row.note}")
        elif row.significant:
            match = f"{row.best_match_name} ({row.best_match_id}, E={row.best_match_e:.2g})" if row.named \
                else "not named by a database match"
            print(f"{row.source}: {row.consensus} E={row.evalue:.2g} (run E={row.run_evalue:.2g})  {match}")
    for source, rows in table[table.motif != ""].groupby("source", sort=False):
        if not rows.significant.any():
            print(f"{source}: no significant motif ({len(rows)} above the E-value threshold)")


def cmd_install_meme(args) -> None:
    from ..motifs.meme import install_meme

    install_meme(args.prefix, source=args.source, jobs=args.jobs, force=args.force)


def add_install_meme(commands) -> None:
    p = commands.add_parser("install-meme", help="build STREME and TOMTOM (MEME 5.4.1) on this machine")
    p.add_argument("--prefix", help="install prefix (default: <venv>/opt/meme-5.4.1 or a per-user folder)")
    p.add_argument("--source", metavar="TARBALL", help="a downloaded pymemesuite-0.1.0a4.tar.gz (else pip downloads it)")
    p.add_argument("--jobs", type=POSITIVE, default=2)
    force_flag(p, "rebuild even if installed (a prefix is replaced only if it holds an earlier build)")
    p.set_defaults(handler=cmd_install_meme)


def cmd_export(args) -> None:
    from ..motifs.export import export

    out = args.output or f"{args.run_dir}/export/{args.source}_{args.view}_{args.mode}"
    result = export(args.run_dir, args.source, args.view, out, export_options(args), force=args.force)
    print(f"wrote {result.primary} ({result.n_primary}) and {result.control} ({result.n_control})")


def add_export(commands) -> None:
    p = commands.add_parser("export", help="FASTA of CAD/CWGA-ranked tokens, seqlets or sequences for STREME")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--source", required=True, choices=("cad", "cwga"))
    p.add_argument("--view", required=True, choices=("kmer", "bpe"))
    p.add_argument("-o", "--output", metavar="DIR", help="default: RUN_DIR/export/SOURCE_VIEW_MODE")
    p.add_argument("--seed", type=SEED, default=0)
    force_flag(p)
    export_arguments(p)
    p.set_defaults(handler=cmd_export)


def cmd_modisco(args) -> None:
    from ..motifs.modisco import ModiscoOptions, modisco

    out = args.output or f"{args.run_dir}/modisco/{args.source}_{args.view}"
    options = ModiscoOptions(window=args.window, flank=args.flank, trim_to=args.trim_to, min_seqlets=args.min_seqlets,
                             min_cluster=args.min_cluster)
    result = modisco(args.run_dir, args.source, args.view, out, options, seed=args.seed, force=args.force)
    for motif in result.motifs:
        print(f"{motif.id}: {motif.consensus} ({motif.nsites} seqlets, {motif.info['sign']}) held-out E={motif.evalue:.2g}")
    print(f"wrote {out}/patterns.tsv ({len(result.motifs)} motifs from {result.n_windows} positives)")


def add_modisco(commands) -> None:
    p = commands.add_parser("modisco", help="TF-MoDISco (modisco-lite) on a run's CWGA or ISM attributions, "
                                           "each motif tested on held-out windows")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--source", required=True, choices=("cwga", "ism"))
    p.add_argument("--view", required=True, choices=("kmer", "bpe", "bases"), help="kmer or bpe for cwga, bases for ism")
    p.add_argument("-o", "--output", metavar="DIR", help="default: RUN_DIR/modisco/SOURCE_VIEW")
    p.add_argument("--window", type=POSITIVE, default=6, help="seqlet core width (default: 6)")
    p.add_argument("--flank", type=NON_NEGATIVE, default=3, help="seqlet flank (default: 3)")
    p.add_argument("--trim-to", type=POSITIVE, default=10, help="pattern width after trimming (default: 10)")
    p.add_argument("--min-seqlets", type=POSITIVE, default=20, help="seqlets a metacluster needs (default: 20)")
    p.add_argument("--min-cluster", type=POSITIVE, default=10, help="seqlets a motif needs (default: 10)")
    p.add_argument("--seed", type=SEED, default=0, help="picks the held-out half (default: 0)")
    force_flag(p)
    p.set_defaults(handler=cmd_modisco)


def cmd_motifs(args) -> None:
    from ..core.settings import Common
    from ..runs.follow_up import run_motifs

    result = run_motifs(args.run_dir, common=Common(seed=args.seed, length=args.length or None), **motifs_kwargs(args))
    _print_motifs(result.table)
    print(f"wrote {args.run_dir}/motifs/motifs.tsv")


def add_motifs(commands) -> None:
    p = commands.add_parser("motifs", help="export -> STREME -> TOMTOM vs JASPAR for every source + raw baseline")
    p.add_argument("run_dir", metavar="RUN_DIR")
    motifs_arguments(p)
    p.add_argument("--seed", type=SEED, default=0)
    p.add_argument("--length", type=NON_NEGATIVE, default=41, help="window length; 0 accepts any (default: 41)")
    p.set_defaults(handler=cmd_motifs)


def cmd_report(args) -> None:
    from ..reporting import write_report

    html_path, json_path = write_report(args.run_dir)
    print(f"wrote {html_path} and {json_path}")


def add_report(commands) -> None:
    p = commands.add_parser("report", help="write RUN_DIR/report.html (self-contained) and report.json")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.set_defaults(handler=cmd_report)


def cmd_summary(args) -> None:
    from ..reporting.summary import summarize

    files = summarize(args.run_dirs, args.output, evaluation=args.evaluation,
                      modifications=dict(args.modification or []), force=args.force)
    print(f"wrote {files.tsv} and {files.html}")


def add_summary(commands) -> None:
    p = commands.add_parser("summary", help="one page over many run directories: metrics, best motifs against "
                                           "raw STREME, logos, transfer heatmap, links to each report")
    p.add_argument("run_dirs", metavar="RUN_DIR", nargs="+", help="run directories with a report, named by folder")
    p.add_argument("-o", "--output", required=True, metavar="DIR")
    p.add_argument("--evaluation", metavar="DIR", help="an evaluate folder: its transfer heatmap and AUC matrix")
    p.add_argument("--modification", metavar="NAME=MOD", nargs="+", type=name_value,
                   help="modification type of each dataset (e.g. 6mA_D.melanogaster=6mA)")
    force_flag(p)
    p.set_defaults(handler=cmd_summary)
