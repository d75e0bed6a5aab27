"""CAD: ours vs the authors' structure, same model, same windows, same outputs, timed in one run.

    .venv/bin/python benchmarks/cad_speed.py [--n 256] [--sizes small base] [--selected 0.72]
                                             [--threads N] [--name cad_speed] [--device cuda]

Two comparisons per model size:

* attention, per view: reading the [CLS] rows of the selected windows. The reference
  runs one window per forward pass with ``output_attentions=True`` (every layer's maps,
  eager attention), as the authors' script did; ours batches, keeps the fused attention
  kernels and stops at the chosen layer.
* whole CAD, both views, from the labelled windows to the token tables: the reference
  predicts every window (batched, to be generous), selects, then reads attention one
  window at a time; ours reads the attention in the predicting pass itself (``scan``).

Randomly initialised models are not confident of anything, so for the whole-CAD run the
labels are the model's own calls and the confidence cut keeps ``--selected`` of the
windows (0.72: what the tiny model trained on D. melanogaster keeps at confidence 0.9).
Both implementations count every occurrence, so they must produce the same tables.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from common import machine, matmul_peak_gflops, model_of_size, save, windows


def reference_attention(model, sequences, view):
    """One window per forward pass, every layer's attention maps, the last layer's [CLS] row."""
    tokens, scores = [], []
    tokenizer = model.kmer_tokenizer if view == "kmer" else model.bpe_tokenizer
    encode = model.encode_kmer if view == "kmer" else model.encode_bpe
    with torch.inference_mode():
        for sequence in sequences:
            batch = tokenizer.encode([sequence]).to(model.device)
            attentions = encode(batch.input_ids, batch.attention_mask, output_attentions=True)[1]
            row = attentions[-1][0, :, 0, :].mean(0).cpu().numpy()
            row_tokens, _, keep = batch.sequence_tokens(0)
            tokens.append(row_tokens)
            scores.append(row[keep])
    return tokens, scores


def reference_cad(model, data, confidence, batch_size):
    from medna_interp.interpret.cad import token_statistics
    from medna_interp.interpret.selection import select_confident

    selection = select_confident(model, data, confidence, min_per_class=0, batch_size=batch_size)
    tables = {}
    for view in ("kmer", "bpe"):
        tokens, scores = reference_attention(model, selection.data.sequences, view)
        tables[view] = token_statistics(tokens, scores, selection.labels)
    return tables, len(selection.labels)


def our_cad(model, data, confidence, batch_size):
    from medna_interp.interpret.cad import scan, token_statistics
    from medna_interp.interpret.selection import select_confident

    p, attention = scan(model, data.sequences, batch_size=batch_size)
    selection = select_confident(model, data, confidence, min_per_class=0, probabilities=p)
    tables = {}
    for view, read in attention.items():
        read = read.subset(selection.source_index)
        tables[view] = token_statistics(read.tokens, read.scores, selection.labels)
    return tables, len(selection.labels)


def same_tables(a, b) -> bool:
    return all(a[v].token.tolist() == b[v].token.tolist()
               and np.allclose(a[v].cad.to_numpy(), b[v].cad.to_numpy(), atol=1e-3) for v in a)


def timed(function, *args):
    synchronize()
    start = time.perf_counter()
    result = function(*args)
    synchronize()
    return result, time.perf_counter() - start


def synchronize() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def main() -> None:
    from medna_interp.core.device import resolve_device
    from medna_interp.interpret.cad import cls_attention, token_statistics
    from medna_interp.data.io import SequenceSet
    from medna_interp.models.predict import predict_proba

    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=256)
    parser.add_argument("--sizes", nargs="+", default=["small", "base"])
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--selected", type=float, default=0.72)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--name", default="cad_speed", help="results file name, without .json")
    parser.add_argument("--device", default="cpu", help="cpu | cuda | auto")
    args = parser.parse_args()
    device = resolve_device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    sequences, labels, source = windows(args.n)
    labels = np.asarray(labels)
    attention_rows, whole_rows = [], []
    for size in args.sizes:
        model = model_of_size(size, sequences).to(device)
        cls_attention(model, sequences[:8], "kmer", batch_size=8)  # warm-up
        for view in ("kmer", "bpe"):
            ours, batched = timed(cls_attention, model, sequences, view, -1, None, args.batch_size)
            (tokens, scores), reference = timed(reference_attention, model, sequences, view)
            same = np.allclose(token_statistics(ours.tokens, ours.scores, labels).cad.to_numpy(),
                               token_statistics(tokens, scores, labels).cad.to_numpy(), atol=1e-3, equal_nan=True)
            attention_rows.append({"size": size, "view": view, "n": len(sequences), "ours_s": round(batched, 3),
                                   "one_at_a_time_s": round(reference, 3), "speedup": round(reference / batched, 2),
                                   "same_result": bool(same)})
            print(attention_rows[-1], flush=True)

        p = predict_proba(model, sequences, args.batch_size)
        own_calls = SequenceSet([str(i) for i in range(len(sequences))], sequences, (p > 0.5).astype(np.int64))
        cut = float(np.quantile(np.maximum(p, 1 - p), 1 - args.selected))
        (ours, n_ours), our_time = timed(our_cad, model, own_calls, cut, args.batch_size)
        (theirs, n_theirs), reference = timed(reference_cad, model, own_calls, cut, args.batch_size)
        whole_rows.append({"size": size, "n": len(sequences), "selected": n_ours, "ours_s": round(our_time, 3),
                           "reference_s": round(reference, 3), "speedup": round(reference / our_time, 2),
                           "same_result": bool(n_ours == n_theirs and same_tables(ours, theirs))})
        print(whole_rows[-1], flush=True)
    path = save(args.name, {"benchmark": "cad_speed", "data": source, "batch_size": args.batch_size,
                              "selected_fraction": args.selected, "machine": machine(),
                              "device": str(device),
                              "fp32_matmul_peak_gflops": matmul_peak_gflops() if device.type == "cpu" else None,
                              "attention": attention_rows, "whole_cad": whole_rows})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
