"""Figures written as PNG and SVG, with a non-interactive matplotlib backend."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def save_figure(figure, stem: Path) -> list[Path]:
    """``stem``.png and ``stem``.svg of ``figure``, which is then closed; returns both paths."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    # names such as MA2108.1 carry dots, so append rather than with_suffix()
    paths = [stem.parent / f"{stem.name}.png", stem.parent / f"{stem.name}.svg"]
    figure.savefig(paths[0], dpi=120, bbox_inches="tight")
    figure.savefig(paths[1], bbox_inches="tight")
    plt.close(figure)
    return paths
