"""Every option of every subcommand, given a wrong value, ends in exit status 2 with one
line on stderr, no traceback and nothing written: the parser checks types and ranges,
the library checks what only the inputs can tell (model layers, JASPAR releases, files)."""

import argparse
import hashlib
import shutil
from pathlib import Path

import pytest
import torch

from conftest import DEMO_CHECKPOINT
from medna_interp.cli import build_parser, main
from medna_interp.cli.options import Number, device_name, head_indices, name_value, tax_groups


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def bad_numbers(kind: Number) -> list[str]:
    values = ["abc", "1.5.2"] + (["nan", "inf"] if kind.kind is float else ["2.5"])
    step = 1 if kind.kind is int else 1e-3
    if kind.low is not None:
        values.append(str(kind.low if kind.open_low else kind.kind(kind.low - step)))
    if kind.high is not None:
        values.append(str(kind.high if kind.open_high else kind.kind(kind.high + step)))
    return values


BAD_BY_TYPE = {name_value: ["6mA", "=6mA", "x="], device_name: ["tpu", "cuda:x"], head_indices: ["-1", "0,x", ""], tax_groups: ["martians", "insects,martians"]}
#: options whose values only the inputs can judge; each is run for real below
SEMANTIC = {"--negatives", "--kmer-encoder", "--bpe-encoder", "--valid", "--grammar", "--jaspar-release",
            "--motif-db", "--meme-bin", "--prefix", "--source", "--checkpoint", "--layer", "--test", "--motif", "--from-run", "--truth",
            "--pair", "--offsets", "--data", "--stages", "--color-by", "--exclude", "--init", "--evaluation"}
#: flags and outputs, tested in test_outputs.py
NOT_VALUES = {"-h", "-o", "--output", "--version"}


def parser_cases():
    cases = []
    for name, sub in subcommands().items():
        for action in sub._actions:
            if not action.option_strings or action.nargs == 0:
                continue
            flag = action.option_strings[-1]
            if isinstance(action.type, Number):
                values = bad_numbers(action.type)
            elif action.type in BAD_BY_TYPE:
                values = BAD_BY_TYPE[action.type]
            elif action.choices is not None:
                values = ["not-a-choice"] if action.type is None else ["3" if 3 not in action.choices else "5"]
            else:
                continue
            cases.extend((name, flag, value) for value in values)
    return cases


def test_every_value_option_is_checked_somewhere():
    unchecked = []
    for name, sub in subcommands().items():
        for action in sub._actions:
            flags = set(action.option_strings)
            if not flags or action.nargs == 0 or flags & NOT_VALUES:
                continue
            typed = isinstance(action.type, Number) or action.type in BAD_BY_TYPE or action.choices is not None
            if not typed and not flags & SEMANTIC:
                unchecked.append(f"{name} {action.option_strings[-1]}")
    assert unchecked == []


def dummy_argv(name: str, sub: argparse.ArgumentParser, flag: str, value: str) -> list[str]:
    argv = [name]
    for action in sub._actions:
        if not action.option_strings:
            argv.append("x")  # positionals: the parser fails before any is read
        elif action.required and flag not in action.option_strings:
            argv += [action.option_strings[-1], str(next(iter(action.choices))) if action.choices else "x"]
    return argv + [f"{flag}={value}"]


@pytest.mark.parametrize("name, flag, value", parser_cases())
def test_out_of_range_and_wrong_type_values_exit_2(name, flag, value, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(dummy_argv(name, subcommands()[name], flag, value)) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and flag in err, err
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- values judged against the inputs

def snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, tiny_checkpoint):
    from medna_interp.core.settings import Common
    from medna_interp.runs.explain import run_cad, run_cwga
    from medna_interp.data.synth import write_synthetic

    root = tmp_path_factory.mktemp("inputs")
    data = write_synthetic(root / "synth", n_train=0, n_test=200, seed=3) / "test.tsv"
    run = root / "run"
    run_cad(DEMO_CHECKPOINT, data, run, views=("kmer",), common=Common(device="cpu"))
    run_cwga(DEMO_CHECKPOINT, data, run, views=("kmer",), n_samples=5, steps=4, top_dims=8, progress=False,
             common=Common(device="cpu"))
    short = root / "short.tsv"
    short.write_text("index\tlabel\ttext\n0\t1\t" + "A" * 30 + "\n1\t0\t" + "C" * 30 + "\n")
    (root / "bad.yaml").write_text("motifs: [unclosed\n")
    (root / "list.yaml").write_text("- 1\n- 2\n")
    (root / "a_file").write_text("x\n")
    return {"demo": DEMO_CHECKPOINT, "tiny": tiny_checkpoint, "data": data, "run": run, "short": short,
            "root": root}


