"""What several commands share: argparse types with ranges, the execution options, the
option groups of CAD, CWGA, export and motif discovery, and turning parsed options into the
library's option objects."""

from __future__ import annotations

import argparse
import math

from ..core.stats import MIN_SELECTED

FORCE_HELP = ("write into an existing folder (or over a file) that medna-interp did not make; only the files "
              "this command writes are replaced, nothing else there is removed, and inputs are never touched")


class Parser(argparse.ArgumentParser):
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


def force_flag(parser: argparse.ArgumentParser, text: str = FORCE_HELP) -> None:
    parser.add_argument("--force", action="store_true", help=text)


def device_name(text: str) -> str:
    if text in ("auto", "cpu", "cuda") or (text.startswith("cuda:") and text[5:].isdigit()):
        return text
    raise argparse.ArgumentTypeError(f"must be auto, cpu, cuda or cuda:N, got {text!r}")


def head_indices(text: str):
    if text == "all":
        return None
    try:
        heads = [int(h) for h in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be 'all' or comma-separated head indices, got {text!r}") from None
    if any(h < 0 for h in heads):
        raise argparse.ArgumentTypeError(f"head indices are 0-based and not negative, got {text!r}")
    return heads


def tax_groups(text: str) -> str:
    from ..motifs.jaspar import TAX_GROUPS

    unknown = [name for name in text.split(",") if name not in (*TAX_GROUPS, "all")]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown JASPAR tax group {unknown[0]!r}; valid: "
                                         f"{', '.join(TAX_GROUPS)}, all")
    return text


def name_value(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name or not value:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE (e.g. 6mA_D.melanogaster=6mA), got {text!r}")
    return name, value


def execution_options(parser: argparse.ArgumentParser, *, data: bool = True, precision: bool = True) -> None:
    parser.add_argument("--device", default="auto", type=device_name, help="auto | cpu | cuda (default: auto)")
    if precision:
        from ..core.precision import PRECISIONS

        parser.add_argument("--precision", default="fp32", choices=PRECISIONS,
                            help="fp32, bf16 autocast, or auto: bf16 where the device has it natively "
                                 "(default: fp32)")
    parser.add_argument("--batch-size", type=POSITIVE, default=64, help="windows per forward pass (default: 64)")
    parser.add_argument("--seed", type=SEED, default=0, help="random seed (default: 0)")
    if data:
        parser.add_argument("--negatives", help="FASTA/plain file of negatives; DATA then holds the positives")
        parser.add_argument("--length", type=NON_NEGATIVE, default=41,
                            help="required window length; 0 accepts any common length (default: 41)")


def read_data(args, path: str, model=None):
    from ..data.io import read_sequences

    data = read_sequences(path, negatives=args.negatives, length=args.length or None)
    if model is not None:
        model.require_length(data.length, str(path))
    return data


def load_model(args, checkpoint: str):
    """The checkpoint on ``--device`` at ``--precision``, generators seeded by ``--seed``."""
    from ..core.settings import Common
    from ..models.loading import load_checkpoint

    return load_checkpoint(checkpoint, Common(device=args.device, seed=args.seed, precision=args.precision))


def common_options(args):
    from ..core.settings import Common

    return Common(device=args.device, batch_size=args.batch_size, seed=args.seed,
                  length=args.length or None, negatives=args.negatives, precision=args.precision)


def views_of(view: str) -> tuple[str, ...]:
    return ("kmer", "bpe") if view == "both" else (view,)


def analysis_arguments(parser: argparse.ArgumentParser, views: bool = True) -> None:
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


def strata_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gc-strata", type=POSITIVE, default=5,
                        help="GC-quantile strata of the selected windows for the composition-adjusted token "
                             "columns (cad_adj / contribution_adj, p_adj, q_adj); 1 = unstratified (default: 5)")


def cad_arguments(parser: argparse.ArgumentParser, standalone: bool = True) -> None:
    group = parser.add_argument_group("CAD")
    group.add_argument("--layer", type=int, default=-1, help="encoder layer (default: -1, the last)")
    group.add_argument("--heads", default=None, type=head_indices, help="'all' or comma-separated 0-based head indices")
    group.add_argument("--min-samples", type=POSITIVE, default=3, help="minimum occurrences per class (default: 3)")
    group.add_argument("--per-sequence-mean", action="store_true",
                       help="one value per window and token (mean of its occurrences) instead of every occurrence")
    group.add_argument("--max-per-class", type=POSITIVE, help="most confident windows kept per class (default: all)")
    if standalone:
        group.add_argument("--kmer-encoder", metavar="DIR", help="read k-mer attention from this stand-alone DNABERT-k")
        group.add_argument("--bpe-encoder", metavar="DIR", help="read BPE attention from this stand-alone DNABERT-2")


def cad_kwargs(args) -> dict:
    return dict(views=views_of(args.view), layer=args.layer, heads=args.heads, min_samples=args.min_samples,
                per_sequence_mean=args.per_sequence_mean, confidence=args.confidence,
                min_selected=args.min_selected, max_per_class=args.max_per_class, kmer_encoder=getattr(args, "kmer_encoder", None),
                bpe_encoder=getattr(args, "bpe_encoder", None), gc_strata=args.gc_strata)


