"""medna-interp: interpretability and motif discovery for MEDNA-DFM methylation classifiers.

The Python API (see :mod:`medna_interp.api` and the README's "Python API")::

    import medna_interp as mi

    model = mi.load("model/demo")
    windows = mi.synthetic(600, seed=1)
    cad = mi.cad(model, windows.sequences, windows.labels)
"""

__version__ = "0.1.0"

# Bound after every submodule is loaded, so that ``mi.predict`` and ``mi.report`` are the
# API functions rather than the modules of the same names.
from .errors import MednaError  # noqa: E402
from .api import (Discovery, DiscoveredMotif, Explanation, ViewResult, cad, cwga, discover, embed,  # noqa: E402
                  insert, load, mutate, pairs, predict, read, report, select, synthetic, variant_effects, windows)

__all__ = ["__version__", "MednaError", "load", "read", "synthetic", "windows", "predict", "select", "cad", "cwga",
           "discover", "report", "mutate", "insert", "pairs", "variant_effects", "embed", "ViewResult", "Explanation", "Discovery", "DiscoveredMotif"]
