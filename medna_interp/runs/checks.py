"""Every step option checked against the model and the machine, before any work starts."""

from __future__ import annotations

from pathlib import Path

from ..core.errors import MednaError
from ..data.tokenize import BpeTokenizer
from ..models.attention import check_heads, layer_index
from ..models.dnabert import load_dnabert
from ..models.dnabert2 import load_dnabert2
from ..models.medna_dfm import MednaDFM
from ..motifs.controls import check_controls
from ..motifs.modisco import require_modisco
from ..motifs.discover import DatabaseChoice
from ..motifs.meme import find_tool
from ..motifs.motif import read_meme
from ..motifs.tomtom import BACKENDS


def check_cad_options(model: MednaDFM, views, layer: int, heads, min_samples: int, confidence: float,
                      max_per_class: int | None, kmer_encoder=None, bpe_encoder=None) -> dict:
    """Every CAD option against the model; returns the stand-alone encoders to read from."""
    check_probability(confidence, "confidence")
    if min_samples < 1:
        raise MednaError(f"min_samples must be at least 1, got {min_samples}")
    if max_per_class is not None and max_per_class < 1:
        raise MednaError(f"max_per_class must be at least 1, got {max_per_class}")
    standalone = {}
    if kmer_encoder:
        encoder, tokenizer = load_dnabert(kmer_encoder)
        standalone["kmer"] = (encoder.to(model.device), tokenizer)
    if bpe_encoder:
        standalone["bpe"] = (load_dnabert2(bpe_encoder).to(model.device),
                             BpeTokenizer.from_file(Path(bpe_encoder) / "tokenizer.json"))
    for view in views:
        model.require_view(view)
        encoder = standalone[view][0] if view in standalone else \
            (model.kmer_encoder if view == "kmer" else model.bpe_encoder)
        layer_index(encoder, layer, view)
        check_heads(encoder, heads, view)
    return standalone


def check_cwga_options(model: MednaDFM, views, top_dims: int, n_samples: int, confidence: float, steps: int,
                       internal_batch_size: int, min_count: int, gc_strata: int = 1) -> None:
    """Every CWGA option against the model (views, top_dims within its width, counts), before any work."""
    check_probability(confidence, "confidence")
    for view in views:
        model.require_view(view)
    if not 1 <= top_dims <= model.width:
        raise MednaError(f"top_dims {top_dims} is larger than the model width d = {model.width}",
                         hint=f"choose --top-dims between 1 and {model.width}")
    for name, value, least in (("n_samples", n_samples, 2), ("steps", steps, 1),
                               ("internal_batch_size", internal_batch_size, 1), ("min_count", min_count, 1)):
        if value < least:
            raise MednaError(f"{name} must be at least {least}, got {value}")
    if gc_strata > n_samples:
        raise MednaError(f"gc_strata {gc_strata} is larger than n_samples {n_samples}, the most windows CWGA "
                         f"explains per class", hint="choose --gc-strata at most --n-samples")


def check_motif_options(database: DatabaseChoice, meme_bin: str | None, backend: str = "meme",
                        controls: str = "negatives", modisco: bool = False) -> None:
    """MEME tools, the TOMTOM backend, the controls, modisco-lite when asked for and the motif
    database, before any STREME run."""
    check_controls(controls)
    if modisco:
        require_modisco()
    if backend not in BACKENDS:
        raise MednaError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    find_tool("streme", meme_bin)
    if backend == "meme":
        find_tool("tomtom", meme_bin)
    else:
        try:
            import memelite  # noqa: F401
        except ImportError:
            raise MednaError("the memelite backend needs the memelite package",
                             hint="pip install 'medna-interp[memelite]', or use --backend meme") from None
    read_meme(database.path())


def check_probability(value: float, name: str) -> None:
    if not 0.0 <= value < 1.0:
        raise MednaError(f"{name} must be in [0, 1), got {value}")