def cwga_arguments(parser: argparse.ArgumentParser) -> None:
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


def cwga_kwargs(args) -> dict:
    return dict(views=views_of(args.view), top_dims=args.top_dims, dim_score=args.dim_score, n_samples=args.n_samples,
                confidence=args.confidence, min_selected=args.min_selected, baseline=args.baseline, steps=args.steps,
                internal_batch_size=args.internal_batch_size, per_dim=args.per_dim, min_count=args.min_count,
                progress=not getattr(args, "quiet", False), gc_strata=args.gc_strata, strand_check=args.strand_check,
                rc_average=args.rc_average)


def export_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("export")
    group.add_argument("--mode", default="seqlets", choices=("tokens", "seqlets", "sequences"),
                       help="tokens: top vs bottom tokens; seqlets: windows at top-scoring positions of the "
                            "selected positives vs the same rule in the selected negatives; sequences: selected "
                            "positives vs negatives (default: seqlets)")
    group.add_argument("--top-tokens", type=POSITIVE, default=100, help="tokens per side in tokens mode (default: 100)")
    group.add_argument("--window", type=Number(int, 3), default=12, help="seqlet width in bp (default: 12)")
    group.add_argument("--seqlets-per-sequence", type=POSITIVE, default=2, help="peaks per positive (default: 2)")
    group.add_argument("--min-score", type=FINITE, default=0.0, help="seqlet peaks must score above this (default: 0)")


def export_options(args):
    from ..motifs.export import ExportOptions

    return ExportOptions(mode=args.mode, top_tokens=args.top_tokens, window=args.window,
                         per_sequence=args.seqlets_per_sequence, min_score=args.min_score, seed=args.seed)


def motifs_arguments(parser: argparse.ArgumentParser) -> None:
    from ..motifs.tomtom import DISTANCES

    export_arguments(parser)
    group = parser.add_argument_group("STREME, TOMTOM and JASPAR")
    group.add_argument("--nmotifs", type=NON_NEGATIVE, default=0,
                       help="STREME motifs per source, significant or not; 0 = STREME's own stopping rule at "
                            "--max-evalue (default: 0)")
    group.add_argument("--max-evalue", type=Number(float, 0, 1, open_low=True), default=0.05,
                       help="a motif is significant (discovered) only at STREME held-out E <= this; the others are "
                            "kept, flagged significant = false (default: 0.05)")
    group.add_argument("--across-sources", action=argparse.BooleanOptionalAction, default=True,
                       help="gate the run's E-value, each search's E times the number of searches in the run "
                            "(every source and raw baseline), so that --max-evalue bounds the whole run's false "
                            "motifs (default: on; --no-across-sources gates each search's own E)")
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
    group.add_argument("--jaspar-tax", default="vertebrates", type=tax_groups,
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
    group.add_argument("--permute-labels", action=argparse.BooleanOptionalAction, default=True,
                       help="repeat motif discovery with the labels permuted (seeded by --seed) into "
                            "RUN/motifs/null; a source that finds a significant motif there is 'not calibrated' "
                            "and its motifs are not discoveries (default: on; --no-permute-labels skips it)")
    group.add_argument("--modisco", action="store_true",
                       help="also cluster the CWGA and ISM attributions with TF-MoDISco (modisco-lite; pip install "
                            "'medna-interp[modisco]'): sources modisco_SOURCE_VIEW, gated on held-out windows")
    group.add_argument("--meme-bin", metavar="DIR", help="folder holding streme and tomtom")
    group.add_argument("--backend", default="meme", choices=("meme", "memelite"),
                       help="TOMTOM from the MEME binary (--dist applies) or from memelite (numba, Euclidean "
                            "distance, no compiler; pip install 'medna-interp[memelite]') (default: meme)")


def motifs_kwargs(args) -> dict:
    from ..motifs.discover import DatabaseChoice
    from ..motifs.modisco import ModiscoOptions
    from ..motifs.streme import StremeOptions
    from ..motifs.tomtom import TomtomOptions

    return dict(
        export_options=export_options(args),
        streme=StremeOptions(nmotifs=args.nmotifs, thresh=args.max_evalue, minw=args.minw, maxw=args.maxw,
                             objfun=args.objfun, order=args.order, strands=args.strands, seed=args.seed,
                             across_sources=args.across_sources),
        tomtom=TomtomOptions(dist=args.dist, min_overlap=args.min_overlap, thresh=args.tomtom_thresh,
                             match_thresh=args.match_thresh),
        database=DatabaseChoice(release=args.jaspar_release, tax=args.jaspar_tax, motif_db=args.motif_db),
        meme_bin=args.meme_bin, raw_baseline=not args.no_raw, controls=args.controls, match_cpg=args.match_cpg,
        backend=args.backend, linear=not args.no_linear, permute_labels=args.permute_labels,
        modisco=ModiscoOptions() if args.modisco else None,
    )
