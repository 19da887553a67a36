"""The modules Hotline runs compiled, and the guard that keeps a stale build from running.

The routing engine and the event vocabulary it writes are compiled to C extensions with mypyc
(``scripts/compile.py``, run by ``make setup``): the same source, strictly typed, about twice
as fast — the simulator drives the engine for every contact of every replication. The
extensions sit next to their sources (``engine.cpython-311-*.so`` beside ``engine.py``), where
Python's import system prefers them.

An extension built from older source must never run in its place, so ``scripts/compile.py``
records each source's SHA-256 in ``_compiled.json`` and :func:`install_guard` (called when the
``hotline`` package is imported) compares them. If any compiled source has changed since, or
``HOTLINE_INTERPRETED=1`` is set, every compiled module is imported from its source instead —
all or none, because compiled modules rely on each other's native classes — and a changed
source is reported once on the ``hotline`` logger.
"""

from __future__ import annotations

import copyreg
import dataclasses
import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import MappingProxyType, ModuleType
from typing import Any

#: The modules compiled by ``scripts/compile.py``, in dependency order.
COMPILED_MODULES: tuple[str, ...] = (
    "hotline.core.values",
    "hotline.core.events",
    "hotline.core.requirements",
    "hotline.core.calendar",
    "hotline.routing.model",
    "hotline.routing.strategies",
    "hotline.routing.state",
    "hotline.routing.timers",
    "hotline.routing.pools",
    "hotline.routing.handlers",
    "hotline.routing.engine",
    "hotline.sim.distributions",
    "hotline.sim.driver",
)
#: Where ``scripts/compile.py`` records what it compiled (not kept in git).
MANIFEST = Path(__file__).with_name("_compiled.json")
#: Set to ``1`` to run everything interpreted even when compiled modules are present.
INTERPRETED_ENV = "HOTLINE_INTERPRETED"

_PACKAGE_ROOT = Path(__file__).resolve().parent.parent
_log = logging.getLogger("hotline")


def source_path(module: str) -> Path:
    """The ``.py`` file of a module of this package."""
    return _PACKAGE_ROOT.joinpath(*module.split(".")).with_suffix(".py")


def source_digest(module: str) -> str:
    """SHA-256 of a module's source, as the manifest records it."""
    return hashlib.sha256(source_path(module).read_bytes()).hexdigest()


def _recorded(manifest: Path) -> dict[str, str] | None:
    """The build record's source digests by module; ``None`` if it cannot be read."""
    try:
        sources = json.loads(manifest.read_text(encoding="utf-8"))["sources"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return sources if isinstance(sources, dict) else None


def stale_modules(manifest: Path | None = None) -> list[str]:
    """Compiled modules whose source changed since the build: with no record, those that
    have an extension (none when nothing was compiled); with an unreadable one, all."""
    path = MANIFEST if manifest is None else manifest
    if not path.exists():
        return [m for m in COMPILED_MODULES if _extension_of(m) is not None]
    recorded = _recorded(path)
    if recorded is None:
        return list(COMPILED_MODULES)
    return [m for m in COMPILED_MODULES if recorded.get(m) != source_digest(m)]


def up_to_date(manifest: Path | None = None) -> bool:
    """Whether the recorded build is of exactly :data:`COMPILED_MODULES`, from their sources."""
    path = MANIFEST if manifest is None else manifest
    recorded = _recorded(path)
    return (
        recorded is not None and set(recorded) == set(COMPILED_MODULES) and not stale_modules(path)
    )


def is_compiled(module: ModuleType) -> bool:
    """Whether an imported module runs as a compiled extension."""
    return Path(getattr(module, "__file__", "") or "").suffix in {".so", ".pyd"}


def status() -> dict[str, bool]:
    """Each compiled module and whether it runs compiled now (importing it if needed).

    >>> sorted(status()) == sorted(COMPILED_MODULES)
    True
    """
    return {name: is_compiled(importlib.import_module(name)) for name in COMPILED_MODULES}


def pickle_by_constructor() -> None:
    """Let the compiled modules' frozen dataclasses pickle: Dask's tasks carry them.

    Pickle rebuilds a dataclass by assigning its fields one by one; compiled, a frozen
    dataclass is a native class whose fields refuse assignment, so unpickling one raises
    ``FrozenInstanceError`` (a scenario's queue configuration, overflow rules, distributions
    and calendars are such classes). Each is registered with :mod:`copyreg` to be rebuilt
    through its constructor instead, from its ``init`` fields (the others are derived in
    ``__post_init__``, as ``BusinessCalendar.zone`` is). A read-only mapping
    (``MappingProxyType``, a queue's ``head_start_by_priority``), which pickle cannot take at
    all, is sent as a copy of its items. Interpreted classes pickle the same way.

    >>> import pickle
    >>> from hotline.routing.model import OverflowAction, OverflowCondition, OverflowRule
    >>> pickle_by_constructor()
    >>> rule = OverflowRule(OverflowCondition.WAIT_EXCEEDS, OverflowAction.CALLBACK, 60, "q")
    >>> pickle.loads(pickle.dumps(rule)) == rule
    True
    """
    copyreg.pickle(MappingProxyType, _mapping_proxy_items)
    for name in COMPILED_MODULES:
        module = importlib.import_module(name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and value.__module__ == name
                and dataclasses.is_dataclass(value)
                and value.__dataclass_params__.frozen  # type: ignore[attr-defined]
            ):
                copyreg.pickle(value, _by_constructor)


def _mapping_proxy_items(proxy: MappingProxyType[Any, Any]) -> tuple[Any, tuple[Any, ...]]:
    return _read_only, (dict(proxy),)


def _read_only(items: dict[Any, Any]) -> MappingProxyType[Any, Any]:
    """Rebuild a read-only mapping (the type itself cannot be pickled by name)."""
    return MappingProxyType(items)


def _by_constructor(value: Any) -> tuple[Any, tuple[Any, ...]]:
    fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value) if f.init}
    return _construct, (type(value), fields)


def _construct(cls: type, fields: dict[str, Any]) -> Any:
    """Rebuild a frozen dataclass from its ``init`` fields (see pickle_by_constructor)."""
    return cls(**fields)


class _FromSource(importlib.abc.MetaPathFinder):
    """Import the named modules from their ``.py`` source even where an extension exists."""

    def __init__(self, modules: Sequence[str]) -> None:
        self.modules = frozenset(modules)

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.modules:
            return None
        return importlib.util.spec_from_file_location(fullname, source_path(fullname))


def _extension_of(module: str) -> Path | None:
    stem = source_path(module).with_suffix("")
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        candidate = stem.with_name(stem.name + suffix)
        if candidate.exists():
            return candidate
    return None


def install_guard() -> None:
    """Import compiled modules from source if the build is stale or interpretation is asked.

    Must run before any compiled module is imported (``hotline/__init__.py`` calls it).
    """
    if any(isinstance(f, _FromSource) for f in sys.meta_path):
        return
    if os.environ.get(INTERPRETED_ENV) == "1":
        sys.meta_path.insert(0, _FromSource(COMPILED_MODULES))
        return
    stale = stale_modules()
    if stale:
        _log.warning(
            "hotline: %s changed since it was compiled; running the routing engine "
            "interpreted (slower) — run `make setup` to compile it again",
            ", ".join(str(source_path(m).relative_to(_PACKAGE_ROOT)) for m in stale),
        )
        sys.meta_path.insert(0, _FromSource(COMPILED_MODULES))
