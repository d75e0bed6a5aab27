"""Choosing the compute device and seeding every random generator."""

from __future__ import annotations

import random

import numpy as np
import torch

from .errors import MednaError

DEVICES = ("auto", "cpu", "cuda")


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` picks CUDA when available, else CPU; ``cuda`` without a GPU is a user error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise MednaError("no CUDA device is available", hint="use --device cpu or auto")
    if name not in DEVICES and not name.startswith("cuda:"):
        raise MednaError(f"device must be one of {', '.join(DEVICES)} or cuda:N, got {name!r}")
    return torch.device(name)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
