"""CAD, Contrastive Attention Cohen's d (method.md section 4).

For every token string, the [CLS] attention it receives in high-confidence positives is
contrasted with what it receives in high-confidence negatives. Unlike the authors'
script, attention comes from the trained model's own encoders (stand-alone encoders
are an option), batches are used, and every occurrence of a token counts. Only the
chosen layer's [CLS] row is computed (:mod:`medna_interp.models.attention`), and
:func:`scan` reads it in the same pass that predicts the windows to select from.

Precision: at ``model.precision == "bf16"`` the layers below the chosen one run under
bf16 autocast, but the [CLS] row itself (its query, keys, scores and softmax) is computed
in fp32 from the captured hidden states, and so are the statistics: Cohen's d contrasts
small differences between probabilities that bf16 would round to about 3 digits.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, Sequence

import numpy as np
import pandas as pd
import torch

from ..core.errors import MednaError
from ..core.precision import autocast
from ..core.stats import (adjusted_q, benjamini_hochberg, cohens_d, stratified_statistics, token_occurrences,
                                     welch_p)
from ..data.composition import gc_strata as strata_of
from ..data.tokenize import TokenBatch, span_cover
from ..models.attention import LayerInput, check_heads, cls_attention_row, layer_index
from ..models.medna_dfm import MednaDFM

VIEWS = ("kmer", "bpe")
TOKEN_COLUMNS = ["token", "cad", "p_value", "q_value", "mean_pos", "mean_neg", "sd_pos", "sd_neg",
                 "n_pos", "n_neg", "cad_adj", "p_adj", "q_adj"]


@dataclass
class ViewAttention:
    """[CLS] attention for one view: per window, the real tokens, their spans and scores."""

    tokens: list[list[str]]
    spans: list[np.ndarray]
    scores: list[np.ndarray]

    def extend(self, batch: TokenBatch, cls_rows: np.ndarray) -> None:
        """Append a batch's windows from their [CLS] rows, shape (B, L)."""
        for row in range(len(cls_rows)):
            row_tokens, row_spans, keep = batch.sequence_tokens(row)
            self.tokens.append(row_tokens)
            self.spans.append(row_spans)
            self.scores.append(cls_rows[row][keep])

    def subset(self, index: Sequence[int]) -> "ViewAttention":
        return ViewAttention([self.tokens[i] for i in index], [self.spans[i] for i in index],
                             [self.scores[i] for i in index])


@dataclass
class PositionalProfile:
    """Per-nucleotide scores.

    per_base : np.ndarray, shape (M, length), a token's score spread over its bases and
        averaged where tokens overlap
    mean_pos, mean_neg, difference : np.ndarray, shape (length,)
    """

    per_base: np.ndarray
    mean_pos: np.ndarray
    mean_neg: np.ndarray
    difference: np.ndarray

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"position": np.arange(1, len(self.mean_pos) + 1), "mean_pos": self.mean_pos,
                             "mean_neg": self.mean_neg, "difference": self.difference})


@dataclass
class CadResult:
    """Per view: token statistics (sorted by CAd, descending) and positional profiles."""

    tokens: dict[str, pd.DataFrame]
    positional: dict[str, PositionalProfile]
    options: dict = field(default_factory=dict)


@dataclass
class _AttentionSource:
    """Where a view's attention comes from: an encoder, its tokenizer, and whether it
    runs with the attention mask (the authors' DNABERT-2 pooling ran without one)."""

    encoder: torch.nn.Module
    tokenizer: object
    masked: bool

    def mask(self, batch: TokenBatch) -> torch.Tensor | None:
        return batch.attention_mask if self.masked else None


def _attention_source(model: MednaDFM | None, view: str, standalone: tuple | None) -> _AttentionSource:
    if standalone is not None:
        encoder, tokenizer = standalone
        return _AttentionSource(encoder.eval(), tokenizer, True)
    model.require_view(view)
    if view == "kmer":
        return _AttentionSource(model.kmer_encoder.eval(), model.kmer_tokenizer, True)
    return _AttentionSource(model.bpe_encoder.eval(), model.bpe_tokenizer, model.config.bpe_pooling == "masked_mean")


def _head_mean(rows: torch.Tensor, heads: Sequence[int] | None) -> np.ndarray:
    """(B, heads, L) -> (B, L), averaged over the chosen heads."""
    if heads is not None:
        rows = rows[:, list(heads)]
    return rows.mean(1).float().cpu().numpy()


