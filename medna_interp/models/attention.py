"""One layer's [CLS] attention row, read without materialising every attention map.

CAD needs, per window, the attention from [CLS] in one layer. ``output_attentions=True``
makes every layer build its (B, heads, L, L) map on the slow eager path. Here the layers
before the chosen one keep their fused attention kernels, the hidden states entering the
chosen layer are captured, and only the [CLS] row is computed from that layer's query
and key weights. When nothing else is needed, the forward pass stops at that layer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import torch
from torch import nn
from transformers import BertModel

from ..core.errors import MednaError
from .dnabert2 import MASK_BIAS, DnaBert2Model, alibi_slopes


@dataclass
class _QueryKey:
    query: tuple[torch.Tensor, torch.Tensor]  # weight (H*dh, d), bias (H*dh,)
    key: tuple[torch.Tensor, torch.Tensor]
    n_heads: int
    alibi: bool  # DNABERT-2 adds -slope_h * |i - j| to every score
    masked_score: float  # what a padded key's score becomes before the softmax


def _layers(encoder: nn.Module) -> nn.ModuleList:
    return encoder.encoder.layer


def _query_key(encoder: nn.Module, index: int) -> _QueryKey:
    layer = _layers(encoder)[index]
    if isinstance(encoder, DnaBert2Model):
        width = encoder.config.hidden_size
        fused = layer.attention.self.Wqkv
        query = (fused.weight[:width], fused.bias[:width])
        key = (fused.weight[width : 2 * width], fused.bias[width : 2 * width])
        return _QueryKey(query, key, encoder.config.num_attention_heads, True, MASK_BIAS)
    if isinstance(encoder, BertModel):
        if getattr(encoder.config, "position_embedding_type", "absolute") != "absolute":
            raise MednaError("CAD supports DNABERT-k encoders with absolute position embeddings only")
        attention = layer.attention.self
        return _QueryKey((attention.query.weight, attention.query.bias), (attention.key.weight, attention.key.bias),
                         attention.num_attention_heads, False, torch.finfo(torch.float32).min)
    raise TypeError(f"no [CLS] attention reader for {type(encoder).__name__}")


def layer_index(encoder: nn.Module, layer: int, view: str) -> int:
    """``layer`` (negative counts from the end) as a 0-based index, or a user error."""
    n_layers = len(_layers(encoder))
    if not -n_layers <= layer < n_layers:
        raise MednaError(f"layer {layer} is out of range: the {view} encoder has {n_layers} layers",
                         hint=f"choose --layer between {-n_layers} and {n_layers - 1}")
    return layer % n_layers


def check_heads(encoder: nn.Module, heads: Sequence[int] | None, view: str) -> None:
    """A user error unless every head index (0-based) exists in the encoder."""
    n_heads = encoder.config.num_attention_heads
    if heads is not None and not all(0 <= head < n_heads for head in heads):
        raise MednaError(f"head indices {list(heads)} are out of range: the {view} encoder has {n_heads} heads "
                         "(0-based)", hint=f"choose --heads from 0 to {n_heads - 1}, or all")


class _Reached(Exception):
    """Raised by the capture hook to end a forward pass that has nothing left to compute."""


class LayerInput:
    """Context manager recording the hidden states, shape (B, L, d), entering one layer.

    With ``stop=True`` the forward pass ends there: the rest of the encoder never runs.
    """

    def __init__(self, encoder: nn.Module, index: int, stop: bool = False):
        self.layer = _layers(encoder)[index]
        self.stop = stop
        self.hidden: torch.Tensor | None = None

    def _record(self, module, args, kwargs):
        self.hidden = args[0] if args else kwargs["hidden_states"]
        if self.stop:
            raise _Reached

    def __enter__(self) -> "LayerInput":
        self._handle = self.layer.register_forward_pre_hook(self._record, with_kwargs=True)
        return self

    def __exit__(self, kind, value, traceback) -> bool:
        self._handle.remove()
        return kind is _Reached


def cls_attention_row(encoder: nn.Module, index: int, hidden: torch.Tensor,
                      attention_mask: torch.Tensor | None) -> torch.Tensor:
    """Attention probabilities from [CLS] in layer ``index``, shape (B, heads, L).

    Parameters
    ----------
    hidden : the hidden states entering that layer, shape (B, L, d)
    attention_mask : (B, L), 1 = attend, or None when the encoder ran without a mask
    """
    # fp32 whatever precision the encoder ran at: CAD compares these probabilities
    # across classes, and bf16 keeps only ~3 significant digits of them
    with torch.autocast(hidden.device.type, enabled=False):
        return _cls_row(_query_key(encoder, index), hidden.float(), attention_mask)


def _cls_row(weights: _QueryKey, hidden: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor:
    batch, length, _ = hidden.shape
    head_dim = weights.query[0].shape[0] // weights.n_heads
    query = nn.functional.linear(hidden[:, 0], *weights.query).view(batch, weights.n_heads, head_dim)
    key = nn.functional.linear(hidden, *weights.key).view(batch, length, weights.n_heads, head_dim)
    scores = torch.einsum("bhe,blhe->bhl", query, key) / math.sqrt(head_dim)
    if weights.alibi:
        distance = torch.arange(length, device=hidden.device, dtype=scores.dtype)
        scores = scores - alibi_slopes(weights.n_heads).to(scores)[:, None] * distance
    if attention_mask is not None:
        padded = (attention_mask == 0)[:, None, :]
        if weights.alibi:  # the native encoder adds its bias rather than replacing the score
            scores = scores + padded.to(scores.dtype) * weights.masked_score
        else:
            scores = scores.masked_fill(padded, weights.masked_score)
    return scores.softmax(dim=-1)
