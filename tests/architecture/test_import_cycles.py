"""No import cycle within app/: every module can be read (and imported) before the ones that
import it. Checked on grimp's graph of the direct imports, the one import-linter builds
(imports under `if TYPE_CHECKING:` are left out: they never run)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import grimp

# Imports that close a cycle, each with the reason it is allowed; keep this list empty.
ALLOWED_BACK_EDGES: dict[tuple[str, str], str] = {}


def strongly_connected(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Tarjan's algorithm: the groups of modules that reach each other (cycles), each sorted."""
    index: dict[str, int] = {}
    lowest: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = lowest[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.get(module, ()):
            if imported not in index:
                visit(imported)
                lowest[module] = min(lowest[module], lowest[imported])
            elif imported in on_stack:
                lowest[module] = min(lowest[module], index[imported])
        if lowest[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1 or module in graph.get(module, ()):
                found.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def app_import_graph() -> dict[str, set[str]]:
    graph = grimp.build_graph("app", exclude_type_checking_imports=True, cache_dir=None)
    edges = {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    for importer, imported in ALLOWED_BACK_EDGES:
        edges.get(importer, set()).discard(imported)
    return edges


def test_app_has_no_import_cycle() -> None:
    cycles = strongly_connected(app_import_graph())
    assert cycles == [], f"modules that import each other (directly or around a loop): {cycles}"


def test_the_check_finds_a_cycle_of_three() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert strongly_connected(graph) == [["a", "b", "c"]]


def test_the_check_passes_a_chain() -> None:
    assert strongly_connected({"a": {"b"}, "b": {"c"}, "c": set()}) == []
