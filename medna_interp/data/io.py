"""Reading labelled or unlabelled DNA windows: iDNA-MS TSV, FASTA and plain text.

Every problem is reported as ``file:line: what is wrong`` through :class:`MednaError`,
before anything is computed or written.
"""

from __future__ import annotations

import gzip
import os
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.errors import MednaError
from ..core.outputs import atomic_file
from ..core.settings import Common

DEFAULT_LENGTH = 41
FASTA_SUFFIXES = {".fa", ".fasta", ".fna", ".fas"}
_LABEL_IN_HEADER = re.compile(r"(?:^|[\s|;])label[=:]([^\s|;]+)")


@dataclass
class SequenceSet:
    """Equal-length DNA windows with optional binary labels.

    Attributes
    ----------
    ids : list[str], length N, unique
    sequences : list[str], length N, upper-case, all of the same length
    labels : np.ndarray of int64, shape (N,), values 0/1; ``None`` when unlabelled
    source : str, where the sequences came from (for messages and provenance)
    """

    ids: list[str]
    sequences: list[str]
    labels: np.ndarray | None = None
    source: str = ""
    lines: list[int] = field(default_factory=list, repr=False)
    #: ids were numbered by us (plain text), not read from the file
    numbered_ids: bool = field(default=False, repr=False)

    def __len__(self) -> int:
        return len(self.sequences)

    @property
    def length(self) -> int:
        return len(self.sequences[0])

    def require_labels(self) -> np.ndarray:
        if self.labels is None:
            raise MednaError(f"{self.source}: sequences have no labels; this command needs labelled data "
                             "(a TSV with a 'label' column, FASTA headers with label=0/1, or --negatives FILE)")
        return self.labels

    def subset(self, index: np.ndarray | list[int]) -> "SequenceSet":
        index = np.asarray(index, dtype=np.int64)
        return SequenceSet(
            ids=[self.ids[i] for i in index],
            sequences=[self.sequences[i] for i in index],
            labels=None if self.labels is None else self.labels[index],
            source=self.source,
            lines=[self.lines[i] for i in index] if self.lines else [],
        )


def read_sequences(
    path: str | os.PathLike,
    *,
    negatives: str | os.PathLike | None = None,
    length: int | None = DEFAULT_LENGTH,
    alphabet: str = "ACGT",
) -> SequenceSet:
    """Read DNA windows from an iDNA-MS TSV, a FASTA file or a one-sequence-per-line file.

    Parameters
    ----------
    path
        TSV with header ``index<TAB>label<TAB>text`` (the label column may be absent),
        FASTA (labels as ``label=0/1`` in headers, optional), or plain text.
        With ``negatives``, ``path`` holds the positives and both get labels 1 and 0.
    negatives
        Optional file of negative (label 0) sequences in any of the same formats.
    length
        Required window length; ``None`` only requires all windows to be equally long.
    alphabet
        Accepted bases after upper-casing.

    Returns
    -------
    SequenceSet
    """
    first = _read_one(Path(path), length, alphabet)
    if negatives is None:
        return first
    second = _read_one(Path(negatives), length or first.length, alphabet)
    if second.length != first.length:
        raise MednaError(f"{negatives}: sequences have length {second.length}, "
                         f"but {path} has length {first.length}")
    first_ids, second_ids = first.ids, second.ids
    shared = set(first_ids) & set(second_ids)
    if shared and first.numbered_ids and second.numbered_ids:
        first_ids, second_ids = [f"pos_{i}" for i in first_ids], [f"neg_{i}" for i in second_ids]
    elif shared:
        clash = next(i for i in second_ids if i in shared)
        raise MednaError(f"{negatives}:{second.lines[second_ids.index(clash)]}: id {clash!r} is also used in "
                         f"{path}:{first.lines[first_ids.index(clash)]}; window ids must be unique")
    return SequenceSet(
        ids=first_ids + second_ids,
        sequences=first.sequences + second.sequences,
        labels=np.concatenate([np.ones(len(first), np.int64), np.zeros(len(second), np.int64)]),
        source=f"{path}+{negatives}",
        lines=first.lines + second.lines,
        numbered_ids=first.numbered_ids and second.numbered_ids,
    )


