"""What every step of a run shares: the execution options and the named paths of its inputs."""

from __future__ import annotations

from dataclasses import dataclass

from .device import resolve_device
from .precision import resolve_precision


@dataclass(frozen=True)
class Common:
    """Options every step shares."""

    device: str = "auto"
    batch_size: int = 64
    seed: int = 0
    length: int | None = 41
    negatives: str | None = None
    #: ``fp32``, ``bf16`` or ``auto``; results record the precision it resolves to
    precision: str = "fp32"

    def model_precision(self) -> str:
        """The precision the model runs at on this device (``auto`` resolved)."""
        return resolve_precision(self.precision, resolve_device(self.device))


def input_paths(checkpoint, data_path, common: Common, **extra) -> dict[str, str]:
    """input name -> path of a step's inputs (checkpoint, data, negatives, stand-alone encoders), leaving out absent ones."""
    paths = {"checkpoint": checkpoint, "data": data_path, "negatives": common.negatives, **extra}
    return {name: str(path) for name, path in paths.items() if path is not None}
