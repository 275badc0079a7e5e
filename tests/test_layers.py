"""The package's layers: no import circles, lower floors never import the applications above them.

Every ``import`` statement is read from the source (module level and inside functions alike: a
lazy import is still a dependency), so a circle cannot hide behind a deferred import.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path


import batterylab

ROOT = Path(batterylab.__file__).resolve().parent
#: batterylab.kernels, .parameter_sets and .validation live at the top of the repository (see
#: pyproject's package-dir) and inside the package in a wheel: find them where Python does.
PACKAGES = {"batterylab": ROOT}
for _sub in ("kernels", "parameter_sets", "validation"):
    _base = Path(importlib.import_module(f"batterylab.{_sub}").__file__).resolve().parent
    if ROOT not in _base.parents:
        PACKAGES[f"batterylab.{_sub}"] = _base


def _module_name(pkg: str, base: Path, path: Path) -> str:
    parts = [pkg, *path.relative_to(base).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    out = {}
    for pkg, base in PACKAGES.items():
        for path in sorted(base.rglob("*.py")):
            out[_module_name(pkg, base, path)] = path
    return out


def _resolve(name: str, modules: dict) -> str | None:
    """The deepest known module a dotted name refers to (``a.b.attr`` -> ``a.b``)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for mod, path in modules.items():
        is_pkg = path.name == "__init__.py"
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = mod.split(".") if is_pkg else mod.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    prefix = ".".join(base + ([node.module] if node.module else []))
                else:
                    prefix = node.module or ""
                targets = [f"{prefix}.{a.name}" for a in node.names] + [prefix]
            for t in targets:
                dep = _resolve(t, modules)
                if dep and dep != mod and not mod.startswith(dep + "."):  # a package's own parents are not edges
                    graph[mod].add(dep)
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _path(graph, a, b):
    """One import chain from a to b (for the failure message)."""
    seen, todo = {a: None}, [a]
    while todo:
        v = todo.pop(0)
        if v == b and v != a or (v == a and b in graph[a]):
            break
        for w in sorted(graph[v]):
            if w not in seen:
                seen[w] = v
                todo.append(w)
    chain, v = [b], seen.get(b)
    while v is not None:
        chain.append(v)
        v = seen.get(v)
    return " -> ".join(reversed(chain))


def test_graph_sees_lazy_imports():
    g = import_graph()
    assert "batterylab.distributed" in g["batterylab.swap.simulate"]  # imported inside a function
    assert "batterylab.io.hdf5" in g["batterylab.io"]
    assert "batterylab.kernels.aging" in g["batterylab.aging.simulate"]


def test_no_import_cycles():
    g = import_graph()
    cycles = find_cycles(g)
    msgs = [" | ".join(c) + "\n    e.g. " + _path(g, c[0], c[0]) for c in cycles]
    assert not cycles, "import cycles:\n" + "\n".join(msgs)


#: floors: a module may import its own floor and those below, never one above.
FLOORS = [
    ("batterylab.kernels",),
    ("batterylab._version", "batterylab.errors", "batterylab.checks", "batterylab.citations",
     "batterylab.parameter_sets", "batterylab.io", "batterylab.distributed", "batterylab._lazy", "batterylab._deprecation",
     "batterylab.progress"),
    ("batterylab.cell", "batterylab.aging", "batterylab.grid"),
    ("batterylab.swap", "batterylab.solid_state", "batterylab.grading", "batterylab.pcm", "batterylab.scenarios"),
    ("batterylab.lifetime", "batterylab.lifetime_cli", "batterylab.validation", "batterylab.report",
     "batterylab.cli", "batterylab.cli_options", "batterylab.__main__", "batterylab"),
]


def _floor(mod: str) -> int | None:
    best = None
    for i, names in enumerate(FLOORS):
        for n in names:
            if (mod == n or mod.startswith(n + ".")) and (best is None or len(n) > best[1]):
                best = (i, len(n))
    return None if best is None else best[0]


def _application(mod: str) -> str | None:
    parts = mod.split(".")
    return parts[1] if _floor(mod) == 3 and len(parts) > 1 else None


# The applications (floor 3) import each other in these known places, each a use of another
# application's public API that belongs one floor lower; listed so that no new one appears.
KNOWN_SIDEWAYS: set = set()


def test_imports_run_down_the_floors():
    g = import_graph()
    bad = []
    for mod, deps in sorted(g.items()):
        f = _floor(mod)
        if f is None or mod.endswith("cli"):  # also aging.calibrate_cli, lifetime_cli
            continue  # an application's own CLI module sits on the top floor beside the others
        for dep in sorted(deps):
            fd = _floor(dep)
            if fd is None:
                continue
            if fd > f:
                bad.append(f"{mod} (floor {f}) imports {dep} (floor {fd})")
            elif fd == f == 3 and _application(mod) != _application(dep) and (mod, dep) not in KNOWN_SIDEWAYS:
                bad.append(f"{mod} imports another application, {dep}")
    assert not bad, "\n".join(bad)


def test_distributed_holds_no_application_task():
    import batterylab.distributed as d

    assert not any(n.endswith("_task") and n != "_items_task" for n in vars(d)), sorted(vars(d))


def test_distributed_forwards_nothing():
    import batterylab.distributed as d

    assert not getattr(d, "_MOVED", {})


def test_pybamm_is_driven_from_batterylab_cell():
    """Models, simulations, experiments and solvers are built and solved in batterylab.cell."""
    import re

    pattern = re.compile(r"pybamm\.(Simulation|Experiment|IDAKLUSolver|CasadiSolver)\(|getattr\(pybamm\.lithium_ion"
                         r"|pybamm\.lithium_ion\.(SPM|SPMe|DFN)\b|\bsim\.solve\(")
    found = set()
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT.parent).as_posix()
        if rel.startswith("batterylab/cell/"):
            continue
        text = path.read_text()
        if pattern.search(text):
            found.add(rel)
        assert "._var_pts(" not in text, f"{rel} uses CellModel's private _var_pts(); use CellModel.simulation()"
    assert not found, f"modules that build or solve PyBaMM models outside batterylab.cell: {sorted(found)}"
