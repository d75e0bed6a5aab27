"""MEDNA-DFM checkpoints on disk: our directory format, DNABERT starting points, and
the authors' ``Fusion`` state dicts.

A checkpoint directory holds ``config.json`` (fusion config, both encoder configs,
tokenizer files, provenance, metrics), ``model.safetensors`` and both tokenizers
(``vocab.txt``, ``tokenizer.json``).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import torch
from transformers import BertConfig

from ..core.errors import MednaError
from ..core.outputs import CHECKPOINT_FORMAT, claim_directory, staged
from ..core.provenance import sha256_of
from ..data.tokenize import BpeTokenizer, KmerTokenizer
from .dnabert import load_dnabert, quiet_transformers
from .dnabert2 import DnaBert2Config, load_dnabert2, load_state_strict, read_weights, save_dnabert2
from .medna_dfm import MednaConfig, MednaDFM

FORMAT = CHECKPOINT_FORMAT
KMER_VOCAB, BPE_TOKENIZER, WEIGHTS, CONFIG = "vocab.txt", "tokenizer.json", "model.safetensors", "config.json"
#: Sub-directories of an encoder pair (``pretrain``, ``export-encoders``).
KMER_DIR, BPE_DIR = "kmer", "bpe"
#: Every file a checkpoint directory may hold that we write; nothing else there is touched.
CHECKPOINT_FILES = (CONFIG, WEIGHTS, KMER_VOCAB, BPE_TOKENIZER)

#: The authors' ``Fusion`` prefixes and ours.
AUTHORS_PREFIXES = {"bertone.bert.": "kmer_encoder.", "berttwo.bert.": "bpe_encoder.", "film_mer.": "film."}
_IGNORED_AUTHOR_KEYS = re.compile(
    r"(\.position_ids$|\.token_type_ids$|^bpe_encoder\.pooler\.|^(bertone|berttwo)\.cls\.)")


def save_pretrained(model: MednaDFM, directory: str | os.PathLike, *,
                    provenance: dict | None = None, metrics: dict | None = None,
                    window_length: int | None = None, baseline: dict | None = None, force: bool = False) -> Path:
    """Write ``model`` as a checkpoint directory.

    The files appear together; in an existing checkpoint directory only the checkpoint's
    own files are replaced (see :func:`medna_interp.core.outputs.claim_directory`).

    Parameters
    ----------
    model : the model to save
    directory : the checkpoint directory (new, empty, or a checkpoint of ours)
    provenance, metrics : stored in ``config.json``
    baseline : the baselines fitted on the same split (``{"linear": LinearBaseline.to_dict()}``),
        stored in ``config.json`` so that ``evaluate`` scores them on the same test sets
    window_length : the window length the model was trained on; data of another length
        is refused when the checkpoint is used
    force : write into a directory that is not a checkpoint of ours

    Returns
    -------
    Path : ``directory``
    """
    from safetensors.torch import save_file

    directory = Path(directory)
    claim_directory(directory, "checkpoint", force=force)
    payload: dict[str, Any] = {
        "format": FORMAT,
        "format_version": 1,
        "model": model.config.to_dict(),
        "kmer_encoder": _bert_config_dict(model.kmer_encoder.config),
        "bpe_encoder": model.bpe_encoder.config.to_dict() if model.has_bpe_view else None,
        "tokenizers": {
            "kmer": {"file": KMER_VOCAB, "k": model.kmer_tokenizer.k},
            "bpe": {"file": BPE_TOKENIZER} if model.has_bpe_view else None,
        },
        "window_length": window_length,
        "provenance": provenance or {},
        "metrics": metrics or {},
        **({"baseline": baseline} if baseline else {}),
    }
    with staged(directory, replaces=CHECKPOINT_FILES) as stage:
        (stage.path / CONFIG).write_text(json.dumps(payload, indent=2) + "\n")
        state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
        save_file(state, str(stage.path / WEIGHTS))
        model.kmer_tokenizer.save(stage.path / KMER_VOCAB)
        if model.has_bpe_view:
            model.bpe_tokenizer.save(stage.path / BPE_TOKENIZER)
    model.window_length = window_length
    return directory


def _bert_config_dict(config: BertConfig) -> dict:
    values = config.to_dict()
    for key in ("_attn_implementation", "_attn_implementation_autoset", "transformers_version",
                "architectures", "output_attentions"):
        values.pop(key, None)
    return values


def read_checkpoint_config(directory: str | os.PathLike) -> dict:
    """The checkpoint's ``config.json`` (fails with a user error if absent or not ours)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise MednaError(f"{directory}: checkpoint directory not found")
    path = directory / CONFIG
    if not path.exists():
        raise MednaError(f"{directory}: checkpoint is missing {CONFIG} "
                         f"(expected {CONFIG}, {WEIGHTS}, {KMER_VOCAB}, {BPE_TOKENIZER})")
    try:
        payload = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise MednaError(f"{path}:{error.lineno}: invalid JSON ({error.msg})") from None
    except (OSError, UnicodeDecodeError) as error:
        raise MednaError(f"{path}: cannot read ({error.__class__.__name__})") from None
    if isinstance(payload, dict) and payload.get("format") == "medna-interp-baseline":
        raise MednaError(f"{directory}: a baseline directory (logistic regression and CNN), not a MEDNA-DFM "
                         "checkpoint; explanations need the transformer's attention and FiLM",
                         hint="give a checkpoint written by 'medna-interp train' (baselines go to evaluate and predict)")
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise MednaError(f"{path}: not a medna-interp checkpoint (for the authors' Fusion .pt files "
                         "use 'medna-interp import-checkpoint')")
    return payload


