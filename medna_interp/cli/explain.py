"""Commands that explain a model on labelled windows: cad, cwga, ism, embed and faithfulness."""

from __future__ import annotations

import numpy as np

from .options import (NON_NEGATIVE, Number, analysis_arguments, cad_arguments, cad_kwargs,
                                      common_options, cwga_arguments, cwga_kwargs, execution_options, force_flag,
                                      strata_argument)


def cmd_cad(args) -> None:
    from ..runs.explain import run_cad

    result, selection = run_cad(args.checkpoint, args.data, args.output, common=common_options(args), force=args.force,
                                **cad_kwargs(args))
    counts = selection.counts
    print(f"selected {counts['positives']} positives and {counts['negatives']} negatives "
          f"(confidence > {args.confidence})")
    for view, table in result.tokens.items():
        top = ", ".join(f"{t} ({d:.2f})" for t, d in zip(table.token[:5], table.cad[:5]))
        print(f"{view}: {len(table)} tokens; top CAd: {top}")
    print(f"wrote {args.output}")


def add_cad(commands) -> None:
    p = commands.add_parser("cad", help="contrastive attention Cohen's d per token (and per position)")
    analysis_arguments(p)
    strata_argument(p)
    cad_arguments(p)
    force_flag(p)
    execution_options(p)
    p.set_defaults(handler=cmd_cad)


def cmd_cwga(args) -> None:
    from ..runs.explain import run_cwga

    result, selection = run_cwga(args.checkpoint, args.data, args.output, common=common_options(args), force=args.force,
                                 **cwga_kwargs(args))
    counts = selection.counts
    print(f"attributed {counts['positives']} positives and {counts['negatives']} negatives "
          f"over the top {args.top_dims} h_mod dimensions")
    for view, table in result.tokens.items():
        delta = abs(result.attributions[view].delta).mean()
        top = ", ".join(f"{t} ({c:.2f})" for t, c in zip(table.token[:5], table.scaled_contribution[:5]))
        print(f"{view}: top tokens {top}; mean |convergence delta| {delta:.2e}")
    print(f"wrote {args.output}")


def add_cwga(commands) -> None:
    p = commands.add_parser("cwga", help="contrastive weighted gradient attribution (Integrated Gradients)")
    analysis_arguments(p)
    strata_argument(p)
    cwga_arguments(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    force_flag(p)
    execution_options(p)
    p.set_defaults(handler=cmd_cwga)


def cmd_ism(args) -> None:
    from ..runs.explain import run_ism

    result, selection = run_ism(args.checkpoint, args.data, args.output, confidence=args.confidence,
                                max_per_class=args.max_per_class, min_selected=args.min_selected,
                                strand_check=args.strand_check, common=common_options(args), force=args.force)
    counts = selection.counts
    profile = result.mean_drop[selection.labels == 1].mean(axis=0)
    top = ", ".join(str(i + 1) for i in np.argsort(-profile)[:5])
    print(f"scored {3 * result.scores.shape[1]} substitutions of {counts['positives']} positives and "
          f"{counts['negatives']} negatives; positions that matter most in positives: {top}")
    print(f"wrote {args.output}")


def add_ism(commands) -> None:
    p = commands.add_parser("ism", help="saturation mutagenesis of the confident windows: a per-base source for motifs")
    analysis_arguments(p, views=False)  # ISM changes bases, and both views see every change
    p.add_argument("--max-per-class", type=Number(int, 2), default=200,
                   help="most confident windows per class scored (3 x L variants each; default: 200)")
    p.add_argument("--strand-check", action="store_true",
                   help="also mutate each window's reverse complement and compare the mapped-back drops "
                        "(strand_ism.tsv): twice the cost")
    force_flag(p)
    execution_options(p)
    p.set_defaults(handler=cmd_ism)


def cmd_embed(args) -> None:
    from ..runs.explain import run_embed

    result = run_embed(args.checkpoint, args.data, args.output, stages=args.stages, max_windows=args.max_windows,
                       n_neighbors=args.n_neighbors, min_dist=args.min_dist, color_by=args.color_by,
                       common=common_options(args), force=args.force)
    print(f"mapped {len(result.ids)} windows; 15-NN accuracy per stage: "
          + ", ".join(f"{row.stage} {row.knn_accuracy:.3f}" for row in result.numbers.itertuples()))
    print(f"wrote {args.output}/embed.png, embed.tsv and embeddings.npz")


def add_embed(commands) -> None:
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
    force_flag(p)
    execution_options(p)
    p.set_defaults(handler=cmd_embed)


def cmd_faithfulness(args) -> None:
    from ..core.settings import Common
    from ..runs.follow_up import run_faithfulness

    result = run_faithfulness(args.run_dir, truth=args.truth,
                              common=Common(device=args.device, batch_size=args.batch_size, seed=args.seed,
                                            length=args.length or None, precision=args.precision))
    print(result.table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"wrote {args.run_dir}/faithfulness.tsv")


def add_faithfulness(commands) -> None:
    p = commands.add_parser("faithfulness", help="deletion curves of every per-base explanation of a run, vs random")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--truth", metavar="SITES", help="planted sites (sites.tsv from 'synth'): adds site AUROC/AUPRC")
    p.add_argument("--length", type=NON_NEGATIVE, default=41, help="window length; 0 accepts any (default: 41)")
    execution_options(p, data=False)
    p.set_defaults(handler=cmd_faithfulness)
