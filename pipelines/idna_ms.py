"""Write a workflow config for every dataset folder under ROOT (each holding train.tsv and
test.tsv), for pipelines/Snakefile. The 17 iDNA-MS names get their modification and JASPAR
taxonomic group; other folders the part of their name before '_' and 'all'.

    .venv/bin/python pipelines/idna_ms.py ../shared/data/idna_ms -o my_datasets.yaml [--size tiny]
    snakemake -s pipelines/Snakefile --configfile my_datasets.yaml --profile pipelines/profiles/local
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from medna_interp.core.errors import MednaError  # noqa: E402
from medna_interp.models.sizes import SIZES  # noqa: E402
from medna_interp.workflow import write_config  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("root", type=Path, help="folder of dataset folders (train.tsv, test.tsv)")
    parser.add_argument("-o", "--output", type=Path, required=True, help="the config file to write (YAML)")
    parser.add_argument("--workflow-output", default="work/idna_ms", help="where the workflow writes its results")
    parser.add_argument("--size", default="small", choices=list(SIZES))
    args = parser.parse_args(argv)
    try:
        path = write_config(args.root, args.output, workflow_output=args.workflow_output, size=args.size)
    except MednaError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
