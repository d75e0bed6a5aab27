"""Training MEDNA-DFM as the paper does: AdamW, flooding, FGM on both word embeddings.

Validation uses a split carved from the training data (never the test set, unlike the
authors' script): the kept epoch is the last of the schedule, except from DNABERT-size
encoders, where it is the best by validation AUPRC, with early stopping.
"""

from __future__ import annotations

import copy
import os
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..core.device import resolve_device, seed_everything
from ..core.errors import MednaError
from ..core.metrics import binary_metrics
from ..core.margin import Versus
from ..core.outputs import claim_directory
from ..core.precision import resolve_precision
from ..core.provenance import Resources, provenance
from ..core.sequence import reverse_complement
from ..data.io import SequenceSet
from ..data.splits import source_counts, training_split
from ..data.tokenize import train_bpe_tokenizer
from ..models.checkpoint import from_encoders, from_pretrained, same_tokenizers, save_pretrained
from ..models.medna_dfm import MednaConfig, MednaDFM
from ..models.predict import predict_proba
from ..models.sizes import SIZES, new_model, size_config
from .baseline import fit_linear
from .recipes import DEFAULT_LR, DEFAULTS, KEEPS, PAPER_WIDTH


def flooding_loss(loss: torch.Tensor, level: float) -> torch.Tensor:
    """Flooding (Ishida et al. 2020): ``|loss - b| + b``; below ``b`` the gradient ascends."""
    if level <= 0:
        return loss
    return (loss - level).abs() + level


class FGM:
    """Fast Gradient Method on embedding matrices: ``r = eps * g / ||g||_2`` per matrix."""

    def __init__(self, parameters: list[nn.Parameter], epsilon: float = 1.0):
        self.parameters = parameters
        self.epsilon = epsilon
        self._backup: list[torch.Tensor] = []

    def attack(self) -> None:
        self._backup = [p.detach().clone() for p in self.parameters]
        with torch.no_grad():
            for parameter in self.parameters:
                if parameter.grad is None:
                    continue
                norm = parameter.grad.norm()
                if norm > 0 and torch.isfinite(norm):
                    parameter.add_(self.epsilon * parameter.grad / norm)

    def restore(self) -> None:
        with torch.no_grad():
            for parameter, saved in zip(self.parameters, self._backup):
                parameter.copy_(saved)
        self._backup = []


