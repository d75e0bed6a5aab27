"""The ``medna-interp`` command line: parse, call one library function, print.

User mistakes surface as :class:`MednaError` and end with one line on stderr and exit
status 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import __version__
from .errors import MednaError


def _common(parser: argparse.ArgumentParser, *, data: bool = True) -> None:
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda (default: auto)")
    parser.add_argument("--batch-size", type=int, default=64, help="windows per forward pass (default: 64)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    if data:
        parser.add_argument("--negatives", help="FASTA/plain file of negatives; DATA then holds the positives")
        parser.add_argument("--length", type=int, default=41,
                            help="required window length; 0 accepts any common length (default: 41)")


def _read_data(args, path: str):
    from .io import read_sequences

    return read_sequences(path, negatives=args.negatives, length=args.length or None)


def _load_model(args, checkpoint: str):
    from .device import resolve_device, seed_everything
    from .models.checkpoint import from_pretrained

    seed_everything(args.seed)
    return from_pretrained(checkpoint, resolve_device(args.device))


def cmd_info(args) -> None:
    from .models.checkpoint import describe

    print(json.dumps(describe(args.checkpoint), indent=2))


def cmd_predict(args) -> None:
    from .predict import predict_proba, write_predictions

    data = _read_data(args, args.data)
    model = _load_model(args, args.checkpoint)
    probabilities = predict_proba(model, data.sequences, args.batch_size, autocast=args.autocast)
    write_predictions(args.output, data, probabilities)
    print(f"wrote {args.output} ({len(data)} windows)")


def cmd_import_checkpoint(args) -> None:
    from .models.checkpoint import import_fusion

    out = import_fusion(args.fusion, args.kmer_encoder, args.bpe_encoder, args.output, bpe_pooling=args.bpe_pooling)
    print(f"wrote checkpoint {out}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="medna-interp",
        description="Interpretability and motif discovery for MEDNA-DFM DNA-methylation classifiers.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    p = commands.add_parser("info", help="describe a checkpoint (config, parameter counts, tokenizers)")
    p.add_argument("checkpoint", metavar="CKPT")
    p.set_defaults(handler=cmd_info)

    p = commands.add_parser("predict", help="P(modified) for every window of a data file")
    p.add_argument("checkpoint", metavar="CKPT")
    p.add_argument("data", metavar="DATA", help="iDNA-MS TSV, FASTA or one sequence per line")
    p.add_argument("-o", "--output", required=True, help="predictions TSV to write")
    p.add_argument("--autocast", action="store_true", help="bf16 autocast on CUDA")
    _common(p)
    p.set_defaults(handler=cmd_predict)

    p = commands.add_parser("import-checkpoint", help="convert the authors' Fusion .pt into a checkpoint directory")
    p.add_argument("fusion", metavar="FUSION_PT")
    p.add_argument("--kmer-encoder", required=True, metavar="DIR", help="DNABERT-6mer directory")
    p.add_argument("--bpe-encoder", required=True, metavar="DIR", help="DNABERT-2 directory")
    p.add_argument("-o", "--output", required=True, metavar="OUT")
    p.add_argument("--bpe-pooling", default="unmasked_mean", choices=("unmasked_mean", "masked_mean"),
                   help="unmasked_mean reproduces the authors' predictions (default)")
    p.set_defaults(handler=cmd_import_checkpoint)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.handler(args)
    except MednaError as error:
        print(f"medna-interp: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("medna-interp: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
