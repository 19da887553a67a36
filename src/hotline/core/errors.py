"""Errors that carry a location (file, line, field) and the rule that was broken."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    """One located problem: where it is and which rule it breaks, in plain language.

    >>> str(Problem(rule="unknown skill 'repiar'", file="center.yaml", line=12, field="agents[3]"))
    "center.yaml:12: agents[3]: unknown skill 'repiar'"
    """

    rule: str
    file: str | None = None
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        elif self.line is not None:
            where = f"line {self.line}: "
        subject = f"{self.field}: " if self.field else ""
        return f"{where}{subject}{self.rule}"


class HotlineError(Exception):
    """Base class of every error Hotline raises on purpose."""


@dataclass
class ValidationFailed(HotlineError):
    """Input was rejected; ``problems`` lists every located problem found."""

    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


class NotFound(HotlineError):
    """A named record does not exist."""


class Conflict(HotlineError):
    """The request clashes with the current state (duplicate, illegal transition)."""
