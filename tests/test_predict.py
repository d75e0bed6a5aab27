"""Batched prediction: the heap is trimmed as it goes, and trimming changes no score."""

import importlib

import numpy as np

from medna_interp.core.device import release_memory, trim_heap
from medna_interp.models.checkpoint import from_pretrained

predict_module = importlib.import_module("medna_interp.models.predict")  # the package's `predict` is the API function


def test_collect_trims_the_heap_every_few_batches_without_changing_a_score(tiny_checkpoint, sequences, monkeypatch):
    model = from_pretrained(tiny_checkpoint)
    untrimmed = predict_module.predict_proba(model, sequences, batch_size=2)
    calls = []
    monkeypatch.setattr(predict_module, "TRIM_EVERY", 2)
    monkeypatch.setattr(predict_module, "trim_heap", lambda: calls.append(1))
    trimmed = predict_module.predict_proba(model, sequences, batch_size=2)
    assert len(calls) == (len(sequences) + 1) // 2 // 2
    assert np.array_equal(trimmed, untrimmed)


def test_trimming_and_releasing_are_safe_to_call_anywhere():
    trim_heap()
    release_memory()
