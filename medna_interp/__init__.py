"""medna-interp: interpretability and motif discovery for MEDNA-DFM methylation classifiers.

The Python API (see :mod:`medna_interp.api` and the README's "Python API")::

    import medna_interp as mi

    model = mi.load("model/demo")
    windows = mi.synthetic(600, seed=1)
    cad = mi.cad(model, windows.sequences, windows.labels)

``import medna_interp`` reads only the version: the API, and torch with it, loads on the
first use of one of its names.
"""

from ._version import __version__

__all__ = ["__version__", "MednaError", "load", "read", "synthetic", "windows", "predict", "select", "cad", "cwga",
           "discover", "report", "mutate", "insert", "pairs", "variant_effects", "embed", "ViewResult", "Explanation",
           "Discovery", "DiscoveredMotif"]


def __getattr__(name: str):
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    api = importlib.import_module(".api", __name__)
    # Bound after the API's own imports, which set the subpackage ``report`` as an attribute of
    # this package: ``mi.report`` is the API function, as every other exported name is.
    globals().update({exported: getattr(api, exported) for exported in __all__ if exported != "__version__"})
    return globals()[name]


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
