"""The house drawing of /work/shared/STYLE.md, checked on the source: no import cycle, imports
flow one way along the layers, and no module outside the schedule formulas grows past 600 lines.

Every module of ``sched_cli`` is parsed with :mod:`ast` (nothing is imported). An import inside a
function counts for the layers (it runs, only later); an import under ``if TYPE_CHECKING:`` does
not, except in a package ``__init__`` that re-exports lazily through ``__getattr__``, where those
imports say what a name loads.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "sched_cli"

#: The layers, lowest first: a module may import its own layer's modules and those of lower ones.
#: The first prefix that matches a module's dotted name places it.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("time and text", ("sched_cli", "sched_cli.time", "sched_cli.parsing", "sched_cli.trust")),
    ("state and run description", ("sched_cli.state", "sched_cli.geometry")),
    ("schedulers", ("sched_cli.schedulers", "sched_cli.composer_modules")),
    (
        "simulator",
        ("sched_cli.run", "sched_cli.evaluation", "sched_cli.simulator", "sched_cli.resume", "sched_cli.summary"),
    ),
    ("specs and readers", ("sched_cli.specs", "sched_cli.readers", "sched_cli.registry", "sched_cli.logs")),
    ("renderers", ("sched_cli.render",)),
    (
        "views",
        (
            "sched_cli.views",
            "sched_cli.views_export",
            "sched_cli.views_check",
            "sched_cli.check",
            "sched_cli.check_reasons",
        ),
    ),
    ("cli", ("sched_cli.cli", "sched_cli.__main__")),
)
MAX_LINES = 600
#: Where long files are allowed: the schedule formulas, one class per scheduler with its docstring.
LONG_ALLOWED = ("sched_cli.schedulers",)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer_of(module: str) -> int:
    best, best_len = -1, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_len:
                best, best_len = index, len(prefix)
    return best


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _targets(node: ast.Import | ast.ImportFrom, module: str) -> list[str]:
    """The sched_cli modules an import statement loads."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name == "sched_cli" or a.name.startswith("sched_cli.")]
    base = node.module or ""
    if node.level:
        package = module.split(".") if MODULES[module].name == "__init__.py" else module.split(".")[:-1]
        package = package[: len(package) - node.level + 1]
        base = ".".join([*package, base] if base else package)
    if base != "sched_cli" and not base.startswith("sched_cli."):
        return []
    out = []
    for alias in node.names:
        sub = f"{base}.{alias.name}"
        out.append(sub if sub in MODULES else base)
    return out


def imports(module: str) -> tuple[set[str], set[str]]:
    """(modules imported at module level, modules imported anywhere) by ``module``."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    lazy_package = MODULES[module].name == "__init__.py" and any(
        isinstance(n, ast.FunctionDef) and n.name == "__getattr__" for n in tree.body
    )
    top: set[str] = set()
    anywhere: set[str] = set()

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                if lazy_package and not in_function:
                    for sub in child.body:
                        visit_statement(sub, in_function=False)
                for sub in child.orelse:
                    visit_statement(sub, in_function)
                continue
            visit_statement(child, in_function)

    def visit_statement(child: ast.AST, in_function: bool) -> None:
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            found = {t for t in _targets(child, module) if t != module}
            anywhere.update(found)
            if not in_function:
                top.update(found)
            return
        inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        visit(child, inside)

    visit(tree, False)
    return top, anywhere


GRAPH = {m: imports(m) for m in MODULES}


def find_cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every elementary cycle's representative found by depth-first search (one per back edge)."""
    cycles, state, stack = [], {}, []

    def dfs(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                dfs(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            dfs(node)
    return cycles


def test_every_module_has_a_layer():
    unplaced = [m for m in MODULES if layer_of(m) < 0]
    assert not unplaced, f"modules in no layer of tests/test_layers.py LAYERS (add them): {', '.join(unplaced)}"


def test_no_import_cycle_at_module_level():
    cycles = find_cycles({m: top for m, (top, _) in GRAPH.items()})
    assert not cycles, "import cycles at module level:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_imports_flow_one_way_along_the_layers():
    upward = []
    for module, (_, anywhere) in GRAPH.items():
        for target in sorted(anywhere):
            if target in MODULES and layer_of(target) > layer_of(module):
                upward.append(
                    f"{module} ({LAYERS[layer_of(module)][0]}) imports {target} ({LAYERS[layer_of(target)][0]})"
                )
    assert not upward, "imports that run up the layers of STYLE.md:\n" + "\n".join(upward)


def test_no_import_cycle_counting_function_level_imports_across_layers():
    """Within a layer, a function may import back (lazily); across layers it may not, and the
    layer check above names it. This check says the same as a cycle, for the record."""
    edges = {m: {t for t in anywhere if layer_of(t) != layer_of(m)} for m, (_, anywhere) in GRAPH.items()}
    cycles = find_cycles(edges)
    assert not cycles, "import cycles through function-level imports:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_no_module_over_600_lines_outside_the_formulas():
    long = []
    for module, path in MODULES.items():
        if any(module == p or module.startswith(p + ".") for p in LONG_ALLOWED):
            continue
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES:
            long.append(f"{path.relative_to(PACKAGE.parent)}: {lines} lines")
    assert not long, f"modules over {MAX_LINES} lines (split them by what they do):\n" + "\n".join(long)


# -- the checker itself, on small made-up packages ------------------------------------------------
def test_find_cycles_finds_a_two_module_cycle_and_nothing_in_a_chain():
    assert find_cycles({"a": {"b"}, "b": {"a"}}) == [["a", "b", "a"]]
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


@pytest.mark.parametrize(
    ("module", "layer"),
    [
        ("sched_cli.time", "time and text"),
        ("sched_cli.schedulers.hf", "schedulers"),
        ("sched_cli.specs.loading", "specs and readers"),
        ("sched_cli.readers.hf", "specs and readers"),
        ("sched_cli.render.html", "renderers"),
    ],
)
def test_layer_of_places_modules_by_their_longest_prefix(module, layer):
    assert LAYERS[layer_of(module)][0] == layer


def test_function_level_and_type_checking_imports_are_told_apart():
    top, anywhere = GRAPH["sched_cli.specs.checks"]
    # checks imports the simulator at module level; views' charts import specs at module level.
    assert "sched_cli.simulator" in top
    assert "sched_cli.specs" in GRAPH["sched_cli.views.charts"][0]
    # The lazy package's TYPE_CHECKING imports say what its names load.
    assert "sched_cli.specs.loading" in GRAPH["sched_cli.specs"][0]
    assert top <= anywhere
