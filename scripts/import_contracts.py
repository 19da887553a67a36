"""Import-linter contract types of our own (``contract_types`` in ``pyproject.toml``).

``acyclic_packages``: no package's own module (its ``__init__``) is in an import cycle with the
modules below it. import-linter's ``acyclic_siblings`` finds cycles *between* the children of
a package; a cycle through the package itself (``web/pages/__init__.py`` imports
``web/pages/admin.py``, which imports ``render`` back from ``web/pages/__init__.py``) is not
between siblings, so it slips through. This contract looks at every package under the
``ancestors``: each child counts with everything below it (as ``acyclic_siblings`` squashes
them), and any child that the package's module reaches and that reaches the package's module
back, through imports inside the package, breaks the contract.

Like every contract, it is shown failing on a planted violation in ``tests/unit/gates/``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import grimp
from importlinter import Contract, ContractCheck, fields, output


@dataclass(frozen=True)
class PackageCycle:
    """A package's module and one of its children that import each other, with the path back."""

    package: str
    child: str
    # Modules from the package's module to the child and back, one hop per import.
    there: tuple[str, ...]
    back: tuple[str, ...]


class AcyclicPackagesContract(Contract):
    """No package's ``__init__`` takes part in an import cycle with its own modules."""

    type_name = "acyclic_packages"

    ancestors = fields.ListField(subfield=fields.ModuleField())

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        cycles: list[PackageCycle] = []
        for ancestor in self.ancestors:  # type: ignore[attr-defined]
            for package in sorted(_packages(graph, ancestor.name)):
                cycles.extend(package_cycles(graph, package))
        return ContractCheck(kept=not cycles, metadata={"cycles": cycles})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for cycle in check.metadata["cycles"]:
            output.print_error(
                f"{cycle.package} is in an import cycle with {cycle.child}:", bold=False
            )
            output.new_line()
            output.indent_cursor()
            output.print_error(" -> ".join(_modules_path(cycle.there, cycle.back)), bold=False)
            output.new_line()


def _packages(graph: grimp.ImportGraph, ancestor: str) -> set[str]:
    """The ancestor and every package below it (modules that have children)."""
    found = {ancestor} if graph.find_children(ancestor) else set()
    for module in graph.find_descendants(ancestor):
        if graph.find_children(module):
            found.add(module)
    return found


def package_cycles(graph: grimp.ImportGraph, package: str) -> list[PackageCycle]:
    """The children of ``package`` in an import cycle with ``package``'s own module.

    Only imports between modules inside the package count; each child stands for itself and
    everything below it.
    """
    inside = {package} | set(graph.find_descendants(package))
    prefix = package + "."

    def node(module: str) -> str:
        if module == package:
            return package
        return prefix + module[len(prefix) :].split(".", maxsplit=1)[0]

    # One edge per import inside the package, between the nodes its two ends belong to; the
    # first import seen stands for the edge when the path is shown.
    edges: dict[str, dict[str, tuple[str, str]]] = {}
    for importer in inside:
        for imported in graph.find_modules_directly_imported_by(importer):
            if imported in inside and node(importer) != node(imported):
                edges.setdefault(node(importer), {}).setdefault(
                    node(imported), (importer, imported)
                )
    forward = _paths_from(package, edges)
    cycles = []
    for child in sorted(forward):
        if child == package:
            continue
        back = _paths_from(child, edges).get(package)
        if back is not None:
            cycles.append(PackageCycle(package, child, _modules(forward[child]), _modules(back)))
    return cycles


def _paths_from(
    start: str, edges: dict[str, dict[str, tuple[str, str]]]
) -> dict[str, list[tuple[str, str]]]:
    """Breadth-first: for every node reachable from ``start``, the imports that lead there."""
    paths: dict[str, list[tuple[str, str]]] = {start: []}
    queue = [start]
    while queue:
        current = queue.pop(0)
        for target, link in sorted(edges.get(current, {}).items()):
            if target not in paths:
                paths[target] = [*paths[current], link]
                queue.append(target)
    return paths


def _modules_path(*parts: tuple[str, ...]) -> list[str]:
    """The parts joined, a module repeated where one part ends and the next begins shown once."""
    joined: list[str] = []
    for part in parts:
        for module in part:
            if not joined or joined[-1] != module:
                joined.append(module)
    return joined


def _modules(links: Iterable[tuple[str, str]]) -> tuple[str, ...]:
    """A path of imports as the modules it passes through (``a -> b``, ``b' -> c``: a, b, b', c)."""
    modules: list[str] = []
    for importer, imported in links:
        if not modules or modules[-1] != importer:
            modules.append(importer)
        modules.append(imported)
    return tuple(modules)
