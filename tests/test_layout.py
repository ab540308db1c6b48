"""The layout docs/developers.md describes: packages in layers that only look down (the
domain imports no Rasa, channels no domain, nothing below the tools imports a tool), and no
module imports another that imports it back (also through others, also lazily)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, List, Optional, Set

from tests.conftest import ROOT

# Layers, lowest first: a module imports only from its own layer and those below it.
# The domain knows nothing of how messages are read; the dialogue layer nothing of
# Rasa's adapters; the channels nothing of the servers they run in; the servers
# nothing of the test harness, the tools or the benchmarks that start them.
LAYERS = (
    ("careers",),  # the domain: the rules file, the engine, the answers
    ("dialogue",),  # reading messages and deciding the turn, without Rasa
    ("actions", "nlp"),  # the adapters: Rasa's actions and NLU components
    ("channels",),  # the web widget's, REST, Slack and Teams channels
    ("runtime",),  # the servers: launcher, patches, tracker and lock stores
    ("tests.harness",),  # starts and stops the servers; Slack and Microsoft stand-ins
    ("tools",),  # the careers team's, the evaluation's and running's commands
    ("benchmarks",),  # `make bench`
)
PACKAGES = tuple(package for layer in LAYERS for package in layer)


def package_of(module: str) -> str:
    """The package in LAYERS a module belongs to (the longest that names it), or ""."""
    found = [p for p in PACKAGES if module == p or module.startswith(p + ".")]
    return max(found, key=len, default="")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> Dict[str, Path]:
    return {
        _module_name(path): path
        for package in PACKAGES
        for path in sorted((ROOT / package.replace(".", "/")).rglob("*.py"))
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


def _graph(extra: Optional[Dict[str, Path]] = None) -> Dict[str, Set[str]]:
    """Which of our modules each of our modules imports; `extra` adds modules by name
    (a file written by a test)."""
    modules = {**_modules(), **(extra or {})}
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
        mine = level.get(package_of(name))
        if mine is None:
            continue
        for target in sorted(targets):
            theirs = level.get(package_of(target))
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


def test_an_upward_import_between_the_outer_layers_is_caught():
    """Each pair of neighbouring layers, the wrong way round, and an import within a
    layer or down that is fine."""
    graph = {
        "channels.ownership": {"runtime.retention"},
        "runtime.retention": {"tools.careers_team.report.store", "channels.ownership"},
        "tests.harness.serverctl": {"benchmarks.bots", "runtime"},
        "tools.careers_team.platforms": {"tests.harness.serverctl", "tools.quiet"},
        "actions.actions": {"channels.slack", "nlp.emergencies"},
    }
    assert sorted(upward_imports(graph)) == [
        "actions.actions -> channels.slack",
        "channels.ownership -> runtime.retention",
        "runtime.retention -> tools.careers_team.report.store",
        "tests.harness.serverctl -> benchmarks.bots",
    ]


def test_an_upward_import_in_a_file_fails_the_layout_test(tmp_path):
    """The check as it runs on the tree, with one more file: a channel that imports
    the runtime's purge, lazily, is reported; the tree itself has no such import."""
    probe = tmp_path / "probe.py"
    probe.write_text("def later():\n    from runtime.retention import purge\n", encoding="utf-8")
    found = upward_imports(_graph({"channels.probe": probe}))
    assert found == ["channels.probe -> runtime.retention"]
