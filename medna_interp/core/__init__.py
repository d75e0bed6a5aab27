"""The core: errors, sequence helpers, statistics, metrics, figures, devices, precision, safe outputs.

Every layer above may import it; it imports nothing else of the package."""
