"""Baselines every MEDNA-DFM should beat before its explanations mean much.

* ``linear``: position-specific logistic regression on one-hot bases (L x 4) and
  adjacent dinucleotides ((L - 1) x 16), L2-penalised, its strength chosen by validation
  AUPRC on the same stratified split :func:`medna_interp.training.train.train` uses.
* ``cnn``: a small one-hot CNN (two convolutions, global max pool), early-stopped on the
  same validation split.

A baseline directory holds ``config.json`` (format ``medna-interp-baseline``),
``linear.safetensors`` and ``cnn.safetensors``; ``evaluate`` and ``predict`` take it like
a checkpoint. The linear weights are also an explanation: :func:`linear_importance`.
"""

from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..core.errors import MednaError
from ..core.metrics import binary_metrics
from ..core.outputs import claim_directory, step_outputs
from ..core.provenance import provenance
from ..core.sequence import one_hot
from ..data.io import SequenceSet

FORMAT = "medna-interp-baseline"
MODELS = ("linear", "cnn")
#: L2 strengths tried (scikit-learn's C = 1 / strength)
C_GRID = (1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0, 10.0)


def features(sequences: list[str]) -> np.ndarray:
    """Shape (N, 4 L + 16 (L - 1)): one-hot bases, then one-hot adjacent dinucleotides, by position."""
    bases = one_hot(sequences)
    pairs = np.einsum("nla,nlb->nlab", bases[:, :-1], bases[:, 1:]).reshape(len(sequences), -1)
    return np.concatenate([bases.reshape(len(sequences), -1), pairs], axis=1)


@dataclass(frozen=True)
class LinearBaseline:
    """The fitted regression: ``coef`` of shape (4 L + 16 (L - 1),), ``intercept``, its ``c``."""

    coef: np.ndarray
    intercept: float
    c: float
    length: int

    def predict_proba(self, sequences: list[str], batch_size: int = 4096) -> np.ndarray:
        """P(modified), shape (N,)."""
        out = [features(sequences[i : i + batch_size]) @ self.coef + self.intercept
               for i in range(0, len(sequences), batch_size)]
        return 1.0 / (1.0 + np.exp(-np.concatenate(out)))

    def to_dict(self) -> dict:
        """JSON-ready, as a MEDNA-DFM checkpoint's ``config.json`` keeps the baseline fitted beside it."""
        return {"c": self.c, "length": self.length, "intercept": self.intercept,
                "features": "one-hot bases + adjacent dinucleotides", "coef": [float(w) for w in self.coef]}

    @classmethod
    def from_dict(cls, payload: dict) -> "LinearBaseline":
        length = int(payload["length"])
        coef = np.asarray(payload["coef"], dtype=np.float64)
        if coef.shape != (4 * length + 16 * (length - 1),):
            raise MednaError(f"a linear baseline for {length}-bp windows needs {4 * length + 16 * (length - 1)} "
                             f"weights, not {coef.size}")
        return cls(coef, float(payload["intercept"]), float(payload["c"]), length)


def checkpoint_linear(config: dict) -> LinearBaseline | None:
    """The linear baseline ``train`` fitted on a checkpoint's own split, from its ``config.json``
    (None for checkpoints written before it was kept there)."""
    payload = (config.get("baseline") or {}).get("linear")
    return LinearBaseline.from_dict(payload) if payload else None


def linear_importance(model: LinearBaseline) -> np.ndarray:
    """Per-position, per-base weight, shape (L, 4): the base's own weight plus half of each
    adjacent dinucleotide weight it takes part in (averaged over the partner base)."""
    length = model.length
    base = model.coef[: 4 * length].reshape(length, 4).copy()
    pairs = model.coef[4 * length :].reshape(length - 1, 4, 4)
    base[:-1] += 0.5 * pairs.mean(axis=2)  # as the first base of a pair
    base[1:] += 0.5 * pairs.mean(axis=1)  # as the second
    return base


