"""MEDNA-DFM: a DNABERT-k view modulated by a DNABERT-2 view (FiLM), then a mixture of experts.

Module names follow the authors' ``Fusion`` class where one exists (``film_mer`` is
``film`` here, the encoders are ``kmer_encoder``/``bpe_encoder``) so their state dicts
map onto ours by prefix alone.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Literal

import torch
from torch import nn
from transformers import BertConfig, BertModel

from ..core.errors import MednaError
from ..core.precision import autocast
from ..data.tokenize import BpeTokenizer, KmerTokenizer, TokenBatch
from .dnabert import build_dnabert, eager_attention
from .dnabert2 import DnaBert2Config, DnaBert2Model

FUSIONS = ("film", "concat", "kmer_only", "reverse_film")
POOLINGS = ("masked_mean", "unmasked_mean")


@dataclass
class MednaConfig:
    """The fusion head's settings (the encoders carry their own configs).

    ``bpe_pooling="unmasked_mean"`` averages over every position, padding included, and
    runs DNABERT-2 without a mask, as the authors' scripts did; use it for their weights.
    """

    fusion: Literal["film", "concat", "kmer_only", "reverse_film"] = "film"
    n_experts: int = 4
    n_segments: int = 4
    expert_heads: int = 4
    expert_ff: int = 256
    dropout: float = 0.5
    classifier_hidden: int = 20
    bpe_pooling: Literal["masked_mean", "unmasked_mean"] = "masked_mean"

    @classmethod
    def from_dict(cls, values: dict) -> "MednaConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise MednaError(f"unknown MEDNA-DFM config keys: {', '.join(unknown)}")
        return cls(**values)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class MednaOutput:
    """Everything the interpretability modules read from one forward pass.

    Shapes for a batch of B windows and model width d; fields a variant does not
    compute are ``None`` (no gamma/beta without FiLM, no gate without experts).

    logits (B, 2); h_kmer (B, d); h_bpe (B, d); gamma (B, d); beta (B, d);
    h_mod (B, d); gate (B, n_experts); h_moe (B, d);
    kmer_attentions / bpe_attentions: per layer (B, heads, L, L) when requested.
    """

    logits: torch.Tensor
    h_kmer: torch.Tensor
    h_bpe: torch.Tensor | None
    gamma: torch.Tensor | None
    beta: torch.Tensor | None
    h_mod: torch.Tensor
    gate: torch.Tensor | None
    h_moe: torch.Tensor
    kmer_attentions: tuple[torch.Tensor, ...] | None = None
    bpe_attentions: tuple[torch.Tensor, ...] | None = None

    @property
    def probabilities(self) -> torch.Tensor:
        """P(modified), shape (B,)."""
        return self.logits.softmax(dim=-1)[:, 1]

    def float(self) -> "MednaOutput":
        """A copy with every tensor in fp32 (what a bf16 forward hands back)."""
        values = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, tuple):
                value = tuple(t.float() for t in value)
            values[item.name] = value.float() if isinstance(value, torch.Tensor) else value
        return MednaOutput(**values)


@dataclass
class ModelInputs:
    """Tokenised windows for both views (``bpe`` is None for the k-mer-only variant)."""

    kmer: TokenBatch
    bpe: TokenBatch | None

    def to(self, device) -> "ModelInputs":
        return ModelInputs(self.kmer.to(device), None if self.bpe is None else self.bpe.to(device))


class FiLM(nn.Module):
    """``[gamma, beta] = Linear(ReLU(Linear(condition)))``, gamma first."""

    def __init__(self, width: int):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(width, width // 2), nn.ReLU(), nn.Linear(width // 2, 2 * width))

    def forward(self, condition: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        gamma, beta = self.mlp(condition).chunk(2, dim=-1)
        return gamma, beta


class Gate(nn.Module):
    """The mixture-of-experts gate: softmax weights over the experts from the FiLM condition, shape (B, E)."""
    def __init__(self, width: int, n_experts: int):
        super().__init__()
        self.gate = nn.Linear(width, n_experts)

    def forward(self, condition: torch.Tensor) -> torch.Tensor:
        return self.gate(condition).softmax(dim=-1)


class Expert(nn.Module):
    """One Transformer encoder layer over ``n_segments`` slices of the vector, then residual LayerNorm."""

    def __init__(self, width: int, n_segments: int, heads: int, ff: int, dropout: float):
        super().__init__()
        self.n_segments = n_segments
        layer = nn.TransformerEncoderLayer(
            d_model=width // n_segments, nhead=heads, dim_feedforward=ff,
            dropout=dropout, activation="gelu", batch_first=True,
        )
        self.transformer_encoder = nn.TransformerEncoder(layer, num_layers=1, enable_nested_tensor=False)
        self.output_norm = nn.LayerNorm(width)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        segments = h.view(h.shape[0], self.n_segments, -1)
        return self.output_norm(h + self.transformer_encoder(segments).reshape(h.shape))


class MednaDFM(nn.Module):
    """The MEDNA-DFM classifier over two tokenised views of a window.

    Attributes ``kmer_tokenizer`` and ``bpe_tokenizer`` travel with the model so that
    :meth:`tokenize` turns raw windows into :class:`ModelInputs`.
    """

    def __init__(
        self,
        config: MednaConfig,
        kmer_encoder: BertModel,
        bpe_encoder: DnaBert2Model | None,
        kmer_tokenizer: KmerTokenizer,
        bpe_tokenizer: BpeTokenizer | None,
    ):
        super().__init__()
        _check_config(config, kmer_encoder.config, None if bpe_encoder is None else bpe_encoder.config)
        self.config = config
        self.kmer_tokenizer = kmer_tokenizer
        self.bpe_tokenizer = bpe_tokenizer
        width = kmer_encoder.config.hidden_size
        self.width = width
        self.kmer_encoder = kmer_encoder
        self.bpe_encoder = bpe_encoder
        if config.fusion in ("film", "reverse_film"):
            self.film = FiLM(width)
        elif config.fusion == "concat":
            self.concat = nn.Linear(2 * width, width)
        if config.n_experts > 0:
            self.gating = Gate(width, config.n_experts)
            self.experts = nn.ModuleList(
                Expert(width, config.n_segments, config.expert_heads, config.expert_ff, config.dropout)
                for _ in range(config.n_experts)
            )
            self.output_layer = nn.Linear(width, width)
        self.classification = nn.Sequential(
            nn.Linear(width, config.classifier_hidden), nn.Dropout(config.dropout), nn.ReLU(),
            nn.Linear(config.classifier_hidden, 2),
        )

    @classmethod
    def build(
        cls,
        config: MednaConfig,
        kmer_config: BertConfig | dict,
        bpe_config: DnaBert2Config | dict | None,
        kmer_tokenizer: KmerTokenizer,
        bpe_tokenizer: BpeTokenizer | None,
    ) -> "MednaDFM":
        """A randomly initialised model from configs."""
        if isinstance(bpe_config, dict):
            bpe_config = DnaBert2Config.from_dict(bpe_config)
        bpe_encoder = None if config.fusion == "kmer_only" else DnaBert2Model(bpe_config)
        return cls(config, build_dnabert(kmer_config), bpe_encoder, kmer_tokenizer, bpe_tokenizer)

    #: the window length the checkpoint was trained on (``None``: not recorded)
    window_length: int | None = None
    #: ``fp32`` or ``bf16``: the autocast the encoders and fusion head run under (see
    #: :mod:`medna_interp.core.precision`); an execution setting, not saved with the weights
    precision: str = "fp32"

    def _autocast(self):
        return autocast(self.device, self.precision)

    def require_length(self, length: int, source: str) -> None:
        """Fail with a user error when ``length``-bp windows (from ``source``) do not fit the model."""
        if self.window_length is not None and length != self.window_length:
            raise MednaError(f"{source}: windows are {length} bp, but the checkpoint was trained on "
                             f"{self.window_length}-bp windows")

    @property
    def has_bpe_view(self) -> bool:
        return self.bpe_encoder is not None

    def require_view(self, view: str) -> None:
        """Fail with a user error when ``view`` ("kmer" or "bpe") is not part of this model."""
        if view == "bpe" and not self.has_bpe_view:
            raise MednaError(f"the checkpoint has no BPE view (fusion {self.config.fusion!r})", hint="use --view kmer")

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def tokenize(self, sequences: list[str]) -> ModelInputs:
        kmer = self.kmer_tokenizer.encode(sequences)
        bpe = self.bpe_tokenizer.encode(sequences) if self.has_bpe_view else None
        return ModelInputs(kmer, bpe)

    def run(self, inputs: ModelInputs, **kwargs) -> MednaOutput:
        """Forward on tokenised inputs (moved to the model's device)."""
        inputs = inputs.to(self.device)
        return self(
            inputs.kmer.input_ids, inputs.kmer.attention_mask,
            None if inputs.bpe is None else inputs.bpe.input_ids,
            None if inputs.bpe is None else inputs.bpe.attention_mask,
            **kwargs,
        )

    def encode_kmer(self, ids, mask, embeds=None, output_attentions=False):
        """``h_kmer`` = BERT pooler output, shape (B, d), and optionally the attention maps (fp32)."""
        with self._autocast():
            if output_attentions:
                with eager_attention(self.kmer_encoder):
                    out = self.kmer_encoder(input_ids=None if embeds is not None else ids, attention_mask=mask,
                                            inputs_embeds=embeds, output_attentions=True)
                return out.pooler_output.float(), tuple(a.float() for a in out.attentions)
            out = self.kmer_encoder(input_ids=None if embeds is not None else ids, attention_mask=mask,
                                    inputs_embeds=embeds)
        return out.pooler_output.float(), None

    def encode_bpe(self, ids, mask, embeds=None, output_attentions=False):
        """``h_bpe`` = mean of DNABERT-2's last hidden states, shape (B, d)."""
        masked = self.config.bpe_pooling == "masked_mean"
        with self._autocast():
            out = self.bpe_encoder(input_ids=ids, attention_mask=mask if masked else None,
                                   inputs_embeds=embeds, output_attentions=output_attentions)
        hidden = out.last_hidden_state.float()
        attentions = None if out.attentions is None else tuple(a.float() for a in out.attentions)
        if masked:
            weights = mask.to(hidden.dtype).unsqueeze(-1)
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)
        else:
            pooled = hidden.mean(1)
        return pooled, attentions

    def fuse(self, h_kmer: torch.Tensor, h_bpe: torch.Tensor | None) -> MednaOutput:
        """Everything after the encoders: FiLM (or a variant), experts, classifier."""
        with self._autocast():
            output = self._fuse(h_kmer, h_bpe)
        return output.float() if self.precision != "fp32" else output

    def _fuse(self, h_kmer: torch.Tensor, h_bpe: torch.Tensor | None) -> MednaOutput:
        gamma = beta = None
        fusion = self.config.fusion
        if fusion == "film":
            gamma, beta = self.film(h_bpe)
            h_mod, condition = gamma * h_kmer + beta, h_bpe
        elif fusion == "reverse_film":
            gamma, beta = self.film(h_kmer)
            h_mod, condition = gamma * h_bpe + beta, h_kmer
        elif fusion == "concat":
            h_mod = self.concat(torch.cat([h_kmer, h_bpe], dim=-1))
            condition = h_bpe
        else:
            h_mod, condition = h_kmer, h_kmer
        gate = None
        if self.config.n_experts > 0:
            gate = self.gating(condition)
            mixed = torch.stack([expert(h_mod) for expert in self.experts], dim=1)
            h_moe = self.output_layer((gate.unsqueeze(-1) * mixed).sum(1))
        else:
            h_moe = h_mod
        return MednaOutput(self.classification(h_moe), h_kmer, h_bpe, gamma, beta, h_mod, gate, h_moe)

    def forward(
        self,
        kmer_ids: torch.Tensor,
        kmer_mask: torch.Tensor,
        bpe_ids: torch.Tensor | None = None,
        bpe_mask: torch.Tensor | None = None,
        *,
        kmer_embeds: torch.Tensor | None = None,
        bpe_embeds: torch.Tensor | None = None,
        output_attentions: bool = False,
    ) -> MednaOutput:
        """Classify a batch.

        Parameters
        ----------
        kmer_ids, kmer_mask : LongTensor, shape (B, Lk)
        bpe_ids, bpe_mask : LongTensor, shape (B, Lb); unused by ``kmer_only``
        kmer_embeds : shape (B, Lk, d), k-mer word-embedding vectors replacing the lookup
        bpe_embeds : shape (B, Lb, d), BPE word-embedding vectors replacing the lookup
        output_attentions : return every layer's attention maps of both encoders
        """
        with self._autocast():  # one context: the weights are cast to bf16 once per pass
            h_kmer, kmer_attentions = self.encode_kmer(kmer_ids, kmer_mask, kmer_embeds, output_attentions)
            h_bpe = bpe_attentions = None
            if self.has_bpe_view:
                h_bpe, bpe_attentions = self.encode_bpe(bpe_ids, bpe_mask, bpe_embeds, output_attentions)
            output = self.fuse(h_kmer, h_bpe)
        output.kmer_attentions, output.bpe_attentions = kmer_attentions, bpe_attentions
        return output


def _check_config(config: MednaConfig, kmer_config: BertConfig, bpe_config: DnaBert2Config | None) -> None:
    if config.fusion not in FUSIONS:
        raise MednaError(f"fusion must be one of {', '.join(FUSIONS)}, got {config.fusion!r}")
    if config.bpe_pooling not in POOLINGS:
        raise MednaError(f"bpe_pooling must be one of {', '.join(POOLINGS)}, got {config.bpe_pooling!r}")
    width = kmer_config.hidden_size
    if config.fusion != "kmer_only":
        if bpe_config is None:
            raise MednaError(f"fusion {config.fusion!r} needs a DNABERT-2 encoder")
        if bpe_config.hidden_size != width:
            raise MednaError(f"encoder widths differ: DNABERT-k {width}, DNABERT-2 {bpe_config.hidden_size}")
    if config.n_experts < 0:
        raise MednaError("n_experts must be >= 0")
    if config.n_experts and (width % config.n_segments or (width // config.n_segments) % config.expert_heads):
        raise MednaError(f"width {width} must split into {config.n_segments} segments "
                         f"whose size divides into {config.expert_heads} heads")
