"""The architecture the folder tree promises: imports point one way, from the runner
down to the core; every built-in metric and attack is declared as data and called
the same way."""
import ast
import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

import attacks
import metrics_baseline
import metrics_pid
from benchmark.runner import BUILTIN_SPECS

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("benchmark", "attacks", "metrics_baseline", "metrics_pid")


def layer(module: str) -> int:
    """0: the core, 1: attacks and metrics, 2: the runner."""
    if module.startswith("benchmark.runner"):
        return 2
    return 0 if module.split(".")[0] == "benchmark" else 1


def first_party_modules() -> dict:
    """``{module name: path}`` of every first-party module."""
    out = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


def import_graph() -> dict:
    """``{module: {imported first-party modules}}`` from the source, module-level and
    function-level imports alike."""
    modules = first_party_modules()
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                # "from pkg import mod" imports the module pkg.mod
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                           for a in node.names]
            else:
                continue
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    edges.add(target)
        graph[name] = edges
    return graph


def test_imports_point_from_the_runner_down_to_the_core():
    wrong = [f"{a} -> {b}" for a, edges in import_graph().items() for b in edges
             if layer(b) > layer(a) or (layer(a) == layer(b) == 1 and a.split(".")[0] != b.split(".")[0])]
    assert wrong == []


def test_no_import_circle():
    graph = import_graph()
    # a package's __init__ importing its own modules is how it re-exports them, and a
    # module naming its package imports the __init__: those are not circles of their own
    def edges(a):
        return {b for b in graph[a] if not (a.startswith(b + ".") or b.startswith(a + "."))}

    state, cycle = {}, []

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(edges(node)):
            if state.get(nxt) == "open":
                cycle.append(path + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycle == []


def test_importing_the_core_imports_no_runner_attack_or_metric():
    code = ("import json, sys, benchmark, benchmark.information, benchmark.spec; "
            "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('benchmark', 'attacks', 'metrics_baseline', 'metrics_pid'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         check=True)
    loaded = json.loads(out.stdout)
    assert "benchmark.information" in loaded
    assert [m for m in loaded if layer(m) > 0] == []


@pytest.mark.parametrize("spec", BUILTIN_SPECS, ids=lambda s: s.name)
def test_every_builtin_metric_is_called_the_same_way(spec):
    package = metrics_pid if spec in metrics_pid.SPECS else metrics_baseline
    # a named variant (fixed params) is a spec of a metric that exists under its own name
    name = spec.func.__name__ if spec.params else spec.name
    assert getattr(package, name) is spec.func  # from <package> import <metric>
    assert set(spec.params) <= set(inspect.signature(spec.func).parameters)
    params = list(inspect.signature(spec.func).parameters.values())
    assert [p.name for p in params[:2]] == ["rep", "rng"]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params[2:])
    assert set(spec.quick) <= {p.name for p in params[2:]}
    # the array-level core follows one naming rule, and takes its options by keyword
    core = getattr(package, name.removesuffix("_fast") + "_score")
    core_params = inspect.signature(core).parameters.values()
    assert all(p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) for p in core_params)
    assert any(p.kind is p.KEYWORD_ONLY for p in core_params)
    assert spec.func.__doc__ and "rng" in spec.func.__doc__ or spec.name == "dci_fast"


def test_one_name_per_concept():
    names = {p for spec in BUILTIN_SPECS for p in inspect.signature(spec.func).parameters}
    assert "num_eval" not in names  # held-out sets are num_test; Monte Carlo points num_mc_points
    assert {"num_test", "num_mc_points"} <= names


def test_every_attack_is_declared_as_data():
    assert attacks.names()[:len(attacks.SPECS)] == [s.name for s in attacks.SPECS]
    for spec in attacks.SPECS:
        assert getattr(attacks, spec.name) is spec.func
        assert spec.levels[0] == 0 and list(spec.levels) == sorted(spec.levels)
        assert set(spec.quick_levels) <= set(spec.levels)


def test_every_module_declares_its_public_names():
    missing = [name for name, path in first_party_modules().items()
               if "__all__" not in path.read_text()]
    assert missing == []
