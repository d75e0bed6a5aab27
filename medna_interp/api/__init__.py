"""The Python API: the same steps as the command line, on in-memory sequences.

    import medna_interp as mi

    model = mi.load("model/demo")
    windows = mi.synthetic(600, seed=1)
    cad = mi.cad(model, windows.sequences, windows.labels)
    cad["kmer"].tokens.head()

Every function checks its inputs and raises :class:`medna_interp.MednaError` (a
``ValueError``) with a message naming the problem.
"""

from __future__ import annotations

from ..core.errors import MednaError
from .causal import embed, insert, mutate, pairs, variant_effects
from .discovery import DiscoveredMotif, Discovery, discover, report
from .explain import Explanation, ViewResult, cad, cwga
from .windows import load, predict, read, select, synthetic, windows

__all__ = ["load", "read", "synthetic", "windows", "predict", "select", "cad", "cwga", "discover", "report", "mutate",
           "insert", "pairs", "variant_effects", "embed", "ViewResult", "Explanation", "Discovery", "DiscoveredMotif"]