def warmup_then_decay(total_steps: int, warmup: float):
    """Learning-rate factor per step: linear 0 -> 1 over ``warmup`` of the steps, then 1 -> 0.
    ``warmup=0`` keeps the rate constant."""
    if warmup <= 0:
        return lambda step: 1.0
    warm = max(1, int(round(warmup * total_steps)))

    def factor(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        return max(0.0, (total_steps - step) / max(1, total_steps - warm))

    return factor


def start_kind(model: MednaDFM) -> str:
    """The recipe (a key of :data:`DEFAULTS` and :data:`DEFAULT_LR`) for a model whose
    encoders start from trained weights: the paper's fine-tuning for DNABERT-size encoders,
    the from-scratch recipe at a lower rate for the narrower ones ``pretrain`` makes."""
    return "pretrained" if model.width >= PAPER_WIDTH else "pretrained_narrow"


@dataclass(frozen=True)
class TrainConfig:
    """Training settings; ``None`` takes the default of the starting point (see :data:`DEFAULTS`)."""

    epochs: int | None = None
    lr: float | None = None
    weight_decay: float = 0.003
    batch_size: int = 64
    flood: float = 0.06
    fgm_epsilon: float | None = None
    patience: int = 4
    valid_fraction: float = 0.1
    seed: int = 0
    #: fraction of all steps spent warming the learning rate up linearly, after which it
    #: decays linearly to 0; 0 keeps it constant
    warmup: float | None = None
    #: per-base probability of replacing a training base by a random one, drawn anew for
    #: every batch (the centre base is kept); 0 trains on the windows as given
    augment: float | None = None
    #: probability that a training window is replaced by its reverse complement, drawn anew for
    #: every batch: teaches strand symmetry (5mC/5hmC at CpG), off by default
    rc_augment: float = 0.0
    #: which weights training ends with: ``best``, the epoch with the highest validation
    #: AUPRC, stopping after ``patience`` epochs without a better one; ``last``, every epoch
    #: of the schedule and the final weights (``patience`` unused)
    keep: str | None = None
    #: ``fp32``, ``bf16`` (autocast, fp32 master weights) or ``auto`` (see :mod:`medna_interp.core.precision`)
    precision: str = "fp32"

    def resolved(self, start: str, lr: float) -> "TrainConfig":
        """A copy with every ``None`` replaced by the default for ``start`` (pretrained or scratch)."""
        chosen = {k: v for k, v in DEFAULTS[start].items() if getattr(self, k) is None}
        return replace(self, lr=self.lr or lr, **chosen)


@dataclass
class TrainResult:
    """The epoch whose weights were kept, its validation metrics, every epoch's record, and
    the validation metrics of the linear baseline fitted on the same split."""

    best_epoch: int
    validation: dict
    history: list[dict] = field(default_factory=list)
    baseline: dict = field(default_factory=dict)

    @property
    def versus(self) -> Versus:
        """The model's validation AUC against the baseline's, and whether the margin is enough."""
        return Versus(self.validation.get("auc"), self.baseline.get("auc") if self.baseline else None)


def _substitute(sequences: list[str], rate: float, rng: np.random.Generator) -> list[str]:
    """Each base except the centre replaced by a uniformly drawn base with probability ``rate``."""
    array = np.array([list(s) for s in sequences])
    hit = rng.random(array.shape) < rate
    hit[:, array.shape[1] // 2] = False
    array[hit] = rng.choice(list("ACGT"), size=int(hit.sum()))
    return ["".join(row) for row in array]


def fit(model: MednaDFM, train_data: SequenceSet, valid_data: SequenceSet, config: TrainConfig,
        lr: float, progress: bool = True) -> TrainResult:
    """Train in place and leave ``model`` holding the kept epoch's weights (``config.keep``)."""
    from tqdm.auto import tqdm

    if any(getattr(config, k) is None for k in ("lr", *DEFAULTS["scratch"])):
        config = config.resolved("scratch", lr)
    seed_everything(config.seed)
    device = model.device
    model.precision = resolve_precision(config.precision, device)
    labels = torch.as_tensor(train_data.require_labels())
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.999), weight_decay=config.weight_decay)
    embeddings = [model.kmer_encoder.get_input_embeddings().weight]
    if model.has_bpe_view:
        embeddings.append(model.bpe_encoder.get_input_embeddings().weight)
    fgm = FGM(embeddings, config.fgm_epsilon) if config.fgm_epsilon > 0 else None
    rng = np.random.default_rng(config.seed)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, warmup_then_decay(config.epochs * -(-len(train_data) // config.batch_size), config.warmup))

    best_score, best_state, best_epoch, stale = -np.inf, None, 0, 0
    history: list[dict] = []
    for epoch in range(1, config.epochs + 1):
        model.train()
        order = rng.permutation(len(train_data))
        batches = [order[i : i + config.batch_size] for i in range(0, len(order), config.batch_size)]
        bar = tqdm(batches, desc=f"epoch {epoch}/{config.epochs}", disable=not progress, leave=False)
        losses = []
        started = time.perf_counter()
        for index in bar:
            batch = [train_data.sequences[i] for i in index]
            if config.augment > 0:
                batch = _substitute(batch, config.augment, rng)
            if config.rc_augment > 0:
                flip = rng.random(len(batch)) < config.rc_augment
                batch = [reverse_complement(s) if f else s for s, f in zip(batch, flip)]
            inputs = model.tokenize(batch)
            target = labels[index].to(device)
            optimiser.zero_grad(set_to_none=True)
            loss = flooding_loss(F.cross_entropy(model.run(inputs).logits, target), config.flood)
            loss.backward()
            if fgm is not None:
                fgm.attack()
                flooding_loss(F.cross_entropy(model.run(inputs).logits, target), config.flood).backward()
                fgm.restore()
            optimiser.step()
            schedule.step()
            losses.append(loss.item())
            bar.set_postfix(loss=f"{np.mean(losses):.4f}")
        seconds = time.perf_counter() - started
        metrics = binary_metrics(valid_data.labels, predict_proba(model, valid_data.sequences, config.batch_size))
        record = {"epoch": epoch, "train_loss": float(np.mean(losses)), "seconds": round(seconds, 2),
                  **metrics.to_dict()}
        history.append(record)
        if progress:
            print(f"epoch {epoch}: loss {record['train_loss']:.4f}  valid AUPRC {metrics.auprc:.4f}  "
                  f"AUC {metrics.auc:.4f}  ACC {metrics.acc:.4f}", flush=True)
        if config.keep == "last":
            best_epoch = epoch
        elif metrics.auprc > best_score:
            best_score, best_epoch, stale = metrics.auprc, epoch, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            stale += 1
            if stale >= config.patience:
                break
    if config.keep == "best":
        model.load_state_dict(best_state)
    model.eval()
    return TrainResult(best_epoch, history[best_epoch - 1], history)


def train(
    train_path: str | os.PathLike,
    output: str | os.PathLike,
    *,
    valid_path: str | os.PathLike | None = None,
    negatives: str | os.PathLike | None = None,
    size: str = "tiny",
    kmer_encoder: str | os.PathLike | None = None,
    bpe_encoder: str | os.PathLike | None = None,
    init: str | os.PathLike | None = None,
    model_config: MednaConfig | None = None,
    config: TrainConfig | None = None,
    length: int | None = 41,
    device: str = "auto",
    progress: bool = True,
    force: bool = False,
) -> tuple[Path, TrainResult]:
    """Read data, build or load the model, train, and write the checkpoint.

    Starts from a trained MEDNA-DFM checkpoint when ``init`` is given (every weight; its
    encoders replaced by ``kmer_encoder``/``bpe_encoder`` when those are given too, which
    must tokenise as it does), else from DNABERT directories when ``kmer_encoder`` is given,
    else from a randomly initialised model of ``size`` with a BPE tokenizer trained on the
    training windows. The output is checked before anything is read or trained, so
    training never fails at the end for want of a place to write.

    Parameters
    ----------
    train_path : one labelled file, or a list of them to pool (the paper's multi-species
        stage); the counts per file go into ``config.json``
    negatives : negative windows; ``train_path`` then holds the positives
    config : training settings; unset ones take the defaults of the starting point

    Returns
    -------
    (Path, TrainResult) : the checkpoint directory and the training history
    """
    config = config or TrainConfig()
    paths = list(train_path) if isinstance(train_path, (list, tuple)) else [train_path]
    claim_directory(output, "checkpoint", force=force,
                    inputs=[*paths, valid_path, negatives, kmer_encoder, bpe_encoder, init])
    if kmer_encoder is None and bpe_encoder is not None:
        raise MednaError("--bpe-encoder needs --kmer-encoder as well")
    if kmer_encoder is None and size not in SIZES:
        raise MednaError(f"unknown size {size!r}; choose one of {', '.join(SIZES)}")
    if config.keep not in (None, *KEEPS):
        raise MednaError(f"keep must be one of {', '.join(KEEPS)}, got {config.keep!r}")
    torch_device = resolve_device(device)
    config = replace(config, precision=resolve_precision(config.precision, torch_device))
    initial = from_pretrained(init) if init is not None else None  # a bad checkpoint fails before the data is read
    if initial is not None and kmer_encoder is not None:
        same_tokenizers(initial, kmer_encoder, bpe_encoder, str(init))
    if model_config is None:
        model_config = size_config(size) if kmer_encoder is None else MednaConfig()
    train_data, valid_data = training_split(paths, valid_path, negatives, length, config.valid_fraction, config.seed)
    if initial is not None and initial.window_length not in (None, train_data.length):
        raise MednaError(f"{init}: trained on {initial.window_length}-bp windows, but the data has "
                         f"{train_data.length}-bp windows")

    resources = Resources()
    seed_everything(config.seed)
    if initial is not None:
        model = initial
        if kmer_encoder is not None:
            encoders = from_encoders(kmer_encoder, bpe_encoder, initial.config)
            model.kmer_encoder.load_state_dict(encoders.kmer_encoder.state_dict())
            if model.has_bpe_view:
                model.bpe_encoder.load_state_dict(encoders.bpe_encoder.state_dict())
        model_config = model.config
        kind = start_kind(model)
        config = config.resolved(kind, DEFAULT_LR[kind])
        start = f"checkpoint {init}" + (f" with encoders {kmer_encoder}, {bpe_encoder}" if kmer_encoder else "")
    elif kmer_encoder is not None:
        model = from_encoders(kmer_encoder, bpe_encoder, model_config)
        kind = start_kind(model)
        config = config.resolved(kind, DEFAULT_LR[kind])
        start = f"DNABERT encoders ({kmer_encoder}{', ' + str(bpe_encoder) if bpe_encoder else ''})"
    else:
        tokenizer = None if model_config.fusion == "kmer_only" else \
            train_bpe_tokenizer(train_data.sequences, SIZES[size]["bpe_vocab"])
        model = new_model(size, tokenizer, config=model_config)
        config = config.resolved("scratch", DEFAULT_LR[size])
        start = f"random weights, size {size}"
    model.to(torch_device)
    if progress:
        kept = f"{config.epochs} epochs keeping the last" if config.keep == "last" else \
            f"up to {config.epochs} epochs keeping the best (patience {config.patience})"
        print(f"training from {start}: lr {config.lr:g}, FGM epsilon {config.fgm_epsilon:g}"
              f"{' (off)' if config.fgm_epsilon == 0 else ''}, head dropout {model_config.dropout:g}, "
              f"warm-up {config.warmup:g}, flooding {config.flood:g}, base substitutions {config.augment:g}, "
              f"{f'reverse complements {config.rc_augment:g}, ' if config.rc_augment else ''}"
              f"{kept}, batch {config.batch_size}, {config.precision}, "
              f"{len(train_data)} training and {len(valid_data)} validation windows", flush=True)

    result = fit(model, train_data, valid_data, config, config.lr, progress)
    linear, result.baseline = fit_linear(train_data, valid_data)
    if progress:
        print(f"validation AUC: model {result.validation['auc']:.4f}, linear baseline "
              f"{result.baseline['auc']:.4f}", flush=True)
    if result.versus.verdict in ("below", "near"):
        print(f"warning: the model is {result.versus.verdict} the position-specific linear baseline: "
              f"{result.versus.sentence()}", file=sys.stderr, flush=True)
    inputs = {"train": paths[0], **{f"train_{n}": path for n, path in enumerate(paths[1:], 2)},
              "valid": valid_path, "negatives": negatives, "init": init}
    record = provenance({"train": asdict(config), "lr": config.lr, "dropout": model_config.dropout,
                         "size": None if kmer_encoder or init else size,
                         "kmer_encoder": kmer_encoder and str(kmer_encoder),
                         "bpe_encoder": bpe_encoder and str(bpe_encoder), "init": init and str(init)},
                        inputs, config.seed)
    record["training"] = {"best_epoch": result.best_epoch, "history": result.history,
                          "n_train": len(train_data), "n_valid": len(valid_data),
                          "sources": source_counts(paths, train_data, valid_data)}
    record["resources"] = resources.record()
    path = save_pretrained(model, output, provenance=record,
                           metrics={"validation": result.validation, "baseline_validation": {"linear": result.baseline}},
                           baseline={"linear": linear.to_dict()},
                           window_length=train_data.length, force=force)
    return path, result
