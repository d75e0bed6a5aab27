"""bf16 autocast against fp32: seconds of predict, CAD, CWGA (fused), ISM and one training
epoch at the small and the paper's (base) size, both precisions timed in one run on the
same model and windows; the machine's fp32 and bf16 matrix-multiply peaks; and the
agreement of the two paths' predictions and explanations on the shipped demo checkpoint.

    .venv/bin/python benchmarks/precision.py [--sizes small base]

Writes benchmarks/results/precision.json.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from common import ROOT, machine, matmul_peak_gflops, model_of_size, save, windows

#: windows per operation and size: enough for seconds-long timings, few enough for the base size
WORKLOAD = {"small": {"predict": 512, "cad": 512, "cwga": 8, "ism": 8, "train": 256},
            "base": {"predict": 128, "cad": 128, "cwga": 4, "ism": 2, "train": 64}}


def _operations(model, sequences: list[str], labels: np.ndarray, sizes: dict):
    """name -> a function running that operation once on the fixed windows."""
    from medna_interp.interpret.cad import cad, scan
    from medna_interp.interpret.cwga import cwga
    from medna_interp.interpret.ism import ism
    from medna_interp.data.io import SequenceSet
    from medna_interp.models.predict import predict_proba
    from medna_interp.training.train import TrainConfig, fit

    def part(name):
        n = sizes[name]
        half = np.r_[np.flatnonzero(labels == 1)[: n // 2], np.flatnonzero(labels == 0)[: n - n // 2]]
        return [sequences[i] for i in half], labels[half]

    def run_cad():
        chosen, y = part("cad")
        read = scan(model, chosen, batch_size=64)
        cad(model, chosen, y, attention=read.attention)

    def run_cwga():
        chosen, y = part("cwga")
        cwga(model, chosen, y, top_dims=40, steps=50, internal_batch_size=50)

    def run_train():
        chosen, y = part("train")
        data = SequenceSet([f"w{i}" for i in range(len(chosen))], chosen, y.astype(np.int64), "benchmark")
        state = {k: v.clone() for k, v in model.state_dict().items()}
        config = TrainConfig(epochs=1, lr=1e-4, batch_size=16, fgm_epsilon=0.0, warmup=0.0, augment=0.0,
                             flood=0.0, precision=model.precision)
        seconds = fit(model, data, data.subset(np.arange(16)), config, 1e-4, progress=False).history[0]["seconds"]
        model.load_state_dict(state)
        model.eval()
        return seconds

    return {"predict": lambda: predict_proba(model, part("predict")[0], 64),
            "cad": run_cad, "cwga": run_cwga, "ism": lambda: ism(model, part("ism")[0], batch_size=128),
            "train_epoch": run_train}


def speed(size: str) -> dict:
    sequences, labels, _ = windows(1024)
    labels = np.asarray(labels)
    model = model_of_size(size, sequences)
    out = {}
    for name, operation in _operations(model, sequences, labels, WORKLOAD[size]).items():
        seconds = {"fp32": [], "bf16": []}
        # alternating, the first of each a warm-up; the best of the other two is kept, as
        # this shared machine's timings vary by some 20 % between runs
        for precision in ("fp32", "bf16") * 3:
            model.precision = precision
            start = time.perf_counter()
            reported = operation()
            seconds[precision].append(reported if isinstance(reported, float) else time.perf_counter() - start)
        seconds = {precision: min(values[1:]) for precision, values in seconds.items()}
        out[name] = {"n": WORKLOAD[size][name if name != "train_epoch" else "train"],
                     "fp32_s": round(seconds["fp32"], 3), "bf16_s": round(seconds["bf16"], 3),
                     "ratio": round(seconds["fp32"] / seconds["bf16"], 2)}
        print(size, name, out[name], flush=True)
    return out


def agreement() -> dict:
    """fp32 and bf16 on the demo checkpoint and demo-grammar windows: predictions, CAD and CWGA."""
    from medna_interp.core.agreement import attribution_agreement, cad_agreement
    from medna_interp.interpret.cad import cad
    from medna_interp.interpret.cwga import cwga
    from medna_interp.interpret.selection import select_confident
    from medna_interp.core.metrics import binary_metrics
    from medna_interp.models.checkpoint import from_pretrained
    from medna_interp.models.predict import predict_proba
    from medna_interp.api.windows import synthetic

    data = synthetic(2000, seed=7)
    model = from_pretrained(ROOT / "model" / "demo", "cpu")
    probabilities, results = {}, {}
    for precision in ("fp32", "bf16"):
        model.precision = precision
        probabilities[precision] = predict_proba(model, data.sequences, 64)
    model.precision = "fp32"
    selection = select_confident(model, data, 0.9, probabilities=probabilities["fp32"])  # same windows for both
    attributed = np.r_[np.flatnonzero(selection.labels == 1)[:100], np.flatnonzero(selection.labels == 0)[:100]]
    for precision in ("fp32", "bf16"):
        model.precision = precision
        results[precision] = (cad(model, selection.data.sequences, selection.labels),
                              cwga(model, [selection.data.sequences[i] for i in attributed],
                                   selection.labels[attributed], top_dims=40, steps=50))
    auc = {p: binary_metrics(data.labels, probabilities[p]).auc for p in probabilities}
    out = {"windows": len(data), "selected": len(selection.labels), "attributed": len(attributed),
           "predictions": {"auc_fp32": round(auc["fp32"], 5), "auc_bf16": round(auc["bf16"], 5),
                           "auc_equal_3dp": round(auc["fp32"], 3) == round(auc["bf16"], 3),
                           "max_abs_delta_p": float(np.abs(probabilities["fp32"] - probabilities["bf16"]).max())},
           "cad": {}, "cwga": {}}
    for view in ("kmer", "bpe"):
        out["cad"][view] = cad_agreement(results["fp32"][0].tokens[view], results["bf16"][0].tokens[view])
        a, b = (results[p][1].attributions[view] for p in ("fp32", "bf16"))
        out["cwga"][view] = {**attribution_agreement(a.per_base, b.per_base),
                             "completeness_error_fp32": float(np.mean(np.abs(a.delta)) / np.mean(np.abs(a.total))),
                             "completeness_error_bf16": float(np.mean(np.abs(b.delta)) / np.mean(np.abs(b.total)))}
    out["holds"] = bool(out["predictions"]["auc_equal_3dp"]
                        and all(v["spearman"] >= 0.99 and v["jaccard"] >= 0.9 for v in out["cad"].values())
                        and all(v["median_spearman"] >= 0.98 for v in out["cwga"].values()))
    print("agreement", out, flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", nargs="+", default=["small", "base"], choices=list(WORKLOAD))
    args = parser.parse_args()
    from medna_interp.core.precision import native_bf16

    peaks = {"fp32_gflops": matmul_peak_gflops(), "bf16_gflops": matmul_peak_gflops(dtype=torch.bfloat16)}
    print("matmul peaks", peaks, flush=True)
    payload = {"benchmark": "precision", "machine": machine(), "native_bf16": native_bf16("cpu"),
               "matmul": peaks, "workload": WORKLOAD, "agreement_demo": agreement(),
               "speed": {size: speed(size) for size in args.sizes}}
    print(f"wrote {save('precision', payload)}")


if __name__ == "__main__":
    main()
