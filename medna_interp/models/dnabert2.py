"""Native DNABERT-2: the MosaicBERT-style encoder in plain PyTorch.

Parameter names match the public ``zhihan1996/DNABERT-2-117M`` checkpoint (without its
``bert.`` prefix), so its weights load with ``strict=True``. Unlike the remote code it
needs no triton, runs on CPU and GPU, accepts an attention mask on padded batches, and
returns every layer's attention probabilities on request (which CAD needs).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..core.errors import MednaError

#: Additive bias for masked keys, the constant of the original implementation.
MASK_BIAS = -10000.0


@dataclass
class DnaBert2Config:
    """Sizes of a DNABERT-2 encoder; defaults are those of the public 117M model."""

    vocab_size: int = 4096
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.0
    alibi_starting_size: int = 512

    @classmethod
    def from_dict(cls, values: dict) -> "DnaBert2Config":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads


def alibi_slopes(n_heads: int) -> torch.Tensor:
    """ALiBi slopes, shape (n_heads,): geometric for a power of two, interleaved otherwise."""

    def geometric(n: int) -> list[float]:
        start = 2.0 ** (-(2.0 ** -(math.log2(n) - 3)))
        return [start ** (i + 1) for i in range(n)]

    if math.log2(n_heads).is_integer():
        slopes = geometric(n_heads)
    else:
        lower = 2 ** math.floor(math.log2(n_heads))
        slopes = geometric(lower) + geometric(2 * lower)[0::2][: n_heads - lower]
    return torch.tensor(slopes, dtype=torch.float32)


def alibi_bias(n_heads: int, length: int, device=None, dtype=torch.float32) -> torch.Tensor:
    """Symmetric ALiBi bias ``-slope_h * |i - j|``, shape (n_heads, length, length)."""
    position = torch.arange(length, device=device)
    distance = (position[None, :] - position[:, None]).abs().to(dtype)
    return -alibi_slopes(n_heads).to(device=device, dtype=dtype)[:, None, None] * distance


class DnaBert2Embeddings(nn.Module):
    def __init__(self, config: DnaBert2Config):
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, word_vectors: torch.Tensor, token_type_ids: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.LayerNorm(word_vectors + self.token_type_embeddings(token_type_ids)))


class DnaBert2SelfAttention(nn.Module):
    def __init__(self, config: DnaBert2Config):
        super().__init__()
        self.n_heads = config.num_attention_heads
        self.head_dim = config.head_dim
        self.Wqkv = nn.Linear(config.hidden_size, 3 * config.hidden_size)
        self.dropout = nn.Dropout(config.attention_probs_dropout_prob)

    def forward(self, hidden: torch.Tensor, bias: torch.Tensor, need_weights: bool):
        batch, length, _ = hidden.shape
        qkv = self.Wqkv(hidden).view(batch, length, 3, self.n_heads, self.head_dim)
        query, key, value = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # each (B, heads, L, head_dim)
        if need_weights:
            scores = query @ key.transpose(-1, -2) / math.sqrt(self.head_dim) + bias
            probs = scores.float().softmax(dim=-1)  # fp32 probabilities whatever the autocast
            context = self.dropout(probs).to(value.dtype) @ value
        else:
            probs = None
            context = F.scaled_dot_product_attention(
                query, key, value, attn_mask=bias,
                dropout_p=self.dropout.p if self.training else 0.0,
            )
        return context.transpose(1, 2).reshape(batch, length, -1), probs


class DnaBert2SelfOutput(nn.Module):
    def __init__(self, config: DnaBert2Config):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, context: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dropout(self.dense(context)) + residual)


class DnaBert2Attention(nn.Module):
    def __init__(self, config: DnaBert2Config):
        super().__init__()
        self.self = DnaBert2SelfAttention(config)
        self.output = DnaBert2SelfOutput(config)

    def forward(self, hidden, bias, need_weights):
        context, probs = self.self(hidden, bias, need_weights)
        return self.output(context, hidden), probs


class DnaBert2GatedMLP(nn.Module):
    def __init__(self, config: DnaBert2Config):
        super().__init__()
        self.intermediate_size = config.intermediate_size
        self.gated_layers = nn.Linear(config.hidden_size, 2 * config.intermediate_size, bias=False)
        self.act = nn.GELU(approximate="none")
        self.wo = nn.Linear(config.intermediate_size, config.hidden_size)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.layernorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        gate, value = self.gated_layers(hidden).split(self.intermediate_size, dim=-1)
        return self.layernorm(self.wo(self.dropout(self.act(gate) * value)) + hidden)


class DnaBert2Layer(nn.Module):
    def __init__(self, config: DnaBert2Config):
        super().__init__()
        self.attention = DnaBert2Attention(config)
        self.mlp = DnaBert2GatedMLP(config)

    def forward(self, hidden, bias, need_weights):
        attended, probs = self.attention(hidden, bias, need_weights)
        return self.mlp(attended), probs


class DnaBert2Encoder(nn.Module):
    def __init__(self, config: DnaBert2Config):
        super().__init__()
        self.layer = nn.ModuleList(DnaBert2Layer(config) for _ in range(config.num_hidden_layers))


class DnaBert2Pooler(nn.Module):
    def __init__(self, config: DnaBert2Config):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.activation = nn.Tanh()

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.activation(self.dense(hidden[:, 0]))


@dataclass
class DnaBert2Output:
    """Encoder outputs.

    Attributes
    ----------
    last_hidden_state : torch.Tensor, shape (B, L, H)
    attentions : tuple of num_hidden_layers tensors of shape (B, heads, L, L), or None
    pooler_output : torch.Tensor, shape (B, H), or None when the model has no pooler
    """

    last_hidden_state: torch.Tensor
    attentions: tuple[torch.Tensor, ...] | None = None
    pooler_output: torch.Tensor | None = None


class DnaBert2Model(nn.Module):
    """DNABERT-2 encoder (ALiBi attention, gated-GELU MLP, post-LayerNorm)."""

    def __init__(self, config: DnaBert2Config, add_pooler: bool = False):
        super().__init__()
        self.config = config
        self.embeddings = DnaBert2Embeddings(config)
        self.encoder = DnaBert2Encoder(config)
        self.pooler = DnaBert2Pooler(config) if add_pooler else None
        self.apply(self._init_weights)

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)
            if isinstance(module, nn.Linear) and module.bias is not None:
                nn.init.zeros_(module.bias)

    def get_input_embeddings(self) -> nn.Embedding:
        return self.embeddings.word_embeddings

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        output_attentions: bool = False,
    ) -> DnaBert2Output:
        """Encode a batch.

        Parameters
        ----------
        input_ids : LongTensor, shape (B, L); or give ``inputs_embeds``
        attention_mask : shape (B, L), 1 = attend; ``None`` attends to every position
            (what the authors' scripts did with padded batches)
        inputs_embeds : shape (B, L, H), word-embedding vectors used instead of
            looking up ``input_ids`` (for gradient attribution)
        output_attentions : also return each layer's attention probabilities
        """
        word_vectors = self.embeddings.word_embeddings(input_ids) if inputs_embeds is None else inputs_embeds
        batch, length, _ = word_vectors.shape
        if token_type_ids is None:
            token_type_ids = torch.zeros((batch, length), dtype=torch.long, device=word_vectors.device)
        hidden = self.embeddings(word_vectors, token_type_ids)

        bias = alibi_bias(self.config.num_attention_heads, length, hidden.device, hidden.dtype)[None]
        if attention_mask is not None:
            keep = attention_mask[:, None, None, :].to(hidden.dtype)
            bias = bias + (1.0 - keep) * MASK_BIAS
        else:
            bias = bias.expand(batch, -1, -1, -1)

        attentions = []
        for layer in self.encoder.layer:
            hidden, probs = layer(hidden, bias, output_attentions)
            if output_attentions:
                attentions.append(probs)
        pooled = self.pooler(hidden) if self.pooler is not None else None
        return DnaBert2Output(hidden, tuple(attentions) if output_attentions else None, pooled)


class DnaBert2ForMaskedLM(nn.Module):
    """The encoder with DNABERT-2's masked-LM head (``cls.predictions.*``, decoder tied to
    the word embeddings), for pretraining; saved and loaded in the public layout."""

    def __init__(self, config: DnaBert2Config, bert: DnaBert2Model | None = None):
        super().__init__()
        self.bert = bert if bert is not None else DnaBert2Model(config)
        hidden, vocab = config.hidden_size, config.vocab_size
        self.cls = nn.Module()
        self.cls.predictions = nn.Module()
        self.cls.predictions.transform = nn.Module()
        self.cls.predictions.transform.dense = nn.Linear(hidden, hidden)
        self.cls.predictions.transform.LayerNorm = nn.LayerNorm(hidden, eps=config.layer_norm_eps)
        self.cls.predictions.decoder = nn.Linear(hidden, vocab)
        self.cls.apply(DnaBert2Model._init_weights)
        self.cls.predictions.decoder.weight = self.bert.get_input_embeddings().weight

    @property
    def config(self) -> DnaBert2Config:
        return self.bert.config

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Vocabulary logits, shape (B, L, V)."""
        hidden = self.bert(input_ids, attention_mask).last_hidden_state
        head = self.cls.predictions
        return head.decoder(head.transform.LayerNorm(F.gelu(head.transform.dense(hidden))))


