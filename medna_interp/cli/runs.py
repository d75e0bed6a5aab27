"""The whole chain: run (every step, resuming) and demo (the shipped model on fresh synthetic data)."""

from __future__ import annotations

from .options import (NON_NEGATIVE_FLOAT, Number, POSITIVE, SEED, analysis_arguments, cad_arguments,
                                      cad_kwargs, common_options, cwga_arguments, cwga_kwargs, device_name,
                                      execution_options, force_flag, motifs_arguments, motifs_kwargs, strata_argument)


def _run_options(args):
    from ..pipeline import RunOptions

    return RunOptions(cad=cad_kwargs(args), cwga=cwga_kwargs(args), motifs=motifs_kwargs(args),
                      insertion=dict(n_backgrounds=args.insert_backgrounds, max_evalue=args.insert_evalue),
                      embed=None if args.no_embed else {})


def cmd_run(args) -> None:
    from ..pipeline import run

    status = run(args.checkpoint, args.data, args.output, _run_options(args), common_options(args), force=args.force)
    print(f"steps: {', '.join(f'{k} {v}' for k, v in status.items())}")
    print(f"report: {args.output}/report.html")


def add_run(commands) -> None:
    p = commands.add_parser("run", help="selection -> CAD -> CWGA -> motifs -> report, resuming finished steps")
    analysis_arguments(p)
    strata_argument(p)
    cad_arguments(p, standalone=False)
    cwga_arguments(p)
    motifs_arguments(p)
    p.add_argument("--insert-backgrounds", type=POSITIVE, default=100,
                   help="backgrounds of each kind for the insertion step (default: 100)")
    p.add_argument("--insert-evalue", type=NON_NEGATIVE_FLOAT, default=0.05,
                   help="the insertion step places motifs with STREME E at most this (default: 0.05)")
    p.add_argument("--no-embed", action="store_true",
                   help="leave out the representations step (UMAP maps; the slowest part of a small run)")
    force_flag(p, "rerun every step; also write into a folder medna-interp did not make (only its own files are "
             "replaced there)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    execution_options(p)
    p.set_defaults(handler=cmd_run)


def cmd_demo(args) -> None:
    from ..demo import demo

    report = demo(args.output, checkpoint=args.checkpoint, n=args.n, seed=args.seed, device=args.device,
                  force=args.force)
    print(f"\nThe demo report is at {report}\nOpen it in a browser; it needs no network.")


def add_demo(commands) -> None:
    p = commands.add_parser("demo", help="run everything on the shipped demo checkpoint and fresh synthetic data")
    p.add_argument("-o", "--output", default="demo_run", metavar="DIR", help="(default: demo_run)")
    p.add_argument("--checkpoint", metavar="CKPT", help="default: model/demo of this checkout")
    p.add_argument("--n", type=Number(int, 100), default=2000, help="synthetic windows to explain (default: 2000)")
    p.add_argument("--seed", type=SEED, default=11, help="seed of the fresh synthetic set (default: 11)")
    p.add_argument("--device", default="auto", type=device_name)
    force_flag(p, "rerun every step")
    p.set_defaults(handler=cmd_demo)
