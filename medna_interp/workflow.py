"""The many-dataset workflow's configuration (``pipelines/Snakefile``).

The Snakefile reads its config through :func:`check_config`, so that a missing file, an
unknown JASPAR group or a mistyped option stops Snakemake with one line before any job
is planned. :func:`write_config` makes such a config for a folder of dataset folders.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .core.errors import MednaError
from .core.outputs import atomic_file
from .data.io import read_sequences
from .models.sizes import SIZES
from .motifs.jaspar import TAX_GROUPS

#: The 17 iDNA-MS datasets (Lv et al. 2020, the paper's benchmark): modification and the JASPAR
#: taxonomic group of the species ("all" where JASPAR has none: a ciliate and a bacterium).
IDNA_MS: dict[str, tuple[str, str]] = {
    "4mC_C.equisetifolia": ("4mC", "plants"),
    "4mC_F.vesca": ("4mC", "plants"),
    "4mC_S.cerevisiae": ("4mC", "fungi"),
    "4mC_Tolypocladium": ("4mC", "fungi"),
    "5hmC_H.sapiens": ("5hmC", "vertebrates"),
    "5hmC_M.musculus": ("5hmC", "vertebrates"),
    "6mA_A.thaliana": ("6mA", "plants"),
    "6mA_C.elegans": ("6mA", "nematodes"),
    "6mA_C.equisetifolia": ("6mA", "plants"),
    "6mA_D.melanogaster": ("6mA", "insects"),
    "6mA_F.vesca": ("6mA", "plants"),
    "6mA_H.sapiens": ("6mA", "vertebrates"),
    "6mA_R.chinensis": ("6mA", "plants"),
    "6mA_S.cerevisiae": ("6mA", "fungi"),
    "6mA_T.thermophile": ("6mA", "all"),
    "6mA_Tolypocladium": ("6mA", "fungi"),
    "6mA_Xoc_BLS256": ("6mA", "all"),
}
DEVICES = ("auto", "cpu", "cuda")
#: where each dataset's model starts: encoders pretrained on the pooled training splits (then
#: adapted per modification type, or on every training split for a type with one dataset), or
#: random weights
STARTS = ("pretrained", "scratch")
_TOP_KEYS = {"output", "data_root", "datasets", "only", "size", "seed", "device", "max_windows",
             "train_options", "run_options", "threads", "start", "adapt", "pretrain_options"}
_DATASET_KEYS = {"modification", "jaspar_tax", "train", "test", "checkpoint"}
#: the adaptive group of the datasets whose modification type has no second dataset; reserved,
#: so no modification may take the name
ALL_TYPES = "all_types"


@dataclass(frozen=True)
class Dataset:
    """One dataset of the workflow: its files (``train`` is ``None`` when ``checkpoint`` is given)."""

    name: str
    modification: str
    jaspar_tax: str
    test: Path
    train: Path | None
    checkpoint: Path | None


@dataclass(frozen=True)
class Workflow:
    """A checked workflow config; paths as given (relative to where Snakemake runs)."""

    output: Path
    datasets: dict[str, Dataset]
    size: str
    seed: int
    device: str
    max_windows: int | None
    train_options: str
    run_options: str
    threads: int
    start: str = "pretrained"
    adapt: bool = True
    pretrain_options: str = ""

    @property
    def trained(self) -> list[str]:
        """The datasets the workflow trains (not those given a checkpoint)."""
        return [name for name, dataset in self.datasets.items() if dataset.train is not None]

    @property
    def adaptive_groups(self) -> dict[str, list[str]]:
        """Adaptive group -> the trained datasets pooled in its domain-adaptive stage (one model
        on their training files, whose encoders start each dataset of the group).

        Each modification type with two or more trained datasets is a group. Datasets whose type
        has no second one share the group :data:`ALL_TYPES`, which pools every trained dataset:
        on the four shared iDNA-MS sets it lifted the lone 4mC set's 3-seed mean test AUC from
        0.829 to 0.907 (linear baseline 0.891), the lone 5hmC set's from 0.982 to 0.984 (0.985)
        (benchmarks/results/README.md, "The workflow's default path"). One trained dataset
        has nothing to pool.
        """
        if self.start != "pretrained" or not self.adapt or len(self.trained) < 2:
            return {}
        types: dict[str, list[str]] = {}
        for name in self.trained:
            types.setdefault(self.datasets[name].modification, []).append(name)
        groups = {kind: names for kind, names in types.items() if len(names) >= 2}
        if len(groups) < len(types):
            groups[ALL_TYPES] = list(self.trained)
        return groups

    def adaptive_group(self, name: str) -> str | None:
        """The group whose adapted encoders start dataset ``name``; None where it has none."""
        groups = self.adaptive_groups
        if not groups or name not in self.trained:
            return None
        modification = self.datasets[name].modification
        return modification if modification in groups else ALL_TYPES


def check_config(config: dict, source: str = "config") -> Workflow:
    """The workflow a Snakemake ``config`` describes, or :class:`MednaError` naming ``source``,
    the dataset and the key at fault.

    Keys: ``output``; ``datasets`` (name -> ``modification``, ``jaspar_tax``, and optionally
    ``train``, ``test``, ``checkpoint``; the files default to ``DATA_ROOT/NAME/train.tsv`` and
    ``test.tsv``); ``data_root``; ``only`` (a subset of the names); ``size``; ``seed``;
    ``device``; ``max_windows`` (subsample each file, stratified, for smoke runs);
    ``train_options`` and ``run_options`` (extra options of ``medna-interp train`` / ``run``);
    ``threads`` (per job); ``start``: ``pretrained`` (default: ``pretrain`` once on the pooled
    training files of every trained dataset, every test file excluded, then, with ``adapt``
    (default true), the domain-adaptive stage per :attr:`Workflow.adaptive_groups`, and each
    dataset trained from its group's encoders) or ``scratch``; ``pretrain_options`` (extra
    options of ``pretrain``).
    """
    if not isinstance(config, dict) or not config:
        raise MednaError(f"{source}: empty; give --configfile pipelines/config/idna_ms.yaml or one like it")
    unknown = sorted(set(config) - _TOP_KEYS)
    if unknown:
        raise MednaError(f"{source}: unknown key {unknown[0]!r}; known: {', '.join(sorted(_TOP_KEYS))}")
    entries = config.get("datasets")
    if not isinstance(entries, dict) or not entries:
        raise MednaError(f"{source}: 'datasets' must map dataset names to their modification and jaspar_tax")
    only = config.get("only") or list(entries)
    if isinstance(only, str):
        only = [only]
    missing = [name for name in only if name not in entries]
    if missing:
        raise MednaError(f"{source}: 'only' names {missing[0]!r}, which is not under 'datasets'")
    root = Path(str(config.get("data_root", ".")))
    datasets = {name: _dataset(name, entries[name], root, source) for name in only}
    size = config.get("size", "tiny")
    if size not in SIZES:
        raise MednaError(f"{source}: size must be one of {', '.join(SIZES)}, got {size!r}")
    device = config.get("device", "auto")
    if device not in DEVICES:
        raise MednaError(f"{source}: device must be one of {', '.join(DEVICES)}, got {device!r}")
    start = config.get("start", "pretrained")
    if start not in STARTS:
        raise MednaError(f"{source}: start must be one of {', '.join(STARTS)}, got {start!r}")
    adapt = config.get("adapt", True)
    if isinstance(adapt, str) and adapt.lower() in ("true", "false"):  # Snakemake's --config passes text
        adapt = adapt.lower() == "true"
    if not isinstance(adapt, bool):
        raise MednaError(f"{source}: adapt must be true or false, got {adapt!r}")
    return Workflow(
        output=Path(str(config.get("output", "work/idna_ms"))), datasets=datasets, size=size,
        seed=_integer(config.get("seed", 0), "seed", source, minimum=0), device=device,
        max_windows=None if config.get("max_windows") in (None, 0)
        else _integer(config["max_windows"], "max_windows", source, minimum=10),
        train_options=str(config.get("train_options") or ""), run_options=str(config.get("run_options") or ""),
        threads=_integer(config.get("threads", 2), "threads", source, minimum=1), start=start, adapt=adapt,
        pretrain_options=str(config.get("pretrain_options") or ""))


def _dataset(name: str, entry, root: Path, source: str) -> Dataset:
    where = f"{source}: dataset {name}"
    if os.sep in name or name.startswith("."):
        raise MednaError(f"{where}: a dataset name is a folder name, without '{os.sep}'")
    if not isinstance(entry, dict):
        raise MednaError(f"{where}: give its modification and jaspar_tax (a mapping)")
    unknown = sorted(set(entry) - _DATASET_KEYS)
    if unknown:
        raise MednaError(f"{where}: unknown key {unknown[0]!r}; known: {', '.join(sorted(_DATASET_KEYS))}")
    tax = entry.get("jaspar_tax")
    if tax not in (*TAX_GROUPS, "all"):
        raise MednaError(f"{where}: unknown JASPAR taxonomic group {tax!r}; valid: {', '.join(TAX_GROUPS)}, all")
    if not entry.get("modification"):
        raise MednaError(f"{where}: 'modification' is missing (e.g. 6mA, 4mC, 5hmC)")
    if entry["modification"] == ALL_TYPES:
        raise MednaError(f"{where}: {ALL_TYPES!r} names the pooled adaptive stage; give the modification itself")
    checkpoint = Path(str(entry["checkpoint"])) if entry.get("checkpoint") else None
    if checkpoint is not None and not (checkpoint / "config.json").is_file():
        raise MednaError(f"{where}: checkpoint {checkpoint} is not a checkpoint directory (no config.json)")
    test = Path(str(entry.get("test", root / name / "test.tsv")))
    train = None if checkpoint is not None else Path(str(entry.get("train", root / name / "train.tsv")))
    for kind, path in (("test", test), ("train", train)):
        if path is not None and not path.is_file():
            raise MednaError(f"{where}: {kind} file {path} does not exist")
    return Dataset(name, str(entry["modification"]), tax, test, train, checkpoint)


def _integer(value, key: str, source: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise MednaError(f"{source}: {key} must be an integer >= {minimum}, got {value!r}")
    return value


def subsample(path: str | os.PathLike, output: str | os.PathLike, max_windows: int, seed: int) -> Path:
    """At most ``max_windows`` windows of a labelled file (TSV, FASTA, gzip or not), the same
    share of each class, in file order; written to ``output`` as an iDNA-MS TSV."""
    data = read_sequences(path, length=None)
    data.require_labels()
    keep = np.arange(len(data.sequences))
    if len(keep) > max_windows:
        rng = np.random.default_rng(seed)
        share = max_windows / len(keep)
        keep = np.sort(np.concatenate([
            rng.choice(rows, size=max(1, round(len(rows) * share)), replace=False)
            for rows in (np.flatnonzero(data.labels == label) for label in (0, 1)) if len(rows)]))
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(output) as handle:
        handle.write("index\tlabel\ttext\n")
        handle.writelines(f"{data.ids[i]}\t{data.labels[i]}\t{data.sequences[i]}\n" for i in keep)
    return output


def write_config(root: str | os.PathLike, output: str | os.PathLike, *, workflow_output: str = "work/idna_ms",
                 size: str = "tiny") -> Path:
    """A config for every dataset folder under ``root`` (holding ``train.tsv`` and ``test.tsv``):
    the iDNA-MS names get their modification and JASPAR group, other folders the prefix of their
    name before '_' and 'all'. Refuses to overwrite an existing file."""
    import yaml

    root = Path(root)
    names = sorted(p.name for p in root.iterdir() if (p / "train.tsv").is_file() and (p / "test.tsv").is_file()) \
        if root.is_dir() else []
    if not names:
        raise MednaError(f"{root}: no dataset folders with train.tsv and test.tsv")
    datasets = {}
    for name in names:
        modification, tax = IDNA_MS.get(name, (name.split("_")[0], "all"))
        datasets[name] = {"modification": modification, "jaspar_tax": tax}
    config = {"output": workflow_output, "data_root": str(root), "size": size, "seed": 0, "device": "auto",
              "start": "pretrained", "adapt": True, "max_windows": None, "datasets": datasets}
    output = Path(output)
    if output.exists():
        raise MednaError(f"{output}: exists; give another path (the workflow config is never overwritten)")
    output.write_text(yaml.safe_dump(config, sort_keys=False))
    return output
