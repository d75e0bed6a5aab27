import os
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))

from builders import random_sequences, write_dnabert2_dir, write_dnabert_dir  # noqa: E402

if os.environ.get("PYTEST_XDIST_WORKER"):
    # `make test` runs a worker per core: one thread each, here and in the commands tests start
    # (two workers of two threads each spin against each other and run several times slower)
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[variable] = "1"
    torch.set_num_threads(1)
else:
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "idna_ms"
DEMO_CHECKPOINT = Path(__file__).resolve().parents[1] / "model" / "demo"

from medna_interp.core.precision import native_bf16  # noqa: E402

#: bf16 results are compared with fp32 only where bf16 is computed in hardware
needs_native_bf16 = pytest.mark.skipif(not native_bf16("cpu"), reason="this CPU has no native bf16 (avx512_bf16/AMX)")


@pytest.fixture(scope="session")
def device() -> torch.device:
    """CPU unless MEDNA_TEST_DEVICE names another (e.g. cuda on a GPU machine)."""
    return torch.device(os.environ.get("MEDNA_TEST_DEVICE", "cpu"))


@pytest.fixture(scope="session")
def kmer_dir(tmp_path_factory) -> Path:
    return write_dnabert_dir(tmp_path_factory.mktemp("dnabert6"))


@pytest.fixture(scope="session")
def bpe_dir(tmp_path_factory) -> Path:
    return write_dnabert2_dir(tmp_path_factory.mktemp("dnabert2"))


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory, kmer_dir, bpe_dir) -> Path:
    from medna_interp.models.checkpoint import from_encoders, save_pretrained
    from medna_interp.models.medna_dfm import MednaConfig

    torch.manual_seed(1)
    model = from_encoders(kmer_dir, bpe_dir, MednaConfig(expert_ff=32))
    return save_pretrained(model, tmp_path_factory.mktemp("ckpt") / "tiny", window_length=41)


@pytest.fixture
def sequences() -> list[str]:
    return random_sequences(12, seed=3)


@pytest.fixture
def labelled_tsv(tmp_path) -> Path:
    rows = ["index\tlabel\ttext"] + [f"{i}\t{i % 2}\t{s}" for i, s in enumerate(random_sequences(20, seed=5))]
    path = tmp_path / "data.tsv"
    path.write_text("\n".join(rows) + "\n")
    return path
