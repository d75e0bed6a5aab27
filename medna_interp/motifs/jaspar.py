"""JASPAR motif databases from pyjaspar's bundled SQLite, cached once as MEME files."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..core.errors import MednaError
from .motif import Motif, write_meme

TAX_GROUPS = ("vertebrates", "insects", "plants", "fungi", "nematodes", "urochordates")
DEFAULT_RELEASE = "JASPAR2024"


def cache_dir() -> Path:
    """Where JASPAR selections are cached as MEME files (``$MEDNA_CACHE`` or the user cache)."""
    root = os.environ.get("MEDNA_CACHE") or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "medna-interp"
    return Path(root) / "jaspar"


def jaspar_url(matrix_id: str) -> str:
    """The JASPAR web page of a matrix."""
    return f"https://jaspar.elixir.no/matrix/{matrix_id}/"


def _tax_groups(tax: str | list[str]) -> list[str]:
    names = tax.split(",") if isinstance(tax, str) else list(tax)
    if "all" in names:
        return list(TAX_GROUPS)
    unknown = [n for n in names if n not in TAX_GROUPS]
    if unknown:
        raise MednaError(f"unknown JASPAR tax group {unknown[0]!r}; valid: {', '.join(TAX_GROUPS)}, all")
    return names


def jaspar_motifs(release: str = DEFAULT_RELEASE, tax: str | list[str] = "vertebrates",
                  collection: str = "CORE") -> list[Motif]:
    """Latest version of each matrix of a release, collection and tax group(s)."""
    from pyjaspar import jaspardb

    groups = _tax_groups(tax)
    releases = jaspardb().get_releases()
    if release not in releases:
        raise MednaError(f"unknown JASPAR release {release!r}; valid: {', '.join(releases)}")
    database = jaspardb(release=release)
    motifs = []
    for record in database.fetch_motifs(collection=collection, tax_group=groups):
        counts = np.array([record.counts[b] for b in "ACGT"], dtype=float).T  # (W, 4)
        totals = counts.sum(1, keepdims=True)
        motifs.append(Motif(record.matrix_id, record.name, counts / np.where(totals > 0, totals, 1),
                            nsites=int(round(totals.max()))))
    return motifs


def jaspar_database(release: str = DEFAULT_RELEASE, tax: str | list[str] = "vertebrates",
                    collection: str = "CORE") -> Path:
    """Path of a cached MEME file for the selection, written on first use."""
    groups = _tax_groups(tax)
    label = "all" if sorted(groups) == sorted(TAX_GROUPS) else "+".join(groups)
    path = cache_dir() / f"{release}_{collection}_{label}.meme"
    if not path.exists():
        motifs = jaspar_motifs(release, groups, collection)
        if not motifs:
            raise MednaError(f"JASPAR {release} {collection} has no motifs for {label}")
        write_meme(path, motifs)
    return path
