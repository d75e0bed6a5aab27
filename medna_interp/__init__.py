"""medna-interp: interpretability and motif discovery for MEDNA-DFM methylation classifiers."""

__version__ = "0.1.0"