def from_pretrained(directory: str | os.PathLike, device: torch.device | str = "cpu",
                    precision: str = "fp32") -> MednaDFM:
    """Load a checkpoint directory written by :func:`save_pretrained`, in eval mode, to run
    at ``precision`` (``fp32``, ``bf16`` or ``auto``; see :mod:`medna_interp.core.precision`)."""
    from ..core.precision import resolve_precision

    precision = resolve_precision(precision, device)  # a bad value fails before anything is read
    directory = Path(directory)
    payload = read_checkpoint_config(directory)
    has_bpe = payload.get("bpe_encoder") is not None
    needed = [WEIGHTS, KMER_VOCAB] + ([BPE_TOKENIZER] if has_bpe else [])
    missing = [name for name in needed if not (directory / name).exists()]
    if missing:
        raise MednaError(f"{directory}: checkpoint is missing {', '.join(missing)}")
    try:
        config = MednaConfig.from_dict(payload["model"])
        kmer_config = BertConfig.from_dict(payload["kmer_encoder"])
        bpe_config = DnaBert2Config.from_dict(payload["bpe_encoder"]) if has_bpe else None
        window_length = payload.get("window_length")
        if window_length is not None and (not isinstance(window_length, int) or window_length < 1):
            raise TypeError(f"window_length must be a positive integer, got {window_length!r}")
    except MednaError as error:
        raise MednaError(f"{directory / CONFIG}: {error}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise MednaError(f"{directory / CONFIG}: malformed config ({error.__class__.__name__}: {error})") from None
    kmer_tokenizer = KmerTokenizer.from_file(directory / KMER_VOCAB)
    bpe_tokenizer = BpeTokenizer.from_file(directory / BPE_TOKENIZER) if has_bpe else None
    model = MednaDFM.build(config, kmer_config, bpe_config, kmer_tokenizer, bpe_tokenizer)
    load_state_strict(model, read_weights(directory), str(directory / WEIGHTS))
    model.window_length = window_length
    model.precision = precision
    return model.to(device).eval()


def from_encoders(kmer_dir: str | os.PathLike, bpe_dir: str | os.PathLike | None,
                  config: MednaConfig | None = None) -> MednaDFM:
    """A MEDNA-DFM whose encoders start from DNABERT-k and DNABERT-2 directories."""
    config = config or MednaConfig()
    kmer_encoder, kmer_tokenizer = load_dnabert(kmer_dir)
    bpe_encoder = bpe_tokenizer = None
    if config.fusion != "kmer_only":
        if bpe_dir is None:
            raise MednaError(f"fusion {config.fusion!r} needs a DNABERT-2 directory as well",
                             hint="add --bpe-encoder DIR")
        bpe_encoder = load_dnabert2(bpe_dir)
        bpe_encoder.pooler = None  # h_bpe is a mean over tokens; the pooler is unused
        bpe_tokenizer = BpeTokenizer.from_file(Path(bpe_dir) / BPE_TOKENIZER)
    return MednaDFM(config, kmer_encoder, bpe_encoder, kmer_tokenizer, bpe_tokenizer)


def save_encoders(directory: str | os.PathLike, kmer_encoder, kmer_tokenizer: KmerTokenizer,
                  bpe_encoder, bpe_tokenizer: BpeTokenizer) -> None:
    """Write ``directory/kmer`` (DNABERT-k: transformers weights and ``vocab.txt``) and
    ``directory/bpe`` (DNABERT-2: ``bert.``-prefixed weights and ``tokenizer.json``), the
    layout that ``--kmer-encoder``/``--bpe-encoder`` read. The encoders may carry their
    masked-LM heads (pretraining) or not (encoders taken from a trained model)."""
    directory = Path(directory)
    with quiet_transformers():
        kmer_encoder.save_pretrained(str(directory / KMER_DIR))
    kmer_tokenizer.save(directory / KMER_DIR / KMER_VOCAB)
    save_dnabert2(bpe_encoder, directory / BPE_DIR, bpe_tokenizer)


def export_encoders(checkpoint: str | os.PathLike, output: str | os.PathLike, force: bool = False) -> Path:
    """Write a trained model's encoders as DNABERT directories (``output/kmer``,
    ``output/bpe``), to initialise other data sets' models as the paper's domain-adaptive
    stage does. Returns ``output``."""
    from ..core.provenance import PROVENANCE, TOOL, provenance
    from ..core.outputs import write_json

    claim_directory(output, "encoders", inputs=[checkpoint], force=force)
    model = from_pretrained(checkpoint)
    if not model.has_bpe_view:
        raise MednaError(f"{checkpoint}: a k-mer-only model has no DNABERT-2 encoder to export")
    record = {**provenance({}, {"checkpoint": checkpoint}, None), "tool": TOOL, "kind": "encoders"}
    with staged(output, replaces=(KMER_DIR, BPE_DIR)) as stage:
        save_encoders(stage.path, model.kmer_encoder, model.kmer_tokenizer, model.bpe_encoder, model.bpe_tokenizer)
        write_json(stage.path / PROVENANCE, record)
    return Path(output)


def same_tokenizers(model: MednaDFM, kmer_dir: str | os.PathLike, bpe_dir: str | os.PathLike | None,
                    where: str) -> None:
    """Fail unless the encoder directories tokenise exactly as ``model`` (from ``where``) does."""
    kmer = KmerTokenizer.from_file(Path(kmer_dir) / KMER_VOCAB)
    if kmer.vocabulary != model.kmer_tokenizer.vocabulary:
        raise MednaError(f"{where}: its k-mer tokenizer differs from {Path(kmer_dir) / KMER_VOCAB}; --init needs "
                         "the encoders it was trained from", hint="drop --kmer-encoder/--bpe-encoder, or --init")
    if bpe_dir is not None and model.has_bpe_view:
        bpe = BpeTokenizer.from_file(Path(bpe_dir) / BPE_TOKENIZER)
        if bpe.tokenizer.get_vocab() != model.bpe_tokenizer.tokenizer.get_vocab():
            raise MednaError(f"{where}: its BPE tokenizer differs from {Path(bpe_dir) / BPE_TOKENIZER}; --init "
                             "needs the encoders it was trained from", hint="drop --kmer-encoder/--bpe-encoder, or --init")


def import_fusion(fusion_path: str | os.PathLike, kmer_dir: str | os.PathLike, bpe_dir: str | os.PathLike,
                  output: str | os.PathLike, bpe_pooling: str = "unmasked_mean", force: bool = False) -> Path:
    """Convert the authors' ``Fusion`` state dict (``.pt``) into a checkpoint directory.

    The encoder directories supply configs and tokenizers; every weight comes from the
    ``.pt`` file. ``bpe_pooling`` defaults to the authors' unmasked mean so that
    predictions match theirs.
    """
    fusion_path = Path(fusion_path)
    claim_directory(output, "checkpoint", inputs=(fusion_path, kmer_dir, bpe_dir), force=force)
    try:
        state = torch.load(fusion_path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise MednaError(f"{fusion_path}: no such file") from None
    except Exception as error:
        raise MednaError(f"{fusion_path}: cannot read state dict ({error.__class__.__name__})") from None
    for wrapper in ("state_dict", "model", "model_state_dict"):
        if isinstance(state, dict) and isinstance(state.get(wrapper), dict):
            state = state[wrapper]
    if not isinstance(state, dict) or not any(k.startswith(("bertone.", "module.bertone.")) for k in state):
        raise MednaError(f"{fusion_path}: not a Fusion state dict (no 'bertone.*' keys)")
    state = {_authors_key(k.removeprefix("module.")): v for k, v in state.items()}
    state = {k: v for k, v in state.items() if not _IGNORED_AUTHOR_KEYS.search(k)}
    n_experts = len({k.split(".")[1] for k in state if k.startswith("experts.")})
    config = MednaConfig(n_experts=n_experts, bpe_pooling=bpe_pooling)
    if "experts.0.transformer_encoder.layers.0.linear1.weight" in state:
        config.expert_ff = state["experts.0.transformer_encoder.layers.0.linear1.weight"].shape[0]
    if "classification.0.weight" in state:
        config.classifier_hidden = state["classification.0.weight"].shape[0]
    model = from_encoders(kmer_dir, bpe_dir, config)
    load_state_strict(model, state, str(fusion_path))
    provenance = {"imported_from": {"path": str(fusion_path), "sha256": sha256_of(fusion_path)},
                  "kmer_encoder": str(kmer_dir), "bpe_encoder": str(bpe_dir)}
    return save_pretrained(model, output, provenance=provenance, window_length=41, force=force)


def _authors_key(key: str) -> str:
    for theirs, ours in AUTHORS_PREFIXES.items():
        if key.startswith(theirs):
            return ours + key[len(theirs):]
    return key


def describe(directory: str | os.PathLike) -> dict[str, Any]:
    """Summary of a checkpoint: configs, parameter counts per component, tokenizers, metrics."""
    payload = read_checkpoint_config(directory)
    model = from_pretrained(directory)
    counts = {name: sum(p.numel() for p in child.parameters()) for name, child in model.named_children()}
    return {
        "checkpoint": str(directory),
        "model": payload["model"],
        "width": model.width,
        "kmer_encoder": {k: payload["kmer_encoder"].get(k) for k in
                         ("hidden_size", "num_hidden_layers", "num_attention_heads", "vocab_size")},
        "bpe_encoder": None if payload["bpe_encoder"] is None else {
            k: payload["bpe_encoder"][k] for k in
            ("hidden_size", "num_hidden_layers", "num_attention_heads", "vocab_size")},
        "tokenizers": {"kmer": f"{model.kmer_tokenizer.k}-mer, {len(model.kmer_tokenizer)} entries",
                       "bpe": None if not model.has_bpe_view else f"BPE, {len(model.bpe_tokenizer)} entries"},
        "parameters": {"total": sum(counts.values()), **counts},
        "window_length": payload.get("window_length"),
        "metrics": payload.get("metrics", {}),
        "provenance": payload.get("provenance", {}),
    }
