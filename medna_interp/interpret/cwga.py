"""CWGA, Contrastive Weighted Gradient Attribution (method.md section 5).

1. Rank the FiLM output dimensions (``h_mod``) by Cohen's d between the high-confidence
   positives and negatives; keep the top K with their signed d as weights w.
2. Attribute, per view and sample, with Integrated Gradients on that view's
   word-embedding vectors (the other view held at its actual input).
3. Per token string: class-mean attribution difference; C(t) and C(t) / max |C|.

IG is linear in the explained function, so explaining ``sum_d w_d * h_mod[d]`` once gives
exactly ``sum_d w_d * IG(h_mod[d])``: one pass instead of K (``per_dim=True`` keeps the K
passes, for verification).

Precision: at ``model.precision == "bf16"`` the encoders and the fusion head run under bf16
autocast (forward and backward), while the interpolated embeddings IG differentiates (their
gradients come back cast to fp32), the accumulation over steps, the Riemann sum and the
convergence delta stay fp32: rounding there would bias every attribution and the
completeness check alike. The h_mod ranking is taken on fp32 copies of the activations.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import torch

from ..core.errors import MednaError
from ..core.stats import adjusted_q, contrast_columns, stratified_statistics, token_occurrences
from ..data.composition import gc_strata as strata_of
from ..data.tokenize import TokenBatch, span_cover
from ..models.medna_dfm import MednaDFM
from ..models.predict import collect
from .cad import usable_strata

VIEWS = ("kmer", "bpe")
BASELINES = ("pad", "mask", "zero")
#: per-view default baseline: [PAD] ids for BPE (the authors' LayerIG), zero vectors for k-mers
DEFAULT_BASELINE = {"bpe": "pad", "kmer": "zero"}
TOKEN_COLUMNS = ["token", "n_pos", "n_neg", "mean_pos", "mean_neg", "summed_contribution", "scaled_contribution",
                 "contribution_adj", "p_adj", "q_adj"]


@dataclass
class DimensionRanking:
    """Per ``h_mod`` dimension statistics (shape (d,) each) and the chosen top dimensions."""

    table: pd.DataFrame
    dims: np.ndarray
    weights: np.ndarray


@dataclass
class ViewAttribution:
    """Attributions of one view for M samples.

    tokens : per sample, real token strings; spans : per sample (T, 2); scores : per
    sample (T,) token attributions (summed over the embedding axis);
    per_base : (M, length), each token's attribution shared equally among its bases;
    delta : (M,) IG convergence deltas; total : (M,) sum over all positions.
    """

    tokens: list[list[str]]
    spans: list[np.ndarray]
    scores: list[np.ndarray]
    per_base: np.ndarray
    delta: np.ndarray
    total: np.ndarray


@dataclass
class CwgaResult:
    """CWGA of a set of windows.

    Attributes
    ----------
    ranking : the h_mod dimension ranking (``ranking.table``: Cohen's d, Welch p, rank, selected)
    tokens : view -> DataFrame (token, n_pos, n_neg, class means, summed and scaled contribution)
    attributions : view -> per-window attributions (``per_base`` of shape (M, L), token
        scores and spans, IG convergence ``delta`` and ``total`` of shape (M,))
    options : the options used
    """
    ranking: DimensionRanking
    tokens: dict[str, pd.DataFrame]
    attributions: dict[str, ViewAttribution]
    options: dict = field(default_factory=dict)


def rank_dimensions(h_mod: np.ndarray, h_kmer: np.ndarray, labels: np.ndarray, top_dims: int = 40,
                    score: str = "activation") -> DimensionRanking:
    """Cohen's d and Welch p per dimension of ``h_mod`` (or ``h_mod - h_kmer`` for
    ``score="impact"``, the authors' variant); top ``top_dims`` by |d|."""
    if score not in ("activation", "impact"):
        raise MednaError(f"dimension score must be activation or impact, got {score!r}")
    width = h_mod.shape[1]
    if not 1 <= top_dims <= width:
        raise MednaError(f"top_dims {top_dims} is out of range: h_mod has {width} dimensions",
                         hint=f"choose --top-dims between 1 and {width}")
    values = h_mod if score == "activation" else h_mod - h_kmer
    stats = contrast_columns(values.astype(np.float64), labels)
    magnitude = np.where(np.isfinite(stats["d"]), np.abs(stats["d"]), 0.0)
    order = np.argsort(-magnitude, kind="stable")
    rank = np.empty(width, dtype=int)
    rank[order] = np.arange(1, width + 1)
    dims = order[:top_dims]
    table = pd.DataFrame({"dim": np.arange(width), "d": stats["d"], "p_value": stats["p"],
                          "mean_pos": stats["mean_pos"], "mean_neg": stats["mean_neg"],
                          "difference": stats["difference"], "rank": rank, "selected": rank <= top_dims})
    weights = np.nan_to_num(stats["d"][dims], posinf=0.0, neginf=0.0)
    return DimensionRanking(table.sort_values("rank").reset_index(drop=True), dims, weights)


class _Target(torch.nn.Module):
    """``h_mod[:, dims] @ weights`` (fused) or ``h_mod[:, dims]`` (per dimension) as a
    function of one view's word-embedding vectors, the other view's vector fixed."""

    def __init__(self, model: MednaDFM, view: str, dims: torch.Tensor, weights: torch.Tensor | None):
        super().__init__()
        self.model, self.view, self.dims, self.weights = model, view, dims, weights

    def forward(self, embeds, mask, other):
        if self.view == "kmer":
            h_kmer, _ = self.model.encode_kmer(None, mask, embeds)
            h_mod = self.model.fuse(h_kmer, other).h_mod
        else:
            h_bpe, _ = self.model.encode_bpe(None, mask, embeds)
            h_mod = self.model.fuse(other, h_bpe).h_mod
        chosen = h_mod[:, self.dims]
        return chosen @ self.weights if self.weights is not None else chosen


def _baseline_vectors(model: MednaDFM, view: str, batch: TokenBatch, embeds: torch.Tensor,
                      baseline: str) -> torch.Tensor:
    """Baseline embeddings: sequence positions replaced, [CLS]/[SEP]/padding kept."""
    tokenizer = model.kmer_tokenizer if view == "kmer" else model.bpe_tokenizer
    table = (model.kmer_encoder if view == "kmer" else model.bpe_encoder).get_input_embeddings()
    replace = torch.as_tensor(batch.is_sequence_token, device=embeds.device).unsqueeze(-1)
    if baseline == "zero":
        fill = torch.zeros_like(embeds)
    else:
        token = tokenizer.pad_id if baseline == "pad" else tokenizer.mask_id
        fill = table.weight[token].detach().expand_as(embeds)
    return torch.where(replace, fill, embeds)


def attribute_view(model: MednaDFM, sequences: Sequence[str], view: str, dims: np.ndarray,
                   weights: np.ndarray, *, baseline: str | None = None, steps: int = 50,
                   internal_batch_size: int = 128, per_dim: bool = False,
                   progress: bool = False) -> ViewAttribution:
    """Integrated Gradients of the weighted ``h_mod`` target on one view's embeddings."""
    from captum.attr import IntegratedGradients
    from tqdm.auto import tqdm

    baseline = baseline or DEFAULT_BASELINE[view]
    if baseline not in BASELINES:
        raise MednaError(f"IG baseline must be one of {', '.join(BASELINES)}, got {baseline!r}")
    model.eval()
    device = model.device
    dims_t = torch.as_tensor(dims, device=device)
    weights_t = torch.as_tensor(weights, dtype=torch.float32, device=device)
    explain = IntegratedGradients(_Target(model, view, dims_t, None if per_dim else weights_t))
    chunk = max(1, internal_batch_size // steps)
    tokens, spans, scores, per_base, deltas, totals = [], [], [], [], [], []
    length = len(sequences[0])
    bar = tqdm(total=len(sequences), desc=f"CWGA {view}", disable=not progress, leave=False)
    for start in range(0, len(sequences), chunk):
        part = list(sequences[start : start + chunk])
        inputs = model.tokenize(part).to(device)
        batch = inputs.kmer if view == "kmer" else inputs.bpe
        with torch.no_grad():
            if view == "kmer":
                other = model.encode_bpe(inputs.bpe.input_ids, inputs.bpe.attention_mask)[0] \
                    if model.has_bpe_view else None
                embeds = model.kmer_encoder.get_input_embeddings()(batch.input_ids)
            else:
                other = model.encode_kmer(inputs.kmer.input_ids, inputs.kmer.attention_mask)[0]
                embeds = model.bpe_encoder.get_input_embeddings()(batch.input_ids)
        reference = _baseline_vectors(model, view, batch, embeds, baseline)
        extra = (batch.attention_mask, other)
        targets = range(len(dims)) if per_dim else [None]
        attribution = torch.zeros_like(embeds)
        delta = torch.zeros(len(part), device=device)
        for k in targets:
            a, d = explain.attribute(embeds, baselines=reference, additional_forward_args=extra, target=k,
                                     n_steps=steps, internal_batch_size=internal_batch_size,
                                     return_convergence_delta=True)
            w = 1.0 if k is None else weights_t[k]
            attribution += w * a.detach()
            delta += w * d.detach().to(delta.dtype)
        token_scores = attribution.sum(-1).float().cpu().numpy()  # (B, L)
        for row in range(len(part)):
            row_tokens, row_spans, keep = batch.sequence_tokens(row)
            row_scores = token_scores[row][keep]
            tokens.append(row_tokens)
            spans.append(row_spans)
            scores.append(row_scores)
            cover = span_cover(row_spans, length)
            per_base.append((row_scores / cover.sum(1)) @ cover)
            totals.append(float(token_scores[row][batch.attention_mask[row].cpu().numpy().astype(bool)].sum()))
        deltas.append(delta.cpu().numpy())
        bar.update(len(part))
    bar.close()
    return ViewAttribution(tokens, spans, scores, np.vstack(per_base), np.concatenate(deltas), np.asarray(totals))


def aggregate_tokens(attribution: ViewAttribution, labels: np.ndarray, min_count: int = 3,
                     strata: np.ndarray | None = None) -> pd.DataFrame:
    """Per token string: class means over all occurrences, C(t) = mean_pos - mean_neg, C / max|C|.

    A class without the token contributes a mean of 0 (the token adds no attribution
    there). Tokens seen fewer than ``min_count`` times in all are dropped: single
    occurrences otherwise top the table by chance. With ``strata`` (shape (M windows,)):
    ``contribution_adj``, the class-mean difference within each stratum combined by inverse
    (Welch) variance, ``p_adj`` from a Welch test per stratum combined by Stouffer's method, and
    BH ``q_adj``; a class without the token in a stratum counts as 0 there, as above (NaN where
    no stratum holds the token twice in a class)."""
    frame = token_occurrences(attribution.tokens, attribution.scores, labels)
    grouped = frame.groupby(["token", "label"])["score"].agg(["mean", "count"]).unstack("label")
    grouped = grouped.reindex(columns=pd.MultiIndex.from_product([["mean", "count"], [0, 1]]))
    counts = grouped[("count", 1)].fillna(0) + grouped[("count", 0)].fillna(0)
    grouped = grouped[counts >= min_count]
    mean_pos, mean_neg = grouped[("mean", 1)].fillna(0.0), grouped[("mean", 0)].fillna(0.0)
    contribution = (mean_pos - mean_neg).to_numpy()
    peak = np.abs(contribution).max() if len(contribution) else 0.0
    table = pd.DataFrame({
        "token": grouped.index.to_numpy(),
        "n_pos": grouped[("count", 1)].fillna(0).astype(int).to_numpy(),
        "n_neg": grouped[("count", 0)].fillna(0).astype(int).to_numpy(),
        "mean_pos": mean_pos.to_numpy(), "mean_neg": mean_neg.to_numpy(),
        "summed_contribution": contribution,
        "scaled_contribution": contribution / peak if peak > 0 else contribution,
    }, columns=TOKEN_COLUMNS)
    if strata is not None and len(table):
        adjusted = stratified_statistics(frame, strata, standardized=False, absent_as_zero=True).reindex(table.token)
        table["contribution_adj"], table["p_adj"] = adjusted.estimate.to_numpy(), adjusted.p.to_numpy()
        table["q_adj"] = adjusted_q(table.p_adj.to_numpy())
    return table.sort_values(["summed_contribution", "token"], ascending=[False, True],
                             kind="stable").reset_index(drop=True)


def cwga(model: MednaDFM, sequences: Sequence[str], labels: np.ndarray, *, views: Sequence[str] = VIEWS,
         top_dims: int = 40, dim_score: str = "activation", baseline: str | None = None, steps: int = 50,
         internal_batch_size: int = 128, per_dim: bool = False, batch_size: int = 64,
         min_count: int = 3, progress: bool = False, gc_strata: int = 5) -> CwgaResult:
    """Contrastive weighted gradient attribution.

    Parameters
    ----------
    sequences : M windows (high-confidence positives and negatives); labels : (M,)
    top_dims : K dimensions of h_mod to aggregate
    baseline : "pad", "mask" or "zero"; None = per-view default (BPE pad, k-mer zero)
    per_dim : K IG passes instead of one fused pass (identical up to float error)
    min_count : tokens with fewer occurrences (both classes together) leave the table
    gc_strata : quantile bins of window GC for the adjusted columns (fewer when a class has fewer samples)

    Returns
    -------
    CwgaResult: dimension ranking, per-view token tables and attributions
    """
    labels = np.asarray(labels)
    for value, name in ((1, "positive"), (0, "negative")):
        if (labels == value).sum() < 2:
            raise MednaError(f"CWGA needs at least 2 {name} samples, got {(labels == value).sum()}")
    used = usable_strata(gc_strata, labels)
    for view in views:
        model.require_view(view)
    hidden = collect(model, list(sequences), ("h_mod", "h_kmer"), batch_size)
    ranking = rank_dimensions(hidden["h_mod"], hidden["h_kmer"], labels, top_dims, dim_score)
    tables, attributions = {}, {}
    for view in views:
        attributions[view] = attribute_view(model, sequences, view, ranking.dims, ranking.weights,
                                            baseline=baseline, steps=steps,
                                            internal_batch_size=internal_batch_size, per_dim=per_dim,
                                            progress=progress)
        tables[view] = aggregate_tokens(attributions[view], labels, min_count, strata_of(sequences, used))
    options = {"views": list(views), "top_dims": top_dims, "dim_score": dim_score,
               "baseline": {v: baseline or DEFAULT_BASELINE[v] for v in views}, "steps": steps,
               "internal_batch_size": internal_batch_size, "per_dim": per_dim, "min_count": min_count,
               "gc_strata": gc_strata, "gc_strata_used": used}
    return CwgaResult(ranking, tables, attributions, options)


def write_cwga(result: CwgaResult, directory: str | os.PathLike, ids: list[str], labels: np.ndarray) -> None:
    """``dims.tsv``, ``cwga_{view}.tsv`` and ``attributions.npz`` (per-base arrays, token spans, deltas)."""
    directory = Path(directory)
    result.ranking.table.to_csv(directory / "dims.tsv", sep="\t", index=False, float_format="%.6g")
    arrays = {"ids": np.asarray(ids), "labels": np.asarray(labels)}
    for view, table in result.tokens.items():
        table.to_csv(directory / f"cwga_{view}.tsv", sep="\t", index=False, float_format="%.6g")
        attribution = result.attributions[view]
        width = max(len(s) for s in attribution.scores)
        token_scores = np.full((len(attribution.scores), width), np.nan)
        token_spans = np.full((len(attribution.scores), width, 2), -1, dtype=np.int32)
        for i, (score, span) in enumerate(zip(attribution.scores, attribution.spans)):
            token_scores[i, : len(score)] = score
            token_spans[i, : len(span)] = span
        arrays.update({f"{view}_per_base": attribution.per_base, f"{view}_token_scores": token_scores,
                       f"{view}_token_spans": token_spans, f"{view}_delta": attribution.delta,
                       f"{view}_total": attribution.total})
    np.savez_compressed(directory / "attributions.npz", **arrays)
