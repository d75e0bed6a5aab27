"""The steps a run directory can hold, each written once here.

A run directory accumulates ``selection.tsv``, ``cad_*``, ``cwga_*``, motif and report
files, and one ``provenance.json`` with a record per step (:mod:`medna_interp.runs.record`).
This table says, for every step, which steps' outputs it reads, whether it runs the
model (so that its record depends on the model's precision), how its runner is called
and the command that remakes it. ``medna-interp run`` (:mod:`medna_interp.pipeline`),
resuming (:mod:`medna_interp.runs.resume`), consistency checks and the report all read it,
so a new step is one row here and one runner decorated with :func:`runner_of`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

#: options that change how a step runs or what it prints, never what it computes
EXECUTION_ONLY = frozenset({"progress", "device", "batch_size", "internal_batch_size", "meme_bin"})


@dataclass(frozen=True)
class Step:
    """One step of a run directory.

    Attributes
    ----------
    name : the key of its record in ``provenance.json``
    upstream : the steps whose outputs it reads
    uses_model : it runs the model, so it records (and depends on) its precision
    reads_inputs : its runner starts from (checkpoint, data, run_dir); otherwise from run_dir alone
    takes : the shared keywords its runner accepts, of ``common``, ``model`` and ``force``
    in_run : part of ``medna-interp run``, in the order of :data:`TABLE`
    remake : the command that remakes it with default options, formatted with ``run_dir``,
        ``checkpoint``, ``data`` and ``negatives`` (`` --negatives PATH`` or nothing)
    """

    name: str
    upstream: tuple[str, ...]
    uses_model: bool
    reads_inputs: bool
    takes: tuple[str, ...]
    in_run: bool
    remake: str


_EXPLAIN = "common", "model", "force"
TABLE = (
    Step("cad", (), True, True, _EXPLAIN, True, "medna-interp cad {checkpoint} {data} -o {run_dir}{negatives}"),
    Step("cwga", (), True, True, _EXPLAIN, True, "medna-interp cwga {checkpoint} {data} -o {run_dir}{negatives}"),
    Step("ism", (), True, True, _EXPLAIN, False, "medna-interp ism {checkpoint} {data} -o {run_dir}{negatives}"),
    Step("motifs", ("cad", "cwga", "ism"), False, False, ("common",), True, "medna-interp motifs {run_dir}"),
    Step("effects", ("cad", "cwga", "motifs"), True, False, ("common", "model"), True,
         "medna-interp mutate --from-run {run_dir}"),
    Step("insertion", ("cad", "cwga", "motifs"), True, False, ("common", "model"), True,
         "medna-interp insert --from-run {run_dir}"),
    Step("faithfulness", ("cad", "cwga", "ism"), True, False, ("common", "model"), False,
         "medna-interp faithfulness {run_dir}"),
    Step("embed", (), True, True, _EXPLAIN, True, "medna-interp embed {checkpoint} {data} -o {run_dir}"),
    Step("report", ("cad", "cwga", "motifs", "effects", "insertion", "ism", "faithfulness", "embed"), False, False,
         (), True, "medna-interp report {run_dir}"),
)
BY_NAME = {step.name: step for step in TABLE}
#: the steps of ``medna-interp run``, in order
STEPS = tuple(step.name for step in TABLE if step.in_run)
#: the steps that run the model
MODEL_STEPS = frozenset(step.name for step in TABLE if step.uses_model)

_RUNNERS: dict[str, Callable] = {}


def runner_of(name: str) -> Callable[[Callable], Callable]:
    """Decorator: the function that runs step ``name`` (its keyword-only arguments, less the
    shared ones, are the step's options, and their defaults the step's defaults)."""
    if name not in BY_NAME:
        raise KeyError(f"no step {name!r} in the registry")

    def register(function: Callable) -> Callable:
        _RUNNERS[name] = function
        return function

    return register


def runner(name: str) -> Callable:
    """The registered runner of step ``name`` (its module must have been imported)."""
    return _RUNNERS[name]
