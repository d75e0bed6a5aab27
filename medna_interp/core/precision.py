"""Numeric precision of the model's forward and backward passes: fp32, or bf16 autocast.

Under ``bf16`` the matrix multiplications of both encoders and of the fusion head run in
bfloat16 (``torch.autocast``), which on CPUs with avx512_bf16/AMX and on CUDA GPUs of
compute capability 8.0 or later is 2-3x the fp32 throughput. What stays fp32, and why:

- the weights (training keeps fp32 master weights; autocast casts per operation),
  the inputs of Integrated Gradients, its accumulation over steps and its Riemann sum
  (rounding there would bias attributions and the completeness check);
- the attention probabilities CAD reads: the [CLS] row is recomputed in fp32 from the
  layer's input (:func:`medna_interp.models.attention.cls_attention_row`), so that
  Cohen's d is taken over fp32 probabilities;
- LayerNorm statistics: torch's CPU and CUDA kernels accumulate bf16 inputs in fp32;
- the loss: cross-entropy is on autocast's fp32 list and the logits are cast to fp32;
- every output handed back (:class:`~medna_interp.models.medna_dfm.MednaOutput` fields
  are fp32), so no caller sees bf16 tensors.

The agreement of the two paths is measured, not assumed: ``benchmarks/precision.py``.
"""

from __future__ import annotations

import contextlib
import sys
from functools import lru_cache
from typing import TYPE_CHECKING

from .errors import MednaError

if TYPE_CHECKING:
    import torch

#: torch is imported where it is used, so that the command line can offer these choices
#: without loading it
PRECISIONS = ("fp32", "bf16", "auto")


@lru_cache(maxsize=None)
def _cpu_flags() -> frozenset[str]:
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def native_bf16(device: torch.device | str) -> bool:
    """Whether ``device`` computes bf16 matrix products in hardware."""
    import torch

    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.get_device_capability(device) >= (8, 0)
    if device.type == "cpu":
        return bool({"avx512_bf16", "amx_bf16"} & _cpu_flags())
    return False


_warned: set[str] = set()


def resolve_precision(precision: str, device: torch.device | str) -> str:
    """``fp32`` or ``bf16`` for ``precision`` on ``device``.

    ``auto`` is bf16 where the hardware supports it natively, else fp32. An explicit
    ``bf16`` without native support is honoured with a warning (once per device type):
    it is emulated, and slower than fp32.
    """
    if precision not in PRECISIONS:
        raise MednaError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    import torch

    device = torch.device(device)
    native = native_bf16(device)
    if precision == "auto":
        return "bf16" if native else "fp32"
    if precision == "bf16" and not native and device.type not in _warned:
        _warned.add(device.type)
        print(f"warning: this {device.type} has no native bf16 support; bf16 is emulated and slower than fp32",
              file=sys.stderr)
    return precision


def autocast(device: torch.device | str, precision: str):
    """The context a forward (and backward) pass runs in at ``precision`` (fp32 or bf16)."""
    if precision == "bf16":
        import torch

        return torch.autocast(torch.device(device).type, dtype=torch.bfloat16)
    return contextlib.nullcontext()
