"""The import graph of ``src/cxlist``: every edge points down the layer order, no module
imports a peer layer's module, there is no cycle anywhere, and ``cxlist.model`` stands on the
standard library alone.

The graph is read from the source with :mod:`ast` (imports inside functions and under
``TYPE_CHECKING`` count too: hiding an import in a function does not make a dependency go
away). A new top-level package or module needs a place in :data:`LAYERS`.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

#: The layers, lowest first. A module may import modules of its own unit (package) and of
#: lower layers; never of a higher layer, nor of another unit in its own layer.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("cxlist.model", "cxlist.templates", "cxlist.lazy"),  # standard library only: the domain;
    # data files; lazy package exports
    # every error cxlist raises; settings errors; crash seams; operational log events
    ("cxlist.errors", "cxlist.config_errors", "cxlist.crashpoints", "cxlist.logs"),
    ("cxlist.workspace",),  # where runs live on disk
    ("cxlist.settings_layers",),  # settings' layers merged (no pydantic)
    ("cxlist.settings",),  # settings: TOML, environment, flags
    ("cxlist.registry",),  # DNC registries kept on disk (import, lookup)
    ("cxlist.api", "cxlist.pipeline"),  # the CXone client; the pipeline (pure data, no HTTP)
    ("cxlist.settings_pipeline",),  # the pipeline's sections checked quickly (no pydantic)
    ("cxlist.upload", "cxlist.report"),  # engine and journal; results, webhook, audit
    # a run's audit events, webhooks, files and notes, reaching CXone before a run; the emulator
    (
        "cxlist.run_audit",
        "cxlist.run_webhooks",
        "cxlist.run_files",
        "cxlist.run_notes",
        "cxlist.run_context",
        "cxlist.sandbox",
    ),
    ("cxlist.run",),  # a run start to finish, and resume
    ("cxlist.run_plan",),  # sending a reviewed plan
    ("cxlist.demo",),  # the demo: sandbox + a real run
    ("cxlist.cli",),  # the commands
    ("cxlist", "cxlist.__main__"),  # the package's public face and entry point
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted((SRC / "cxlist").rglob("*.py"))}


def _imported(node: ast.AST, here: str, is_package: bool, known: set[str]) -> Iterator[str]:
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            anchor = here.split(".")
            anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
            base = ".".join([*anchor, *([base] if base else [])])
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            yield sub if sub in known else base


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        graph[name] = {
            target
            for node in ast.walk(tree)
            for target in _imported(node, name, is_package, known)
            if target in known and target != name
        }
    return graph


def _unit(module: str) -> str:
    """The layered unit a module belongs to: ``cxlist`` itself or ``cxlist.<top>``."""
    return ".".join(module.split(".")[:2])


def _layer_of() -> dict[str, int]:
    return {unit: level for level, units in enumerate(LAYERS) for unit in units}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_every_module_has_a_layer() -> None:
    """Each top-level package or module of cxlist is placed in LAYERS."""
    layer = _layer_of()
    unplaced = sorted({_unit(m) for m in _graph()} - set(layer))
    assert not unplaced, f"give these a place in LAYERS: {unplaced}"


def test_imports_point_down_the_layers() -> None:
    """No module imports a higher layer, or another unit of its own layer."""
    layer = _layer_of()
    wrong = []
    for module, targets in sorted(_graph().items()):
        for target in sorted(targets):
            here, there = _unit(module), _unit(target)
            if here == there or here not in layer or there not in layer:
                continue
            if layer[there] >= layer[here]:
                kind = "sideways" if layer[there] == layer[here] else "upward"
                wrong.append(f"{module} -> {target} ({kind})")
    assert not wrong, "imports against the layer order:\n" + "\n".join(wrong)


def test_no_import_cycle() -> None:
    """No set of modules imports itself round, even through function-level imports."""
    assert _cycles(_graph()) == []


def test_model_imports_only_the_standard_library() -> None:
    """cxlist.model depends on nothing but the standard library."""
    tree = ast.parse((SRC / "cxlist" / "model.py").read_text(encoding="utf-8"))
    tops = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            tops |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            tops.add(node.module.split(".")[0])
    assert tops <= set(sys.stdlib_module_names) | {"__future__"}, tops


def test_the_checker_sees_a_cycle() -> None:
    """The cycle finder reports a two-module loop (so a green run means something)."""
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
