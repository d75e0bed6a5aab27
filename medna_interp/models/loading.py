"""A checkpoint on the chosen device, with every random generator seeded first."""

from __future__ import annotations

from ..core.device import resolve_device, seed_everything
from ..core.settings import Common
from .checkpoint import from_pretrained
from .medna_dfm import MednaDFM


def load_checkpoint(checkpoint, common: Common) -> MednaDFM:
    """The checkpoint on the chosen device, with every generator seeded."""
    seed_everything(common.seed)
    return from_pretrained(checkpoint, resolve_device(common.device), common.precision)
