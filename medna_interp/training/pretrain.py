"""Masked-language-model pretraining of both encoders on unlabelled DNA.

The paper's accuracy rests on DNABERT encoders pretrained on genomes; a user who can
download nothing can pretrain small ones here, on windows or genome chunks, and get two
directories in the published on-disk formats, which ``train --kmer-encoder DIR
--bpe-encoder DIR`` loads through the same code as DNABERT-6 and DNABERT-2:

* ``kmer/``: a transformers ``BertForMaskedLM`` (``config.json``, ``model.safetensors``)
  and ``vocab.txt``, trained as DNABERT-k was: contiguous spans of k k-mer tokens are
  masked together, since overlapping k-mers would otherwise give each masked token away;
* ``bpe/``: our native DNABERT-2 with its ``cls.predictions`` head and ``tokenizer.json``,
  trained with independent BPE-token masking.

Starting from existing DNABERT directories continues their training on the new data
(domain-adaptive pretraining). Each epoch's state is kept in the output directory, so an
interrupted run resumes where it stopped; the encoders appear only when all epochs are done.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from ..core.device import resolve_device, seed_everything
from ..core.errors import MednaError
from ..core.outputs import atomic_file, claim_directory, staged, write_json
from ..core.provenance import PROVENANCE, TOOL, Resources, provenance, read_provenance
from ..core.sequence import reverse_complement
from ..data.io import read_records
from ..data.tokenize import SPECIAL_TOKENS, BpeTokenizer, KmerTokenizer, kmer_vocabulary, train_bpe_tokenizer
from ..models.checkpoint import BPE_DIR, KMER_DIR, save_encoders
from ..models.dnabert import load_dnabert_mlm
from ..models.dnabert2 import DnaBert2ForMaskedLM, load_dnabert2_mlm
from ..models.sizes import SIZES, encoder_configs
from .train import warmup_then_decay

RESUME = "resume.pt"
#: Peak learning rates of masked-LM pretraining from random weights, by size.
PRETRAIN_LR = {"tiny": 1e-3, "small": 5e-4, "base": 1e-4}
#: Bases that may appear in genome FASTA; a piece holding any but A, C, G, T is skipped.
_IUPAC = set("ACGTNRYSWKMBDHV")


@dataclass(frozen=True)
class PretrainConfig:
    """Pretraining settings; ``lr`` None takes :data:`PRETRAIN_LR` of the size (a tenth of
    it when continuing from existing encoders)."""

    size: str = "tiny"
    epochs: int = 20
    lr: float | None = None
    batch_size: int = 64
    #: fraction of sequence tokens masked; k-mer spans are placed to mask about as many
    mask_rate: float = 0.15
    warmup: float = 0.06
    weight_decay: float = 0.01
    #: records longer than this are cut into non-overlapping pieces of this many bases
    window: int = 41
    #: windows held out to report masked-token accuracy on data the encoders did not see
    valid_fraction: float = 0.02
    seed: int = 0


@dataclass
class PretrainResult:
    """Where the encoders are, the per-epoch history, and the windows used per source.

    ``history`` rows: epoch, seconds, windows_per_second, and for each encoder (``kmer``,
    ``bpe``) the training loss and the held-out masked-token loss and accuracy.
    """

    directory: Path
    history: list[dict] = field(default_factory=list)
    sources: list[dict] = field(default_factory=list)
    resumed_from: int = 0

    @property
    def kmer_encoder(self) -> Path:
        return self.directory / KMER_DIR

    @property
    def bpe_encoder(self) -> Path:
        return self.directory / BPE_DIR


def pretraining_windows(paths: list[str | os.PathLike], *, window: int, k: int,
                        exclude: list[str | os.PathLike] = ()) -> tuple[list[str], list[dict]]:
    """Every piece of DNA pretraining may use, and a count per source.

    Records longer than ``window`` are cut into non-overlapping pieces of ``window`` bases
    (a shorter tail is dropped); shorter records are used whole. Pieces holding N or
    another ambiguity code are skipped, as are pieces equal to a window (or its reverse
    complement) of an ``exclude`` file, so a test split never reaches pretraining.

    Raises :class:`MednaError` for a file that is also excluded, a record shorter than
    ``k`` bases, or a character that is not a base.
    """
    excluded_files = {Path(os.path.abspath(p)): p for p in exclude}
    for path in paths:
        if Path(os.path.abspath(path)) in excluded_files:
            raise MednaError(f"{path}: given both as pretraining data and as held out (--exclude); "
                             "pretraining never reads a held-out split", hint=f"remove {path} from DATA")
    held_out: set[str] = set()
    for path in exclude:
        for _, sequence, _ in read_records(path):
            held_out.update((sequence, reverse_complement(sequence)))

    windows, sources, seen = [], [], set()
    for path in paths:
        resolved = Path(os.path.abspath(path))
        if resolved in seen:  # the same file named twice is read once
            continue
        seen.add(resolved)
        kept = ambiguous = removed = 0
        for ident, sequence, number in read_records(path):
            bad = next((base for base in sequence if base not in _IUPAC), None)
            if bad is not None:
                raise MednaError(f"{path}:{number}: invalid base {bad!r} in record {ident!r} "
                                 "(allowed: A, C, G, T and IUPAC ambiguity codes)")
            if len(sequence) < k:
                raise MednaError(f"{path}:{number}: record {ident!r} has {len(sequence)} bases, shorter than the "
                                 f"{k}-mer size; pretraining needs windows of at least {k} bases")
            step = window if len(sequence) > window else len(sequence)
            for start in range(0, len(sequence) - step + 1, step):
                piece = sequence[start : start + step]
                if not set(piece) <= set("ACGT"):
                    ambiguous += 1
                elif piece in held_out:
                    removed += 1
                else:
                    windows.append(piece)
                    kept += 1
        sources.append({"path": str(path), "windows": kept, "skipped_ambiguous": ambiguous,
                        "removed_held_out": removed})
    if not windows:
        raise MednaError(f"no usable windows in {', '.join(map(str, paths))} (all ambiguous or held out)")
    return windows, sources


# ---------------------------------------------------------------- masking

def _masked_inputs(ids: torch.Tensor, masked: np.ndarray, mask_id: int, ordinary: np.ndarray,
                   rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT's corruption of the chosen positions: 80 % [MASK], 10 % a random ordinary
    token, 10 % unchanged; labels are -100 everywhere else."""
    labels = torch.where(torch.as_tensor(masked), ids, torch.full_like(ids, -100))
    draw = rng.random(masked.shape)
    corrupted = ids.clone()
    corrupted[torch.as_tensor(masked & (draw < 0.8))] = mask_id
    swap = masked & (draw >= 0.8) & (draw < 0.9)
    corrupted[torch.as_tensor(swap)] = torch.as_tensor(rng.choice(ordinary, size=int(swap.sum())), dtype=ids.dtype)
    return corrupted, labels