def _read_text(path: Path) -> str:
    """The file's text; gzip-compressed files (``.gz`` or by their magic bytes) are unpacked."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise MednaError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise MednaError(f"{path}: is a directory, not a sequence file") from None
    except OSError as error:
        raise MednaError(f"{path}: cannot read ({error.strerror})") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as error:
            raise MednaError(f"{path}: damaged gzip file ({error})") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MednaError(f"{path}: not a text file (byte {error.start} is not UTF-8); expected TSV, FASTA "
                         "or plain text, optionally gzip-compressed") from None


def read_records(path: str | os.PathLike) -> list[tuple[str, str, int]]:
    """``(id, sequence, line)`` of every record of a TSV, FASTA or plain file, upper-cased,
    of any length and with bases unchecked: for cutting genomes or windows of mixed
    lengths into pieces (pretraining)."""
    path = Path(path)
    return [(ident, sequence.upper(), number) for ident, _, sequence, number in _parse(path)[0]]


def _parse(path: Path) -> tuple[list[tuple], bool]:
    """The file's records ``(id, label or None, sequence, line)``, and whether the ids are
    our own numbering (plain text)."""
    text = _read_text(path)
    suffix = Path(path.name.removesuffix(".gz").removesuffix(".GZ")).suffix.lower()
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    numbered_ids = False
    if suffix in FASTA_SUFFIXES or first.startswith(">"):
        records = _parse_fasta(path, lines)
    elif "\t" in first or suffix in {".tsv", ".csv"}:
        records = _parse_tsv(path, lines, suffix)
    else:
        numbered_ids = True
        records = [(str(i), None, line.strip(), number)
                   for i, (number, line) in enumerate(_numbered(lines))]
    if not records:
        raise MednaError(f"{path}: no sequences found (empty file?)")
    return records, numbered_ids


def _read_one(path: Path, length: int | None, alphabet: str) -> SequenceSet:
    records, numbered_ids = _parse(path)

    labelled = [r[1] is not None for r in records]
    if any(labelled) and not all(labelled):
        number = records[labelled.index(False)][3]
        raise MednaError(f"{path}:{number}: record has no label while others do")

    allowed = set(alphabet)
    expected = length
    ids, sequences, labels, numbers = [], [], [], []
    first_line: dict[str, int] = {}
    for ident, label, sequence, number in records:
        if ident in first_line:
            raise MednaError(f"{path}:{number}: duplicate window id {ident!r} (first at line {first_line[ident]}); "
                             "ids must be unique")
        first_line[ident] = number
        sequence = sequence.upper()
        bad = next((base for base in sequence if base not in allowed), None)
        if bad is not None:
            raise MednaError(f"{path}:{number}: invalid base {bad!r} (allowed: {', '.join(alphabet)})")
        if expected is None:
            expected = len(sequence)
        if len(sequence) != expected:
            hint = " (set --length to change)" if length is not None else ""
            raise MednaError(f"{path}:{number}: sequence has length {len(sequence)}, expected {expected}{hint}")
        ids.append(ident)
        sequences.append(sequence)
        labels.append(label)
        numbers.append(number)
    return SequenceSet(
        ids=ids,
        sequences=sequences,
        labels=np.asarray(labels, dtype=np.int64) if all(labelled) else None,
        source=str(path),
        lines=numbers,
        numbered_ids=numbered_ids,
    )


def _numbered(lines: list[str], start: int = 1):
    for number, line in enumerate(lines, start=start):
        if line.strip():
            yield number, line


def _parse_label(path: Path, number: int, value: str) -> int:
    value = value.strip()
    if value not in {"0", "1"}:
        raise MednaError(f"{path}:{number}: label must be 0 or 1, got {value!r}")
    return int(value)


def _parse_tsv(path: Path, lines: list[str], suffix: str):
    numbered = list(_numbered(lines))
    if not numbered:
        return []
    separator = "," if suffix == ".csv" else "\t"
    header_number, header_line = numbered[0]
    header = [name.strip().lower() for name in header_line.split(separator)]
    text_column = next((name for name in ("text", "sequence", "seq") if name in header), None)
    if text_column is None:
        raise MednaError(f"{path}:{header_number}: missing column 'text' "
                         "(header must be index<TAB>label<TAB>text)")
    text_at = header.index(text_column)
    label_at = header.index("label") if "label" in header else None
    id_at = header.index("index") if "index" in header else (header.index("id") if "id" in header else None)
    records = []
    for number, line in numbered[1:]:
        fields = line.rstrip("\r\n").split(separator)
        if len(fields) != len(header):
            raise MednaError(f"{path}:{number}: expected {len(header)} columns "
                             f"({', '.join(header)}), found {len(fields)}")
        label = None if label_at is None else _parse_label(path, number, fields[label_at])
        ident = fields[id_at].strip() if id_at is not None else str(len(records))
        records.append((ident, label, fields[text_at].strip(), number))
    return records


def _parse_fasta(path: Path, lines: list[str]):
    records: list[list] = []
    for number, line in _numbered(lines):
        line = line.strip()
        if line.startswith(">"):
            header = line[1:].strip()
            match = _LABEL_IN_HEADER.search(header)
            label = _parse_label(path, number, match.group(1)) if match else None
            ident = header.split()[0] if header else f"seq{len(records)}"
            records.append([ident, label, "", number])
        elif not records:
            raise MednaError(f"{path}:{number}: sequence line before the first '>' header")
        else:
            records[-1][2] += line
    for ident, _, sequence, number in records:
        if not sequence:
            raise MednaError(f"{path}:{number}: record {ident!r} has no sequence")
    return [tuple(r) for r in records]


def write_fasta(path: str | os.PathLike, records: list[tuple[str, str]]) -> None:
    """Write ``(header, sequence)`` pairs atomically."""
    with atomic_file(path) as handle:
        for header, sequence in records:
            handle.write(f">{header}\n{sequence}\n")


def load_data(data_path, common: Common, model=None) -> SequenceSet:
    """Labelled windows, of the length ``model`` (a ``MednaDFM``, when given) was trained on."""
    data = read_sequences(data_path, negatives=common.negatives, length=common.length)
    data.require_labels()
    if model is not None:
        model.require_length(data.length, str(data_path))
    return data
