"""CAD: batched (ours) vs one sequence at a time (the authors' structure), same model,
same windows, same outputs, timed in one run.

    .venv/bin/python benchmarks/cad_speed.py [--n 256] [--sizes small base]

The reference loop tokenises and runs one window per forward pass, as the authors'
script did; it counts every occurrence so both compute the same table.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from common import machine, model_of_size, save, windows


def reference_loop(model, sequences, view):
    """One window per forward pass."""
    tokens, scores = [], []
    tokenizer = model.kmer_tokenizer if view == "kmer" else model.bpe_tokenizer
    with torch.inference_mode():
        for sequence in sequences:
            batch = tokenizer.encode([sequence])
            if view == "kmer":
                attentions = model.encode_kmer(batch.input_ids, batch.attention_mask, output_attentions=True)[1]
            else:
                attentions = model.encode_bpe(batch.input_ids, batch.attention_mask, output_attentions=True)[1]
            row = attentions[-1][0, :, 0, :].mean(0).numpy()
            keep = batch.is_sequence_token[0]
            tokens.append([t for t, k in zip(batch.tokens[0], keep) if k])
            scores.append(row[keep])
    return tokens, scores


def main() -> None:
    from medna_interp.interpret.cad import cls_attention, token_statistics

    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=256)
    parser.add_argument("--sizes", nargs="+", default=["small", "base"])
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    sequences, labels, source = windows(args.n)
    labels = np.asarray(labels)
    results = []
    for size in args.sizes:
        model = model_of_size(size, sequences)
        for view in ("kmer", "bpe"):
            cls_attention(model, sequences[:8], view, batch_size=8)  # warm-up
            start = time.perf_counter()
            ours = cls_attention(model, sequences, view, batch_size=args.batch_size)
            table = token_statistics(ours.tokens, ours.scores, labels)
            batched = time.perf_counter() - start
            start = time.perf_counter()
            tokens, scores = reference_loop(model, sequences, view)
            reference_table = token_statistics(tokens, scores, labels)
            reference = time.perf_counter() - start
            same = np.allclose(table.cad.to_numpy(), reference_table.cad.to_numpy(), atol=1e-3, equal_nan=True)
            results.append({"size": size, "view": view, "n": len(sequences), "batched_s": round(batched, 3),
                            "one_at_a_time_s": round(reference, 3), "speedup": round(reference / batched, 2),
                            "same_result": bool(same)})
            print(results[-1], flush=True)
    path = save("cad_speed", {"benchmark": "cad_speed", "data": source, "batch_size": args.batch_size,
                              "machine": machine(), "results": results})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
