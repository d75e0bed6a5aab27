"""The Python API end to end on the demo checkpoint: predict, select, explain with CAD
and CWGA, then name the motifs. Run from the repository root:

    .venv/bin/python examples/python_api.py [OUTPUT_DIR]
"""

import sys
from pathlib import Path

import medna_interp as mi

REPO = Path(__file__).resolve().parents[1]
output = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("python_api_motifs")

model = mi.load(REPO / "model" / "demo", device="cpu")
windows = mi.synthetic(800, seed=7)
probabilities = mi.predict(model, windows.sequences)
print(f"mean P(modified): positives {probabilities[windows.labels == 1].mean():.3f}, "
      f"negatives {probabilities[windows.labels == 0].mean():.3f}")

selection = mi.select(model, windows.sequences, windows.labels, confidence=0.95)
print(f"selected {selection.counts['positives']} positives and {selection.counts['negatives']} negatives")

cad = mi.cad(model, windows.sequences, windows.labels, confidence=0.95)
cwga = mi.cwga(model, windows.sequences, windows.labels, top_dims=40, n_samples=100, steps=32)
for result in (cad, cwga):
    for view, explained in result.views.items():
        top = explained.tokens.head(3)
        print(f"{result.method} {view}: top tokens {', '.join(top.token)}; per-base scores {explained.per_base.shape}")

# the CWGA profile of positives peaks on a planted motif: the upstream A-tract or the GAGG core
positives = cwga["kmer"].per_base[cwga.selection.labels == 1]
peak = int(positives.mean(0).argmax())
print(f"CWGA k-mer attribution peaks at window position {peak + 1} of {positives.shape[1]}")

found = mi.discover(cwga, cad, database="insects", output=output)
# a discovery passed STREME's held-out test, from a source that found nothing under permuted
# labels; a match names one only at E <= 0.05
for motif in (m for m in found.motifs if m.discovery):
    match = motif.best_match
    named = f"{match.target_name} ({match.target_id}, E={match.evalue:.2g})" if motif.named else "not named"
    print(f"{motif.source}: {motif.motif.consensus} E={motif.motif.evalue:.2g} -> {named}")
print(f"files in {found.directory}")

# is the core enough, and where must it sit? GAGG written into the negatives at every start
# (the demo grammar lets the core start anywhere in 12-24, the A-tract 9-12 bp before it)
inserted = mi.insert(model, windows.sequences, windows.labels, ["GAGG"], background="negatives",
                     n_backgrounds=100, bootstrap=500)
best = inserted.summary[0]["best"]
print(f"GAGG into negatives: best start {best['offset']}, mean dP {best['mean_delta_p']:+.3f} "
      f"[{best['ci_low']:+.3f}, {best['ci_high']:+.3f}]")
spacing = mi.pairs(model, windows.sequences, windows.labels, ("GAGG", "AAAAA"), background="shuffled",
                   n_backgrounds=50, bootstrap=200)
same = spacing[spacing.orientation == "same"]
core, tract = int(same.offset_a.iloc[0]), int(same.offset_b[same.delta_p_given_a.idxmax()])
print(f"A-tract beside GAGG at start {core} adds most at start {tract}, {tract - core:+d} bp from the core")
window = next(s for s, y in zip(windows.sequences, windows.labels) if y == 1 and s[19:23] == "GAGG")
effect = mi.variant_effects(model, [window], [22], ["T"]).iloc[0]
print(f"G22T in a positive: P {effect.p_ref:.3f} -> {effect.p_alt:.3f}, rank {effect.rank_by_drop} of {effect.n_changes}")
