"""The package layout's rules, read from the source (nothing is imported).

One sub-package per stage of the data flow; only the model/solve stacks import the solvers, only
the outputs draw, only the CLI speaks click; the national stack stands alone; nobody reaches into
another module's private names; no import circle, between modules or between sub-packages; no
module over 900 lines and no function over 80 lines in the ward model and the appraisal.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parent.parent / "siteopt"

# third-party module -> the sub-packages allowed to import it
RESTRICTED = {
    "pulp": ("siteopt.wards",),
    "highspy": ("siteopt.wards", "siteopt.national"),
    "folium": ("siteopt.outputs",),
    "branca": ("siteopt.outputs",),
    "matplotlib": ("siteopt.outputs",),
    "click": ("siteopt.cli",),
}
# sub-package -> sub-packages it must never import
FORBIDDEN = {
    "siteopt.national": ("siteopt.wards", "siteopt.appraisal", "siteopt.runs",
                         "siteopt.outputs", "siteopt.cli", "siteopt.catalogue"),
    "siteopt.wards": ("siteopt.appraisal", "siteopt.runs", "siteopt.outputs", "siteopt.cli",
                      "siteopt.national"),
    "siteopt.data": ("siteopt.wards", "siteopt.appraisal", "siteopt.runs", "siteopt.outputs",
                     "siteopt.cli", "siteopt.national", "siteopt.catalogue"),
}
MAX_MODULE_LINES = 900
MAX_FUNCTION_LINES = 80
SHORT_FUNCTION_PACKAGES = ("siteopt.wards", "siteopt.appraisal")


def module_name(path: Path) -> str:
    """``siteopt/wards/model.py`` -> ``siteopt.wards.model``."""
    rel = path.relative_to(PACKAGE_DIR.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def modules() -> dict[str, Path]:
    """Every module of the package by its dotted name."""
    return {module_name(p): p for p in sorted(PACKAGE_DIR.rglob("*.py"))}


def imports(path: Path) -> Iterator[tuple[str, list[str], int]]:
    """(imported module, imported names, line) for every import, lazy ones included.

    ``importlib.import_module("siteopt.x")`` and ``__import__("siteopt.x")`` with a literal
    name count as imports of ``siteopt.x``.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, [], node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, [a.name for a in node.names], node.lineno
        elif (isinstance(node, ast.Call) and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
              and node.args[0].value.startswith("siteopt.")
              and ((isinstance(node.func, ast.Name) and node.func.id == "__import__")
                   or (isinstance(node.func, ast.Attribute)
                       and node.func.attr == "import_module"))):
            yield node.args[0].value, [], node.lineno


def siteopt_targets(module: str, names: list[str], known: dict[str, Path]) -> list[str]:
    """The siteopt modules an import statement loads (``from siteopt.travel import matrix``
    loads ``siteopt.travel.matrix``)."""
    if module != "siteopt" and not module.startswith("siteopt."):
        return []
    found = [f"{module}.{n}" for n in names if f"{module}.{n}" in known]
    return found or ([module] if module in known else [])


def in_package(module: str, packages: tuple[str, ...]) -> bool:
    """Whether ``module`` is one of ``packages`` or inside one."""
    return any(module == p or module.startswith(p + ".") for p in packages)


def test_layout_has_one_sub_package_per_stage() -> None:
    """The stages of the data flow, each a sub-package with a docstring saying what it is."""
    for stage in ("data", "travel", "catalogue", "wards", "appraisal", "national", "outputs",
                  "runs", "cli"):
        init = PACKAGE_DIR / stage / "__init__.py"
        assert init.is_file(), f"missing sub-package siteopt.{stage}"
        assert ast.get_docstring(ast.parse(init.read_text())), f"siteopt.{stage} has no docstring"


def test_restricted_libraries_are_imported_only_where_allowed() -> None:
    """pulp/highspy only in the model stacks, folium/matplotlib only in outputs, click only in
    the CLI."""
    bad = []
    for name, path in modules().items():
        for module, _, line in imports(path):
            top = module.split(".")[0]
            if top in RESTRICTED and not in_package(name, RESTRICTED[top]):
                bad.append(f"{name}:{line} imports {module}")
    assert not bad, "\n".join(bad)


def test_forbidden_package_dependencies() -> None:
    """The national stack never uses the ward model, the appraisal or the runs; the ward model
    and the data stage never reach up the data flow."""
    known = modules()
    bad = []
    for name, path in known.items():
        for package, forbidden in FORBIDDEN.items():
            if not in_package(name, (package,)):
                continue
            for module, names, line in imports(path):
                for target in siteopt_targets(module, names, known):
                    if in_package(target, forbidden):
                        bad.append(f"{name}:{line} imports {target}")
    assert not bad, "\n".join(bad)


def test_no_private_names_imported_across_modules() -> None:
    """``from siteopt.x import _y`` reaches into another module's insides."""
    bad = []
    for name, path in modules().items():
        for module, names, line in imports(path):
            if module.startswith("siteopt"):
                bad += [f"{name}:{line} imports {module}.{n}" for n in names
                        if n.startswith("_") and not n.startswith("__")]
    assert not bad, "\n".join(bad)


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of a directed graph, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def import_graph() -> dict[str, set[str]]:
    """Module -> the siteopt modules it imports (lazy imports included)."""
    known = modules()
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        targets = set()
        for module, names, _ in imports(path):
            targets.update(siteopt_targets(module, names, known))
        targets.discard(name)
        graph[name] = targets
    return graph


def test_no_import_circle_between_modules() -> None:
    """No module imports itself through others, even lazily inside a function."""
    graph = import_graph()
    # a package's __init__ is imported by its children; only edges out of it count
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def package_of(module: str) -> str:
    """``siteopt.wards.model`` -> ``siteopt.wards``; top-level modules are their own."""
    parts = module.split(".")
    return ".".join(parts[:2])


def test_no_import_circle_between_sub_packages() -> None:
    """The sub-packages form a layered data flow: no two depend on each other."""
    packages: dict[str, set[str]] = {}
    for name, targets in import_graph().items():
        src = package_of(name)
        packages.setdefault(src, set()).update(
            package_of(t) for t in targets if package_of(t) != src and t != "siteopt")
    assert _cycle(packages) is None, " -> ".join(_cycle(packages) or [])


@pytest.mark.parametrize("name", sorted(modules()))
def test_module_is_not_too_long(name: str) -> None:
    """A module over 900 lines holds more than one idea."""
    lines = modules()[name].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_MODULE_LINES, f"{name} has {lines} lines"


def test_functions_in_the_model_and_appraisal_are_short() -> None:
    """No function over 80 lines in ``siteopt.wards`` and ``siteopt.appraisal``."""
    bad = []
    for name, path in modules().items():
        if not in_package(name, SHORT_FUNCTION_PACKAGES):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    bad.append(f"{name}.{node.name}: {length} lines")
    assert not bad, "\n".join(bad)


def test_the_rule_checker_sees_a_violation(tmp_path: Path) -> None:
    """The checks above can fail: a planted cycle and a planted private import are found."""
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}}) is None
    planted = tmp_path / "planted.py"
    planted.write_text("from siteopt.wards.model import _hidden\nimport folium\n"
                       "def f():\n    import importlib\n"
                       "    importlib.import_module('siteopt.runs.sweep')\n")
    found = list(imports(planted))
    assert ("siteopt.wards.model", ["_hidden"], 1) in found
    assert ("folium", [], 2) in found
    assert ("siteopt.runs.sweep", [], 5) in found