def per_base_contributions(model: LinearBaseline, sequences: list[str]) -> np.ndarray:
    """Each window's per-nucleotide score under :func:`linear_importance`, shape (N, L)."""
    return np.einsum("nlb,lb->nl", one_hot(sequences), linear_importance(model))


def fit_linear(train: SequenceSet, valid: SequenceSet) -> tuple[LinearBaseline, dict]:
    """Fit on ``train`` for each L2 strength, keep the best by validation AUPRC.

    Returns
    -------
    (LinearBaseline, dict) : the model and its validation metrics
    """
    from sklearn.linear_model import LogisticRegression

    x_train, x_valid = features(train.sequences), features(valid.sequences)
    best = None
    for c in C_GRID:
        fitted = LogisticRegression(C=c, max_iter=3000).fit(x_train, train.labels)
        p = fitted.predict_proba(x_valid)[:, 1]
        metrics = binary_metrics(valid.labels, p)
        if best is None or metrics.auprc > best[2].auprc:
            best = (fitted, c, metrics)
    fitted, c, metrics = best
    model = LinearBaseline(fitted.coef_[0].astype(np.float64), float(fitted.intercept_[0]), c, train.length)
    return model, metrics.to_dict()


class CnnBaseline(nn.Module):
    """One-hot CNN: conv(4 -> 64, 9) -> ReLU -> conv(64 -> 64, 5) -> ReLU -> global max pool -> linear(2)."""

    def __init__(self, channels: int = 64, dropout: float = 0.2):
        super().__init__()
        self.conv1 = nn.Conv1d(4, channels, 9, padding=4)
        self.conv2 = nn.Conv1d(channels, channels, 5, padding=2)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(channels, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` of shape (B, L, 4) -> logits (B, 2)."""
        h = F.relu(self.conv1(x.transpose(1, 2)))
        h = F.relu(self.conv2(self.dropout(h)))
        return self.head(self.dropout(h.amax(dim=2)))

    def predict_proba(self, sequences: list[str], batch_size: int = 512) -> np.ndarray:
        """P(modified), shape (N,)."""
        self.eval()
        out = []
        with torch.inference_mode():
            for i in range(0, len(sequences), batch_size):
                x = torch.from_numpy(one_hot(sequences[i : i + batch_size]))
                out.append(torch.softmax(self(x), dim=1)[:, 1].numpy())
        return np.concatenate(out)


def fit_cnn(train: SequenceSet, valid: SequenceSet, seed: int = 0, epochs: int = 30, patience: int = 4,
            batch_size: int = 64, lr: float = 1e-3) -> tuple[CnnBaseline, dict]:
    """Adam on cross-entropy; the epoch with the best validation AUPRC is kept."""
    torch.manual_seed(seed)
    model = CnnBaseline()
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    x, y = torch.from_numpy(one_hot(train.sequences)), torch.as_tensor(train.labels)
    rng = np.random.default_rng(seed)
    best, stale = None, 0
    for _ in range(epochs):
        model.train()
        for index in np.array_split(rng.permutation(len(y)), max(1, len(y) // batch_size)):
            optimiser.zero_grad(set_to_none=True)
            F.cross_entropy(model(x[index]), y[index]).backward()
            optimiser.step()
        metrics = binary_metrics(valid.labels, model.predict_proba(valid.sequences))
        if best is None or metrics.auprc > best[1].auprc:
            best, stale = (copy.deepcopy(model.state_dict()), metrics), 0
        else:
            stale += 1
            if stale >= patience:
                break
    model.load_state_dict(best[0])
    return model.eval(), best[1].to_dict()


@dataclass(frozen=True)
class Baselines:
    """The baselines of one data set and their validation metrics."""

    linear: LinearBaseline
    cnn: CnnBaseline | None
    validation: dict

    def predictors(self) -> dict:
        """name -> object with ``predict_proba(sequences)``."""
        return {name: model for name, model in (("linear", self.linear), ("cnn", self.cnn)) if model is not None}


def train_baselines(train_path: str | os.PathLike, output: str | os.PathLike, *,
                    valid_path: str | os.PathLike | None = None, negatives: str | os.PathLike | None = None,
                    valid_fraction: float = 0.1, seed: int = 0, length: int | None = 41, cnn: bool = True,
                    force: bool = False) -> tuple[Path, Baselines]:
    """Fit both baselines on the split :func:`medna_interp.training.train.train` would use and save them.

    Returns
    -------
    (Path, Baselines) : the baseline directory and the fitted models
    """
    from ..data.splits import training_split

    claim_directory(output, "baseline", inputs=[train_path, valid_path, negatives], force=force)
    train_data, valid_data = training_split(train_path, valid_path, negatives, length, valid_fraction, seed)
    linear, linear_metrics = fit_linear(train_data, valid_data)
    network, cnn_metrics = fit_cnn(train_data, valid_data, seed) if cnn else (None, None)
    validation = {"linear": linear_metrics} | ({"cnn": cnn_metrics} if cnn else {})
    baselines = Baselines(linear, network, validation)
    save_baselines(baselines, output, provenance({"valid_fraction": valid_fraction, "c": linear.c},
                                                 {"train": train_path, "valid": valid_path, "negatives": negatives},
                                                 seed), n_train=len(train_data), n_valid=len(valid_data))
    return Path(output), baselines


def save_baselines(baselines: Baselines, output: str | os.PathLike, record: dict, **counts) -> None:
    """Write ``config.json``, ``linear.safetensors`` and (when fitted) ``cnn.safetensors``."""
    from safetensors.torch import save_file

    linear = baselines.linear
    payload = {"format": FORMAT, "format_version": 1, "window_length": linear.length,
               "models": {"linear": {"c": linear.c, "features": "one-hot bases + adjacent dinucleotides"}}
               | ({"cnn": {"channels": baselines.cnn.conv1.out_channels}} if baselines.cnn is not None else {}),
               "metrics": {"validation": baselines.validation}, "provenance": {**record, **counts}}
    with step_outputs(output, "baseline", {"config": payload["models"]}, kind="baseline") as stage:
        (stage.path / "config.json").write_text(json.dumps(payload, indent=2) + "\n")
        save_file({"coef": torch.from_numpy(linear.coef), "intercept": torch.tensor([linear.intercept])},
                  str(stage.path / "linear.safetensors"))
        if baselines.cnn is not None:
            save_file({k: v.contiguous() for k, v in baselines.cnn.state_dict().items()},
                      str(stage.path / "cnn.safetensors"))


def is_baseline(directory: str | os.PathLike) -> bool:
    """True when ``directory`` holds baselines of ours."""
    path = Path(directory) / "config.json"
    try:
        return json.loads(path.read_text()).get("format") == FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def load_baselines(directory: str | os.PathLike) -> Baselines:
    """The baselines saved in ``directory`` (see :func:`save_baselines`)."""
    from safetensors.torch import load_file

    directory = Path(directory)
    if not is_baseline(directory):
        raise MednaError(f"{directory}: not a baseline directory (no config.json of format {FORMAT})")
    payload = json.loads((directory / "config.json").read_text())
    try:
        state = load_file(str(directory / "linear.safetensors"))
        linear = LinearBaseline(state["coef"].double().numpy(), float(state["intercept"][0]),
                                float(payload["models"]["linear"]["c"]), int(payload["window_length"]))
        network = None
        if "cnn" in payload["models"]:
            network = CnnBaseline(payload["models"]["cnn"]["channels"])
            network.load_state_dict(load_file(str(directory / "cnn.safetensors")))
            network.eval()
    except (OSError, KeyError, RuntimeError, TypeError, ValueError) as error:
        raise MednaError(f"{directory}: damaged baseline ({error.__class__.__name__}: {error})") from None
    return Baselines(linear, network, payload.get("metrics", {}).get("validation", {}))