def cls_attention(model: MednaDFM | None, sequences: Sequence[str], view: str, layer: int = -1,
                  heads: Sequence[int] | None = None, batch_size: int = 64,
                  standalone: tuple | None = None) -> ViewAttention:
    """Attention from [CLS] to every real token in ``layer``, averaged over ``heads``.

    Only the layers up to ``layer`` run. Returns per window the token strings, spans
    (T, 2) and scores (T,), special tokens and padding removed.
    """
    source = _attention_source(model, view, standalone)
    index = layer_index(source.encoder, layer, view)
    check_heads(source.encoder, heads, view)
    device = next(source.encoder.parameters()).device
    precision = "fp32" if model is None else model.precision
    attention = ViewAttention([], [], [])
    with torch.inference_mode():
        for start in range(0, len(sequences), batch_size):
            batch = source.tokenizer.encode(sequences[start : start + batch_size]).to(device)
            mask = source.mask(batch)
            with LayerInput(source.encoder, index, stop=True) as captured, autocast(device, precision):
                source.encoder(input_ids=batch.input_ids, attention_mask=mask)
            attention.extend(batch, _head_mean(cls_attention_row(source.encoder, index, captured.hidden, mask),
                                               heads))
    return attention


class Scan(NamedTuple):
    """What :func:`scan` reads: ``probabilities`` of shape (N,) and ``attention``, view ->
    :class:`ViewAttention` of all N windows."""

    probabilities: np.ndarray
    attention: dict[str, ViewAttention]


def scan(model: MednaDFM, sequences: Sequence[str], views: Sequence[str] = VIEWS, layer: int = -1,
         heads: Sequence[int] | None = None, batch_size: int = 64) -> Scan:
    """P(modified) and the [CLS] attention of every window, from one forward pass.

    Selection needs the prediction of every window and CAD the attention of those
    selected; the forward pass that predicts already runs the encoders, so the
    attention rows cost only their own small computation.

    Returns
    -------
    Scan : ``probabilities``, shape (N,), and ``attention``, {view: ViewAttention} for all N windows
    """
    sources = {view: _attention_source(model, view, None) for view in views}
    indices = {view: layer_index(source.encoder, layer, view) for view, source in sources.items()}
    for view, source in sources.items():
        check_heads(source.encoder, heads, view)
    model.eval()
    probabilities, attention = [], {view: ViewAttention([], [], []) for view in views}
    with torch.inference_mode():
        for start in range(0, len(sequences), batch_size):
            inputs = model.tokenize(sequences[start : start + batch_size]).to(model.device)
            batches = {"kmer": inputs.kmer, "bpe": inputs.bpe}
            with contextlib.ExitStack() as stack:
                captured = {view: stack.enter_context(LayerInput(source.encoder, indices[view]))
                            for view, source in sources.items()}
                probabilities.append(model.run(inputs).probabilities.float().cpu().numpy())
            for view, source in sources.items():
                batch = batches[view]
                rows = cls_attention_row(source.encoder, indices[view], captured[view].hidden, source.mask(batch))
                attention[view].extend(batch, _head_mean(rows, heads))
    return Scan(np.concatenate(probabilities), attention)


def positional_profile(spans: list[np.ndarray], scores: list[np.ndarray], labels: np.ndarray,
                       length: int) -> PositionalProfile:
    """Spread each token's score over the bases it covers; average where tokens overlap."""
    per_base = np.zeros((len(scores), length))
    for i, (span, score) in enumerate(zip(spans, scores)):
        cover = span_cover(span, length)
        counts = cover.sum(0)
        per_base[i] = np.divide(score @ cover, counts, out=np.zeros(length), where=counts > 0)
    mean_pos, mean_neg = per_base[labels == 1].mean(0), per_base[labels == 0].mean(0)
    return PositionalProfile(per_base, mean_pos, mean_neg, mean_pos - mean_neg)


def token_statistics(tokens: list[list[str]], scores: list[np.ndarray], labels: np.ndarray,
                     min_samples: int = 3, per_sequence_mean: bool = False,
                     strata: np.ndarray | None = None) -> pd.DataFrame:
    """CAd, Welch p and BH q per token string, from every occurrence (or per-window means).

    With ``strata`` (shape (N windows,)), ``cad_adj``, ``p_adj`` and ``q_adj``: Cohen's d within
    each stratum combined by inverse variance; p from a Welch test in each stratum combined by
    Stouffer's method (:func:`~medna_interp.core.stats.stratified_statistics`), and its BH q.
    Without, NaN."""
    frame = token_occurrences(tokens, scores, labels)
    if per_sequence_mean:
        frame = frame.groupby(["window", "token", "label"], as_index=False)["score"].mean()
    grouped = frame.groupby(["token", "label"])["score"].agg(["mean", "var", "count"]).unstack("label")
    grouped = grouped.reindex(columns=pd.MultiIndex.from_product([["mean", "var", "count"], [0, 1]]))
    n_pos, n_neg = grouped[("count", 1)].fillna(0).astype(int), grouped[("count", 0)].fillna(0).astype(int)
    grouped = grouped[(n_pos >= min_samples) & (n_neg >= min_samples)]
    n_pos, n_neg = n_pos[grouped.index], n_neg[grouped.index]
    args = (grouped[("mean", 1)].to_numpy(), grouped[("mean", 0)].to_numpy(),
            grouped[("var", 1)].fillna(0).to_numpy(), grouped[("var", 0)].fillna(0).to_numpy(),
            n_pos.to_numpy(), n_neg.to_numpy())
    p = welch_p(*args)
    table = pd.DataFrame({
        "token": grouped.index.to_numpy(), "cad": cohens_d(*args), "p_value": p, "q_value": benjamini_hochberg(p),
        "mean_pos": args[0], "mean_neg": args[1], "sd_pos": np.sqrt(args[2]), "sd_neg": np.sqrt(args[3]),
        "n_pos": args[4], "n_neg": args[5],
    }, columns=TOKEN_COLUMNS)
    if strata is not None and len(table):
        adjusted = stratified_statistics(frame, strata, min_samples).reindex(table.token)
        table["cad_adj"], table["p_adj"] = adjusted.estimate.to_numpy(), adjusted.p.to_numpy()
        table["q_adj"] = adjusted_q(table.p_adj.to_numpy())
    return table.sort_values(["cad", "token"], ascending=[False, True], kind="stable").reset_index(drop=True)


