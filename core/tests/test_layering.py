"""Layering rules read from the source: no import cycles among virtdeck's modules, no Django in virt/.

Imports inside functions count too: a function-local import that dodges a cycle is still a cycle
(it only moves the failure from import time to first use, and lets tests depend on late binding).
"""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "accounts", "access", "audit", "hosts", "instances", "networks", "storage", "console", "metrics",
            "dashboard", "guide", "virt", "virtdeck")


def module_name(path):
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def production_modules():
    """module name -> path, tests and migrations left out."""
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if not {"tests", "migrations"} & set(path.relative_to(ROOT).parts):
                modules[module_name(path)] = path
    return modules


def imported_names(path, name):
    """Every module name `path` imports, anywhere in it (module level, classes and functions)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            yield module
            yield from (f"{module}.{alias.name}" for alias in node.names)  # `from pkg import module`


def import_graph():
    modules = production_modules()
    graph = {}
    for name, path in modules.items():
        targets = set()
        for imported in imported_names(path, name):
            # `import a.b.c` runs a/__init__ and a/b/__init__ too; those are empty or import nothing of ours.
            if imported in modules and imported != name:
                targets.add(imported)
        graph[name] = targets
    return graph


def find_cycle(graph):
    """One cycle as a list of module names, or None (iterative DFS, white/grey/black)."""
    colour = dict.fromkeys(graph, 0)
    for start in sorted(graph):
        if colour[start]:
            continue
        stack = [(start, iter(sorted(graph[start])))]
        colour[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                colour[node] = 2
                stack.pop()
            elif colour[child] == 1:
                path = [n for n, _ in stack]
                return [*path[path.index(child):], child]
            elif colour[child] == 0:
                colour[child] = 1
                stack.append((child, iter(sorted(graph[child]))))
    return None


def test_it_finds_a_cycle_when_there_is_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_it_reads_relative_and_function_local_imports():
    graph = import_graph()
    assert "hosts.models" in graph["hosts.services"]  # from .models import ...
    assert "virt.connection" in graph["hosts.connection"]
    assert "virt.errors" in graph["hosts.apps"]  # imported inside AppConfig.ready()


def test_it_has_no_import_cycle_among_virtdecks_modules():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_it_keeps_django_out_of_virt():
    graph_modules = production_modules()
    offenders = sorted(
        name for name, path in graph_modules.items() if name.split(".")[0] == "virt"
        for imported in imported_names(path, name) if imported.split(".")[0] in ("django", "rest_framework")
    )
    assert offenders == []


def test_it_keeps_the_dashboard_out_of_core():
    """core/ sits below the resource apps: its views import no dashboard (it moved to dashboard/)."""
    graph = import_graph()
    assert not any(target.startswith("dashboard") for name, targets in graph.items() if name.startswith("core.")
                   for target in targets)
