"""The import rules of the call redesign, read from the source (no import is executed).

The session talks to the rest of the application only through its event stream: no call
module imports the store or voicemail; the store imports nothing of the dashboard; and
no import cycle exists anywhere in ``ari_app``.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "ari_app"
SESSION = (
    "ari_app.call.session",
    "ari_app.call.core",
    "ari_app.call.converse",
    "ari_app.call.people",
    "ari_app.call.voicemail_step",
    "ari_app.call.services",
    "ari_app.call.events",
)


def module_graph() -> dict[str, set[str]]:
    """Module -> the ari_app modules it imports, also inside functions (a late import is
    still a dependency); imports only for type checking are left out, and ``from package
    import submodule`` is an edge to the submodule only."""
    paths = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        paths[name] = path
    graph: dict[str, set[str]] = {name: set() for name in paths}
    for name, path in paths.items():
        for node in imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module in paths:
                subs = {f"{node.module}.{a.name}" for a in node.names} & paths.keys()
                graph[name] |= subs if len(subs) == len(node.names) else {node.module, *subs}
            elif isinstance(node, ast.Import):
                graph[name] |= {a.name for a in node.names if a.name in paths}
        graph[name].discard(name)
    return graph


def imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement in ``tree`` outside ``if TYPE_CHECKING:`` blocks."""
    found: list[ast.Import | ast.ImportFrom] = []
    todo = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            todo.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        todo.extend(ast.iter_child_nodes(node))
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []
    for root, children_of_root in graph.items():
        if root in index:
            continue
        work = [(root, iter(sorted(children_of_root)))]
        index[root] = low[root] = len(index)
        stack.append(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_session_imports_neither_store_nor_voicemail() -> None:
    graph = module_graph()
    wrong = {
        (module, target)
        for module in SESSION
        for target in graph[module]
        if target.startswith(("ari_app.store", "ari_app.voicemail", "ari_app.web"))
    }
    assert wrong == set()


def test_the_store_imports_nothing_above_it() -> None:
    graph = module_graph()
    above = ("ari_app.web", "ari_app.call", "ari_app.voicemail", "ari_app.metrics", "ari_app.app")
    wrong = {
        (module, target)
        for module, targets in graph.items()
        if module.startswith("ari_app.store")
        for target in targets
        if target.startswith(above)
    }
    assert wrong == set()


def test_no_import_cycle_in_ari_app() -> None:
    assert cycles(module_graph()) == []


def test_the_cycle_finder_finds_one() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
