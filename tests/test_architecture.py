"""The package's layers (docs/architecture.md): no import runs up a layer, between sibling
folders, or in a circle; no module is over 450 lines; importing the package loads no torch."""

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "medna_interp"
MAX_LINES = 450


def layers() -> dict[str, tuple[int, int]]:
    """folder or root module -> (layer rank from the bottom, sibling group within the layer)."""
    block = re.search(r"```layers\n(.*?)```", (ROOT / "docs" / "architecture.md").read_text(), re.S).group(1)
    rows = [line.split(None, 1)[1] for line in block.strip().splitlines()]
    placed = {}
    for rank, row in enumerate(reversed(rows)):
        for group, names in enumerate(row.split("|")):
            for name in names.split():
                placed[name] = (rank, group)
    return placed


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict[str, set[str]]:
    """module -> the package modules it imports anywhere in its file."""
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    edges: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = ".".join(package[:len(package) - node.level + 1]) if node.level else ""
                target = ".".join(p for p in (base, node.module) if p)
                candidates = [f"{target}.{alias.name}" for alias in node.names] + [target]
            elif isinstance(node, ast.Import):
                candidates = [alias.name for alias in node.names]
            else:
                continue
            for candidate in candidates:
                while candidate and candidate not in modules:
                    candidate = candidate.rpartition(".")[0]
                if candidate and candidate != name:
                    found.add(candidate)
        edges[name] = found
    return edges


def unit(module: str) -> str:
    """The layer diagram's name for a module: its folder, or itself at the root."""
    parts = module.split(".")
    return "__init__" if len(parts) == 1 else parts[1]


def test_every_folder_and_root_module_has_a_layer():
    placed = layers()
    assert {unit(m) for m in imports()} <= set(placed), sorted({unit(m) for m in imports()} - set(placed))


def test_no_import_runs_up_a_layer_or_between_siblings():
    placed = layers()
    wrong = []
    for module, targets in imports().items():
        here = placed[unit(module)]
        for target in targets:
            there = placed[unit(target)]
            same_unit = unit(module) == unit(target)
            if not same_unit and (there[0] > here[0] or (there[0] == here[0] and there[1] != here[1]
                                                          and here[0] != max(r for r, _ in placed.values()))):
                wrong.append(f"{module} -> {target}")
    assert not wrong, wrong


def test_no_import_cycles():
    edges = imports()
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for target in sorted(edges.get(node, ())):
            if state.get(target) == 1:
                cycles.append(trail[trail.index(target):] + [target])
            elif target not in state:
                visit(target, trail + [target])
        state[node] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    assert not cycles, cycles


def test_the_checker_sees_an_upward_edge(tmp_path):
    # the parser must resolve relative imports, or the two tests above would pass on anything
    edges = imports()
    assert "medna_interp.core.errors" in edges["medna_interp.data.io"]
    assert "medna_interp.runs.registry" in edges["medna_interp.runs.explain"]


def test_no_module_is_over_the_line_limit():
    long = {module_name(p): n for p in PACKAGE.rglob("*.py") if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, long


def test_importing_the_package_loads_no_torch():
    code = "import sys, medna_interp; print(medna_interp.__version__, 'torch' in sys.modules, 'matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    version, torch_loaded, matplotlib_loaded = out.split()
    assert version and torch_loaded == "False" and matplotlib_loaded == "False"


def test_the_command_line_parses_without_the_heavy_libraries():
    # a mistyped option should be answered at once: torch, pandas and scipy cost seconds to load
    code = ("import sys; from medna_interp.cli import build_parser; build_parser()\n"
            "print(' '.join(m for m in ('torch', 'pandas', 'scipy', 'matplotlib') if m in sys.modules) or '-')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert out.split() == ["-"], out