def clean_state_dict(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Strip the ``bert.`` prefix of the MLM checkpoint and drop its ``cls.*`` head."""
    cleaned = {}
    for key, value in state.items():
        if key.startswith("cls."):
            continue
        cleaned[key[len("bert."):] if key.startswith("bert.") else key] = value
    return cleaned


def read_weights(directory: Path) -> dict[str, torch.Tensor]:
    """Weights of a Hugging Face style directory (``model.safetensors`` or ``pytorch_model.bin``)."""
    safetensors_path, bin_path = directory / "model.safetensors", directory / "pytorch_model.bin"
    try:
        if safetensors_path.exists():
            from safetensors.torch import load_file

            return load_file(str(safetensors_path))
        if bin_path.exists():
            return torch.load(bin_path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise MednaError(f"{directory}: cannot read weights ({error.__class__.__name__}: {error})") from None
    raise MednaError(f"{directory}: no model.safetensors or pytorch_model.bin")


def load_state_strict(model: nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    """``load_state_dict(strict=True)``, with a one-line user error when the weights do not fit."""
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    mismatched = [k for k in own if k in state and tuple(own[k].shape) != tuple(state[k].shape)]
    if missing or unexpected or mismatched:
        parts = []
        if mismatched:
            k = mismatched[0]
            parts.append(f"{len(mismatched)} shape mismatches (e.g. {k}: file {tuple(state[k].shape)}, "
                         f"config {tuple(own[k].shape)})")
        if missing:
            parts.append(f"{len(missing)} missing (e.g. {missing[0]})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected (e.g. {unexpected[0]})")
        raise MednaError(f"{source}: weights do not fit the config: {'; '.join(parts)}")
    model.load_state_dict(state, strict=True)


def load_dnabert2(directory: str | os.PathLike) -> DnaBert2Model:
    """Load a DNABERT-2 directory in the public layout (``config.json`` + weights).

    The MLM head (``cls.*``) is ignored; a pooler is built only if the weights hold one.
    """
    return _load_dnabert2(Path(directory))[0]


def load_dnabert2_mlm(directory: str | os.PathLike) -> DnaBert2ForMaskedLM:
    """Load a DNABERT-2 directory with its masked-LM head, for continued pretraining; a
    directory without the head (a fine-tuned encoder) gets a freshly initialised one."""
    encoder, state = _load_dnabert2(Path(directory))
    encoder.pooler = None
    model = DnaBert2ForMaskedLM(encoder.config, encoder)
    own = model.cls.state_dict()
    head = {k[len("cls."):]: v for k, v in state.items() if k[len("cls."):] in own}
    if head:
        head["predictions.decoder.weight"] = own["predictions.decoder.weight"]
        load_state_strict(model.cls, head, str(directory))
    return model


def _load_dnabert2(directory: Path) -> tuple[DnaBert2Model, dict[str, torch.Tensor]]:
    """The encoder and the directory's raw weights (MLM head included)."""
    config_path = directory / "config.json"
    if not config_path.exists():
        raise MednaError(f"{directory}: not a DNABERT-2 directory (no config.json)")
    try:
        config = DnaBert2Config.from_dict(json.loads(config_path.read_text()))
    except (json.JSONDecodeError, TypeError, ValueError, AttributeError, UnicodeDecodeError) as error:
        raise MednaError(f"{config_path}: unreadable config ({error.__class__.__name__}: {error})") from None
    raw = read_weights(directory)
    state = clean_state_dict(raw)
    model = DnaBert2Model(config, add_pooler=any(k.startswith("pooler.") for k in state))
    load_state_strict(model, state, str(directory))
    return model, raw


def save_dnabert2(model: DnaBert2Model | DnaBert2ForMaskedLM, directory: str | os.PathLike,
                  tokenizer=None) -> None:
    """Write a directory in the public DNABERT-2 layout (``bert.``-prefixed weights, and
    the ``cls.*`` MLM head when ``model`` has one; the tied decoder weight is not repeated)."""
    from safetensors.torch import save_file

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    config = {"architectures": ["BertForMaskedLM"], "model_type": "bert", **model.config.to_dict()}
    (directory / "config.json").write_text(json.dumps(config, indent=2))
    if isinstance(model, DnaBert2ForMaskedLM):
        state = {k: v.detach().contiguous() for k, v in model.state_dict().items()
                 if k != "cls.predictions.decoder.weight"}
    else:
        state = {f"bert.{k}": v.detach().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(directory / "model.safetensors"))
    if tokenizer is not None:
        tokenizer.save(directory / "tokenizer.json")