def cad(model: MednaDFM | None, sequences: Sequence[str], labels: np.ndarray, *, views: Sequence[str] = VIEWS,
        layer: int = -1, heads: Sequence[int] | None = None, min_samples: int = 3,
        per_sequence_mean: bool = False, batch_size: int = 64,
        standalone: dict[str, tuple] | None = None,
        attention: dict[str, ViewAttention] | None = None, gc_strata: int = 5) -> CadResult:
    """Contrastive attention Cohen's d for each view.

    Parameters
    ----------
    sequences : N windows of equal length; labels : (N,) 0/1
    views : "kmer" and/or "bpe"
    layer : encoder layer whose attention is read (-1 = last)
    heads : head indices to average (None = all)
    standalone : optional {view: (encoder, tokenizer)} to read attention from
        stand-alone encoders instead of the model's own (the authors' way)
    attention : optional {view: ViewAttention} of these sequences, already read
        (by :func:`scan`, with the same layer and heads)
    gc_strata : quantile bins of window GC for the adjusted columns (``cad_adj``, ``p_adj``,
        ``q_adj``); a selection with fewer windows in a class uses that many

    Returns
    -------
    CadResult with, per view, a token table and a positional profile
    """
    labels = np.asarray(labels)
    used = usable_strata(gc_strata, labels)
    strata = strata_of(sequences, used)
    standalone, attention = standalone or {}, attention or {}
    tables, profiles = {}, {}
    for view in views:
        if view in attention:
            read = attention[view]
        else:
            read = cls_attention(model, sequences, view, layer, heads, batch_size, standalone.get(view))
        tables[view] = token_statistics(read.tokens, read.scores, labels, min_samples, per_sequence_mean, strata)
        profiles[view] = positional_profile(read.spans, read.scores, labels, len(sequences[0]))
    options = {"views": list(views), "layer": layer, "heads": None if heads is None else list(heads),
               "min_samples": min_samples, "per_sequence_mean": per_sequence_mean, "gc_strata": gc_strata,
               "gc_strata_used": used,
               "encoders": "standalone" if standalone else "checkpoint"}
    return CadResult(tables, profiles, options)


def _smaller_class(labels: np.ndarray) -> int:
    return int(min((np.asarray(labels) == value).sum() for value in (0, 1)))


def check_gc_strata(gc_strata: int, labels: np.ndarray, what: str = "windows") -> None:
    """``gc_strata`` between 1 and the number of ``what`` of the smaller class."""
    smaller = _smaller_class(labels)
    if smaller == 0:  # one class only: the selection says so in its own words
        return
    if not 1 <= gc_strata <= smaller:
        raise MednaError(f"gc_strata must lie between 1 and {smaller} (the {what} of the smaller class), "
                         f"got {gc_strata}")


def usable_strata(gc_strata: int, labels: np.ndarray) -> int:
    """``gc_strata``, or fewer when the smaller class has fewer windows than that (a small selection)."""
    if gc_strata < 1:
        raise MednaError(f"gc_strata must be at least 1, got {gc_strata}")
    return max(1, min(gc_strata, _smaller_class(labels)))


def write_cad(result: CadResult, directory: str | os.PathLike) -> None:
    """``cad_{view}.tsv``, ``cad_positional_{view}.tsv`` and ``cad_positional.npz`` in ``directory``."""
    directory = Path(directory)
    arrays = {}
    for view, table in result.tokens.items():
        table.to_csv(directory / f"cad_{view}.tsv", sep="\t", index=False, float_format="%.6g")
        profile = result.positional[view]
        profile.to_frame().to_csv(directory / f"cad_positional_{view}.tsv", sep="\t", index=False,
                                  float_format="%.6g")
        arrays[f"{view}_per_base"] = profile.per_base
    np.savez_compressed(directory / "cad_positional.npz", **arrays)