def _at_least_one(chosen: np.ndarray, candidates: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Every row with candidates gets one chosen position if it has none (a row without a
    target would contribute nothing)."""
    for row in np.flatnonzero(~chosen.any(axis=1) & candidates.any(axis=1)):
        chosen[row, rng.choice(np.flatnonzero(candidates[row]))] = True
    return chosen


def mask_kmer_spans(batch, rate: float, k: int, rng: np.random.Generator,
                    tokenizer: KmerTokenizer) -> tuple[torch.Tensor, torch.Tensor]:
    """DNABERT-k masking: spans of ``k`` consecutive k-mer tokens, started at a rate that
    masks about ``rate`` of the tokens.

    Parameters
    ----------
    batch : TokenBatch of B windows, length L

    Returns
    -------
    (input_ids, labels) : LongTensors of shape (B, L)
    """
    tokens = batch.is_sequence_token
    starts = _at_least_one((rng.random(tokens.shape) < rate / k) & tokens, tokens, rng)
    masked = np.zeros_like(starts)
    for offset in range(k):
        masked[:, offset:] |= starts[:, : starts.shape[1] - offset]
    ordinary = np.arange(len(SPECIAL_TOKENS), len(tokenizer))
    return _masked_inputs(batch.input_ids, masked & tokens, tokenizer.mask_id, ordinary, rng)


def mask_bpe_tokens(batch, rate: float, rng: np.random.Generator,
                    tokenizer: BpeTokenizer) -> tuple[torch.Tensor, torch.Tensor]:
    """DNABERT-2 masking: each BPE token independently with probability ``rate``.

    Returns
    -------
    (input_ids, labels) : LongTensors of shape (B, L)
    """
    tokens = batch.is_sequence_token
    masked = _at_least_one((rng.random(tokens.shape) < rate) & tokens, tokens, rng)
    specials = {tokenizer.pad_id, tokenizer.unk_id, tokenizer.cls_id, tokenizer.sep_id, tokenizer.mask_id}
    ordinary = np.array([i for i in range(len(tokenizer)) if i not in specials])
    return _masked_inputs(batch.input_ids, masked, tokenizer.mask_id, ordinary, rng)


# ---------------------------------------------------------------- models

class _Scored(NamedTuple):
    """One encoder's masked-token loss on a batch, and how many of its masked tokens it got right."""

    loss: torch.Tensor
    correct: int
    masked: int


@dataclass
class _Encoders:
    """Both masked-LM models with their tokenizers."""

    kmer: torch.nn.Module
    kmer_tokenizer: KmerTokenizer
    bpe: DnaBert2ForMaskedLM
    bpe_tokenizer: BpeTokenizer

    def parameters(self):
        return [*self.kmer.parameters(), *self.bpe.parameters()]

    def train(self, mode: bool = True) -> None:
        self.kmer.train(mode)
        self.bpe.train(mode)

    def state(self) -> dict:
        return {"kmer": self.kmer.state_dict(), "bpe": self.bpe.state_dict()}

    def load(self, state: dict) -> None:
        self.kmer.load_state_dict(state["kmer"])
        self.bpe.load_state_dict(state["bpe"])

    def losses(self, windows: list[str], rate: float, rng: np.random.Generator,
               device: torch.device) -> dict[str, "_Scored"]:
        """Per encoder (``kmer``, ``bpe``): its loss and accuracy on ``windows``, masked afresh."""
        kmer_batch = self.kmer_tokenizer.encode(windows)
        bpe_batch = self.bpe_tokenizer.encode(windows)
        kmer_ids, kmer_labels = mask_kmer_spans(kmer_batch, rate, self.kmer_tokenizer.k, rng, self.kmer_tokenizer)
        bpe_ids, bpe_labels = mask_bpe_tokens(bpe_batch, rate, rng, self.bpe_tokenizer)
        kmer_logits = self.kmer(input_ids=kmer_ids.to(device),
                                attention_mask=kmer_batch.attention_mask.to(device)).logits
        bpe_logits = self.bpe(bpe_ids.to(device), bpe_batch.attention_mask.to(device))
        return {"kmer": _scored(kmer_logits, kmer_labels.to(device)), "bpe": _scored(bpe_logits, bpe_labels.to(device))}


def _scored(logits: torch.Tensor, labels: torch.Tensor) -> _Scored:
    target = labels != -100
    loss = F.cross_entropy(logits[target], labels[target])
    return _Scored(loss, int((logits[target].argmax(-1) == labels[target]).sum()), int(target.sum()))


def _new_encoders(size: str, windows: list[str]) -> _Encoders:
    from transformers import BertConfig, BertForMaskedLM

    kmer_tokenizer = KmerTokenizer(kmer_vocabulary(6), 6)
    bpe_tokenizer = train_bpe_tokenizer(windows, SIZES[size]["bpe_vocab"])
    kmer_config, bpe_config = encoder_configs(size, len(kmer_tokenizer), len(bpe_tokenizer))
    return _Encoders(BertForMaskedLM(BertConfig(**kmer_config)), kmer_tokenizer,
                     DnaBert2ForMaskedLM(bpe_config), bpe_tokenizer)


def _existing_encoders(kmer_dir: str | os.PathLike, bpe_dir: str | os.PathLike) -> _Encoders:
    kmer_dir, bpe_dir = Path(kmer_dir), Path(bpe_dir)
    for directory, needed in ((kmer_dir, ("config.json", "vocab.txt")), (bpe_dir, ("config.json", "tokenizer.json"))):
        missing = [name for name in needed if not (directory / name).exists()]
        if missing:
            raise MednaError(f"{directory}: not an encoder directory (no {', '.join(missing)})")
    kmer, kmer_tokenizer = load_dnabert_mlm(kmer_dir)
    return _Encoders(kmer, kmer_tokenizer, load_dnabert2_mlm(bpe_dir), BpeTokenizer.from_file(bpe_dir / "tokenizer.json"))


# ---------------------------------------------------------------- the command

def pretrain(
    data: list[str | os.PathLike],
    output: str | os.PathLike,
    *,
    config: PretrainConfig | None = None,
    exclude: list[str | os.PathLike] = (),
    kmer_encoder: str | os.PathLike | None = None,
    bpe_encoder: str | os.PathLike | None = None,
    device: str = "auto",
    progress: bool = True,
    force: bool = False,
) -> PretrainResult:
    """Pretrain a DNABERT-6 and a DNABERT-2 encoder by masked-token prediction.

    Parameters
    ----------
    data : unlabelled (or labelled; labels are ignored) windows in TSV, FASTA or plain
        text, or genome FASTA, cut into ``config.window``-base pieces
    output : directory that receives ``kmer/``, ``bpe/`` and ``provenance.json``
    exclude : held-out files (test splits): none of their windows is pretrained on
    kmer_encoder, bpe_encoder : continue training these encoders (both or neither);
        otherwise new ones of ``config.size`` are built, with a BPE vocabulary learnt
        from the data

    Returns
    -------
    PretrainResult
    """
    config = config or PretrainConfig()
    if (kmer_encoder is None) != (bpe_encoder is None):
        raise MednaError("continued pretraining needs both --kmer-encoder and --bpe-encoder")
    if config.size not in SIZES:
        raise MednaError(f"unknown size {config.size!r}; choose one of {', '.join(SIZES)}")
    output = claim_directory(output, "pretrained encoders", inputs=[*data, *exclude, kmer_encoder, bpe_encoder],
                             force=force)
    torch_device = resolve_device(device)
    windows, sources = pretraining_windows(list(data), window=config.window, k=6, exclude=list(exclude))
    inputs = {f"data_{i}": path for i, path in enumerate(data)}
    inputs.update({f"exclude_{i}": path for i, path in enumerate(exclude)})
    inputs.update({"kmer_encoder": kmer_encoder, "bpe_encoder": bpe_encoder})
    record = provenance({"pretrain": asdict(config), "kmer_encoder": kmer_encoder and str(kmer_encoder),
                         "bpe_encoder": bpe_encoder and str(bpe_encoder)}, inputs, config.seed)
    fingerprint = {"config": record["config"], "inputs": {k: v["sha256"] for k, v in record["inputs"].items()}}

    seed_everything(config.seed)
    order = np.random.default_rng(config.seed).permutation(len(windows))
    n_valid = max(1, int(round(config.valid_fraction * len(windows)))) if len(windows) > 1 else 0
    valid = [windows[i] for i in order[:n_valid]]
    train_windows = [windows[i] for i in order[n_valid:]] or valid
    if kmer_encoder is not None:
        encoders = _existing_encoders(kmer_encoder, bpe_encoder)
        lr = config.lr or PRETRAIN_LR[config.size] / 10
    else:
        encoders = _new_encoders(config.size, train_windows)
        lr = config.lr or PRETRAIN_LR[config.size]
    longest = config.window - encoders.kmer_tokenizer.k + 3  # k-mers, [CLS] and [SEP]
    if longest > encoders.kmer.config.max_position_embeddings:
        raise MednaError(f"--window {config.window} gives {longest} k-mer tokens, more than the k-mer encoder's "
                         f"{encoders.kmer.config.max_position_embeddings} positions",
                         hint="choose a smaller --window")
    encoders.kmer.to(torch_device)
    encoders.bpe.to(torch_device)
    optimiser = torch.optim.AdamW(encoders.parameters(), lr=lr, weight_decay=config.weight_decay)
    steps_per_epoch = -(-len(train_windows) // config.batch_size)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, warmup_then_decay(config.epochs * steps_per_epoch,
                                                                              config.warmup))
    history, start = _resume(Path(output), fingerprint, encoders, optimiser, schedule, torch_device)
    result = PretrainResult(Path(output), history, sources, resumed_from=start)
    if progress:
        what = f"continuing {kmer_encoder} and {bpe_encoder}" if kmer_encoder else f"new {config.size} encoders"
        print(f"pretraining {what} on {len(train_windows)} windows ({len(valid)} held out for accuracy), "
              f"lr {lr:g}, mask rate {config.mask_rate:g}, {config.epochs} epochs"
              + (f", resuming after epoch {start}" if start else ""), flush=True)
    resources = Resources()
    for epoch in range(start + 1, config.epochs + 1):
        # Each epoch draws from its own seeded stream, so a resumed run repeats the one it replaces.
        rng = np.random.default_rng([config.seed, epoch])
        torch.manual_seed(config.seed * 100_003 + epoch)
        encoders.train()
        started = time.perf_counter()
        totals = {"kmer": [], "bpe": []}
        shuffled = rng.permutation(len(train_windows))
        for begin in range(0, len(shuffled), config.batch_size):
            batch = [train_windows[i] for i in shuffled[begin : begin + config.batch_size]]
            scored = encoders.losses(batch, config.mask_rate, rng, torch_device)
            optimiser.zero_grad(set_to_none=True)
            (scored["kmer"].loss + scored["bpe"].loss).backward()
            torch.nn.utils.clip_grad_norm_(encoders.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            for name, score in scored.items():
                totals[name].append(score.loss.item())
        seconds = time.perf_counter() - started
        row = {"epoch": epoch, "seconds": round(seconds, 2),
               "windows_per_second": round(len(train_windows) / seconds, 1)}
        held_out = _evaluate(encoders, valid, config, torch_device)
        for name in ("kmer", "bpe"):
            row[f"{name}_train_loss"] = round(float(np.mean(totals[name])), 4)
            row.update({f"{name}_valid_{key}": value for key, value in held_out[name].items()})
        history.append(row)
        _save_state(Path(output), record, fingerprint, encoders, optimiser, schedule, history)
        if progress:
            print(f"epoch {epoch}: k-mer loss {row['kmer_train_loss']:.4f}, masked accuracy "
                  f"{row['kmer_valid_accuracy']:.3f}; BPE loss {row['bpe_train_loss']:.4f}, masked accuracy "
                  f"{row['bpe_valid_accuracy']:.3f}; {row['windows_per_second']:.0f} windows/s", flush=True)

    record.update({"tool": TOOL, "kind": "pretrained encoders", "finished": True, "fingerprint": fingerprint,
                   "sources": sources, "n_train": len(train_windows), "n_valid": len(valid), "lr": lr,
                   "history": history, "resources": resources.record()})
    with staged(output, replaces=(KMER_DIR, BPE_DIR, RESUME)) as stage:
        save_encoders(stage.path, encoders.kmer, encoders.kmer_tokenizer, encoders.bpe, encoders.bpe_tokenizer)
        write_json(stage.path / PROVENANCE, record)
    return result


def _evaluate(encoders: _Encoders, windows: list[str], config: PretrainConfig,
              device: torch.device) -> dict[str, dict[str, float]]:
    """Masked-token loss and accuracy on the held-out windows, the same masks every epoch."""
    rng = np.random.default_rng([config.seed, 0])
    encoders.train(False)
    scores: dict[str, list[_Scored]] = {"kmer": [], "bpe": []}
    with torch.no_grad():
        for begin in range(0, len(windows), config.batch_size):
            batch = windows[begin : begin + config.batch_size]
            for name, score in encoders.losses(batch, config.mask_rate, rng, device).items():
                scores[name].append(score)
    summary = {}
    for name, batches in scores.items():
        masked = max(sum(b.masked for b in batches), 1)
        summary[name] = {"loss": round(sum(b.loss.item() * b.masked for b in batches) / masked, 4),
                         "accuracy": round(sum(b.correct for b in batches) / masked, 4)}
    return summary


def _save_state(output: Path, record: dict, fingerprint: dict, encoders: _Encoders, optimiser, schedule,
                history: list[dict]) -> None:
    """The state after an epoch, and an unfinished provenance record that owns it."""
    state = {"fingerprint": fingerprint, "history": history, "encoders": encoders.state(),
             "optimiser": optimiser.state_dict(), "schedule": schedule.state_dict(),
             "bpe_tokenizer": encoders.bpe_tokenizer.tokenizer.to_str()}
    with atomic_file(output / RESUME, "wb") as handle:
        torch.save(state, handle)
    write_json(output / PROVENANCE, {**record, "tool": TOOL, "kind": "pretrained encoders", "finished": False,
                                     "epochs_done": len(history)})


def _resume(output: Path, fingerprint: dict, encoders: _Encoders, optimiser, schedule,
            device: torch.device) -> tuple[list[dict], int]:
    """(history, last finished epoch) of an interrupted run of the same command, else ([], 0)."""
    path = output / RESUME
    if not path.exists() or read_provenance(output).get("finished", True):
        return [], 0
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except Exception:  # a damaged state file: start over rather than fail
        return [], 0
    if state.get("fingerprint") != fingerprint or \
            state.get("bpe_tokenizer") != encoders.bpe_tokenizer.tokenizer.to_str():
        return [], 0
    encoders.load(state["encoders"])
    optimiser.load_state_dict(state["optimiser"])
    schedule.load_state_dict(state["schedule"])
    return state["history"], len(state["history"])