def semantic_cases():
    nope = "/nonexistent/path"
    analysis = lambda command, *extra: [command, "{demo}", "{data}", "-o", "{out}", *extra]
    return [
        (analysis("cad", "--layer", "99"), "layer 99 is out of range: the kmer encoder has 2 layers; choose --layer"),
        (analysis("cad", "--heads", "9"), "the kmer encoder has 4 heads (0-based); choose --heads from 0 to 3"),
        (analysis("cad", "--kmer-encoder", nope), "not a DNABERT-k directory"),
        (analysis("cad", "--bpe-encoder", "{root}"), "not a DNABERT-2 directory"),
        (analysis("cad", "--negatives", nope), "no such file"),
        (analysis("cwga", "--top-dims", "100000"), "larger than the model width"),
        (analysis("cwga", "--length", "0", "--negatives", "{short}"), "sequence has length 30, expected 41"),
        (analysis("run", "--jaspar-release", "JASPAR1999"), "unknown JASPAR release"),
        (analysis("run", "--motif-db", nope), "cannot read motif file"),
        (analysis("run", "--meme-bin", nope), "MEME folder not found"),
        (analysis("run", "--meme-bin", "{root}"), "no executable streme there"),
        (analysis("run", "--layer", "-9"), "layer -9 is out of range"),
        (["motifs", "{run}", "--jaspar-release", "JASPAR1999"], "unknown JASPAR release"),
        (["motifs", "{run}", "--motif-db", "{root}/a_file"], "no motifs found"),
        (["motifs", "{run}", "--meme-bin", nope], "MEME folder not found"),
        (["motifs", "{root}"], "not a run directory"),
        (["report", "{root}"], "not a run directory"),
        (["summary", "{root}", "-o", "{out}"], "no report.json; run `medna-interp run`"),
        (["summary", "{run}", "-o", "{out}", "--evaluation", "{root}"], "not an evaluate folder"),
        (["export", "{root}", "--source", "cad", "--view", "kmer"], "selection.tsv is missing"),
        (["export", "{run}", "--source", "cad", "--view", "kmer", "--min-score", "1e9"], "nothing was written"),
        (["predict", "{demo}", "{short}", "-o", "{out}.tsv", "--length", "0"],
         "trained on 41-bp windows"),
        (["predict", "{demo}", "{data}", "-o", "{out}.tsv", "--negatives", nope], "no such file"),
        (["train", "{data}", "-o", "{out}", "--valid", nope], "no such file"),
        (["baseline", "{data}", "-o", "{out}", "--valid", nope], "no such file"),
        (["mutate", "{demo}", "{data}", "-o", "{out}", "--motif", "GAGG=C"], "the replacement has 1 bases"),
        (["mutate", "{demo}", "{data}", "-o", "{out}", "--motif", "G@GG"], "is not an IUPAC letter"),
        (["mutate", "--from-run", "{run}"], "no motifs to ablate"),
        (["faithfulness", "{run}", "--truth", nope], "no such file"),
        (["faithfulness", "{root}"], "not a run directory"),
        (["ism", "{demo}", "{short}", "-o", "{out}", "--length", "0"], "trained on 41-bp windows"),
        (["mutate", "--from-run", "{root}"], "not a run directory"),
        (["mutate", "{demo}", "--from-run", "{run}"], "give no CKPT, DATA, --motif or -o with it"),
        (["mutate", "{demo}", "{data}", "-o", "{out}"], "mutate needs CKPT DATA -o DIR --motif"),
        (["baseline", "{data}", "-o", "{out}", "--negatives", nope], "no such file"),
        (["baseline", "{root}", "-o", "{out}"], "is a directory, not a sequence file"),
        (["train", "{data}", "-o", "{out}", "--negatives", nope], "no such file"),
        (["train", "{data}", "-o", "{out}", "--kmer-encoder", nope], "not a DNABERT-k directory"),
        (["train", "{data}", "-o", "{out}", "--bpe-encoder", "{root}"], "--bpe-encoder needs --kmer-encoder"),
        (["train", "{data}", "-o", "{out}", "--init", nope], "checkpoint directory not found"),
        (["train", "{data}", "{short}", "-o", "{out}", "--length", "0"], "pooled files need one window length"),
        (["pretrain", "{data}", "-o", "{out}", "--exclude", nope], "no such file"),
        (["pretrain", "{data}", "-o", "{out}", "--kmer-encoder", "{root}", "--bpe-encoder", "{root}"],
         "not an encoder directory"),
        (["pretrain", "{data}", "-o", "{out}", "--bpe-encoder", "{root}"], "needs both --kmer-encoder and --bpe-encoder"),
        (["pretrain", "{data}", "-o", "{out}", "--window", "200"], "more than the k-mer encoder's 128 positions"),
        (["export-encoders", nope, "-o", "{out}"], "checkpoint directory not found"),
        (["evaluate", "{demo}", "--test", "{data}", "{short}", "-o", "{out}", "--negatives", "{short}"],
         "negatives can go with one test set only"),
        (["evaluate", "{demo}", "--test", "{short}", "-o", "{out}", "--length", "0"], "trained on 41-bp windows"),
        (["evaluate", nope, "--test", "{data}", "-o", "{out}"], "checkpoint directory not found"),
        (["evaluate", "{demo}", "--test", nope, "-o", "{out}"], "no such file"),
        (["evaluate", "{demo}", "--test", "{data}", "{data}", "-o", "{out}"], "given twice"),
        (["synth", "-o", "{out}", "--grammar", nope], "cannot read grammar"),
        (["synth", "-o", "{out}", "--grammar", "{root}/bad.yaml"], "cannot read grammar"),
        (["synth", "-o", "{out}", "--grammar", "{root}/list.yaml"], "a grammar is a mapping"),
        (["synth", "-o", "{out}", "--n-train", "0", "--n-test", "0"], "need a positive number of windows"),
        (["install-meme", "--source", nope, "--prefix", "{out}"], "no such file"),
        (["install-meme", "--prefix", "{root}/a_file"], "is a file"),
        (["import-checkpoint", nope, "--kmer-encoder", nope, "--bpe-encoder", nope, "-o", "{out}"], "no such file"),
        (["demo", "-o", "{out}", "--checkpoint", nope], "demo checkpoint not found"),
        (["info", nope], "checkpoint directory not found"),
        (["insert", "{demo}", "{data}", "-o", "{out}", "--motif", "GAGG", "--pair", "GAGG,CCC"],
         "CCC is not one of the motifs"),
        (["insert", "{demo}", "{data}", "-o", "{out}", "--motif", "GAGG", "--offsets", "5-99"],
         "fall outside the window"),
        (["insert", "{demo}", "{data}", "-o", "{out}", "--motif", "GAGG", "--offsets", "x"], "give a 0-based start"),
        (["insert", "{demo}", "{data}", "-o", "{out}", "--motif", "G@GG"], "is not an IUPAC letter"),
        (["insert", "--from-run", "{run}"], "no motifs to insert"),
        (["insert", "--from-run", "{root}"], "not a run directory"),
        (["insert", "{demo}", "--from-run", "{run}"], "give no CKPT, DATA, --motif, --pair, --offsets or -o"),
        (["insert", "{demo}", "{data}", "-o", "{out}"], "insert needs CKPT DATA -o DIR --motif"),
        (["variants", "{demo}", "{root}/a_file", "-o", "{out}", "--data", nope], "no such file"),
        (["variants", "{demo}", nope, "-o", "{out}"], "cannot read variants"),
        (analysis("embed", "--stages", "post_bert"), "unknown stage 'post_bert'"),
        (analysis("embed", "--color-by", "GA-GG"), "no such motif"),
        (["embed", "{demo}", "{short}", "-o", "{out}", "--length", "0"], "trained on 41-bp windows"),
    ] + ([] if torch.cuda.is_available() else
         [(["predict", "{demo}", "{data}", "-o", "{out}.tsv", "--device", "cuda"], "no CUDA device")])


@pytest.mark.parametrize("argv, message", semantic_cases())
def test_values_judged_against_the_inputs_exit_2_before_any_work(argv, message, inputs, tmp_path, capsys):
    out = tmp_path / "out"
    argv = [a.format(out=out, **inputs) for a in argv]
    before = snapshot(inputs["root"])
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert list(tmp_path.iterdir()) == []
    assert snapshot(inputs["root"]) == before


def test_config_json_that_is_json_but_not_a_checkpoint_object(tiny_checkpoint, tmp_path, capsys):
    for body, message in (("[1, 2]", "not a medna-interp checkpoint"),
                          ('{"format": "medna-interp-checkpoint", "model": [], "kmer_encoder": {}}',
                           "malformed config")):
        broken = tmp_path / "ckpt"
        shutil.rmtree(broken, ignore_errors=True)
        shutil.copytree(tiny_checkpoint, broken)
        (broken / "config.json").write_text(body)
        assert main(["info", str(broken)]) == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1
