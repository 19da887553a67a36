"""Immutable values built on the hot path: plain classes that behave like frozen dataclasses.

The routing engine makes about ten events and a few commands and effects per contact. The
platform compiles the engine and these types with mypyc (``hotline.compiled``), where a plain
class with ``Final`` attributes gets a C constructor and read-only attributes, while a frozen
dataclass keeps a Python-level ``__init__`` with an ``object.__setattr__`` per field (ten
times slower). :class:`Value` gives such classes what the dataclass decorator would: equality,
hashing, ``repr`` and pickling by their fields, named in ``__match_args__`` (also the order of
their constructor's parameters).

>>> class Point(Value):
...     __slots__ = ("x", "y")
...     __match_args__ = ("x", "y")
...     def __init__(self, x: int, y: int) -> None:
...         self.x = x
...         self.y = y
>>> Point(1, 2), Point(1, 2) == Point(1, 2), Point(1, 2) == Point(2, 1)
(Point(x=1, y=2), True, False)
"""

from __future__ import annotations

from typing import Any, ClassVar


class Value:
    """Base of the hot-path value classes; see the module documentation."""

    __slots__ = ()
    #: The fields, in the order of the constructor's parameters.
    __match_args__: ClassVar[tuple[str, ...]] = ()

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__match_args__)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Value)
        return self._values() == other._values()

    def __hash__(self) -> int:
        # Like a frozen dataclass: by the fields (an unhashable field makes it unhashable).
        return hash((type(self).__name__, self._values()))

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{name}={value!r}"
            for name, value in zip(self.__match_args__, self._values(), strict=True)
        )
        return f"{type(self).__name__}({shown})"

    def __reduce__(self) -> tuple[type[Value], tuple[Any, ...]]:
        # copy and pickle rebuild through the constructor (a compiled class has no
        # argument-free __new__).
        return (type(self), self._values())
