"""The ``medna-interp`` command line: parse, call one library function, print.

Each command's options are declared next to its handler, in the module of its group
(:mod:`.learning`, :mod:`.causal`, :mod:`.explain`, :mod:`.motifs`, :mod:`.runs`); the
option groups several commands share live in :mod:`.options`. Handlers import the library
parts they call when they run, so that a command loads only what it uses.

User mistakes surface as :class:`MednaError` (or as parser errors) and end with one line
on stderr and exit status 2, before any work starts and with nothing written; anything
else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import sys

from .._version import __version__
from ..core.errors import MednaError
from ..core.provenance import command_line
from . import causal, explain, learning, motifs, runs
from .options import Parser

#: the subcommands, in the order ``--help`` lists them
COMMANDS = (learning.add_info, learning.add_predict, learning.add_import_checkpoint, learning.add_train,
            learning.add_pretrain, learning.add_export_encoders, learning.add_baseline, learning.add_evaluate,
            causal.add_mutate, causal.add_insert, causal.add_variants, explain.add_cad, explain.add_cwga,
            explain.add_ism, explain.add_embed, explain.add_faithfulness, motifs.add_install_meme, motifs.add_export,
            motifs.add_modisco, motifs.add_motifs, motifs.add_report, motifs.add_summary, runs.add_run, runs.add_demo, learning.add_synth)


def build_parser() -> argparse.ArgumentParser:
    """The parser of every subcommand; each sets ``handler`` to the function that runs it."""
    parser = Parser(prog="medna-interp",
                    description="Interpretability and motif discovery for MEDNA-DFM DNA-methylation classifiers.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for add in COMMANDS:
        add(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns its exit status (0, 2 for a user mistake, 130 when interrupted)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as stop:  # a parser error (status 2) or --help/--version (0)
        return stop.code if isinstance(stop.code, int) else 0
    try:
        with command_line(["medna-interp", *(sys.argv[1:] if argv is None else argv)]):
            if getattr(args, "device", None) is not None:
                from ..core.device import resolve_device

                resolve_device(args.device)  # a missing GPU is found before any work
            args.handler(args)
    except MednaError as error:
        hint = f"; {error.hint}" if error.hint else ""
        print(f"medna-interp: error: {' '.join(str(error).split())}{hint}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("medna-interp: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
