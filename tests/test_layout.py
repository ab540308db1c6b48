"""The layout docs/developers.md describes: the domain imports no Rasa, channels no domain, and
no module imports another that imports it back (also through others, also lazily)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, List, Set

from tests.conftest import ROOT

PACKAGES = ("careers", "dialogue", "actions", "nlp", "channels", "runtime", "tools")
# Layers, lowest first: each imports only from layers below it (and itself). The domain
# knows nothing of how messages are read; the dialogue layer nothing of Rasa's adapters.
LAYERS = (("careers",), ("dialogue",), ("actions", "nlp"))


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> Dict[str, Path]:
    return {
        _module_name(path): path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "__pycache__" not in path.parts
    }


def _imports(path: Path) -> Set[str]:
    """Every module the file imports, at the top or inside a function."""
    found: Set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _graph() -> Dict[str, Set[str]]:
    modules = _modules()
    return {name: {m for m in _imports(path) if m in modules and m != name} for name, path in modules.items()}


def test_the_domain_and_the_dialogue_layer_import_no_rasa():
    for name, path in _modules().items():
        if name.split(".")[0] in ("careers", "dialogue"):
            rasa = {m for m in _imports(path) if m.split(".")[0] in ("rasa", "rasa_sdk")}
            assert not rasa, f"{path.relative_to(ROOT)} imports {sorted(rasa)}"


def test_channels_and_the_runtime_know_nothing_of_the_domain():
    for name, path in _modules().items():
        if name.split(".")[0] in ("channels", "runtime"):
            domain = {m for m in _imports(path) if m.split(".")[0] in ("careers", "actions")}
            assert not domain, f"{path.relative_to(ROOT)} imports {sorted(domain)}"


def _cycles(graph: Dict[str, Set[str]]) -> List[List[str]]:
    """One cycle through each strongly connected group of modules (Tarjan's algorithm)."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on_stack: Set[str] = set()
    groups: List[List[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_no_import_cycles():
    assert _cycles(_graph()) == []


def test_a_cycle_would_be_found():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]


def upward_imports(graph: Dict[str, Set[str]]) -> List[str]:
    """Imports from a module to one in a higher layer (see LAYERS)."""
    level = {package: i for i, layer in enumerate(LAYERS) for package in layer}
    found = []
    for name, targets in graph.items():
        mine = level.get(name.split(".")[0])
        if mine is None:
            continue
        for target in sorted(targets):
            theirs = level.get(target.split(".")[0])
            if theirs is not None and theirs > mine:
                found.append(f"{name} -> {target}")
    return found


def test_layers_only_look_down():
    assert upward_imports(_graph()) == []


def test_an_upward_import_is_caught():
    graph = {
        "careers.engine": {"dialogue.turns"},
        "dialogue.turns": {"careers.engine"},
        "actions.a": {"dialogue.x"},
    }
    assert upward_imports(graph) == ["careers.engine -> dialogue.turns"]
