"""Requirement expressions: the one grammar for what a contact needs of an agent.

A queue's (or a contact's) **requirements** are a conjunction of simple terms — ``repair >= 3``,
``vip`` (meaning ``vip >= 1``), ``language == en`` (also ``lang:en``) — each met or not by an
agent's skills (proficiency 1–5) and languages. The center configuration checks them, the
routing engine matches and relaxes them as a contact ages, and the ticket desk uses them to
decide which queues' tickets an agent sees: all through this module, so the same text means
the same thing everywhere. Pure: no I/O. Compiled with the routing engine (its hot path).

>>> terms = parse_requirements(["repair >= 3", "lang:zh-CN"])
>>> matches_all(terms, {"repair": 4}, frozenset({"zh-CN"}))
True
>>> matches_all(terms, {"repair": 2}, frozenset({"zh-CN"}))
False
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


class RequirementError(ValueError):
    """A requirement expression does not follow the grammar."""


_SKILL_TERM = re.compile(r"^\s*([A-Za-z0-9_.-]+)\s*(>=|==|>)\s*([1-5])\s*$")
_LANGUAGE_TERM = re.compile(r"^\s*(?:language|lang)\s*(?:==|=|:)\s*([A-Za-z0-9_-]+)\s*$")
_BARE_SKILL = re.compile(r"^\s*([A-Za-z0-9_.-]+)\s*$")


@dataclass(frozen=True, slots=True, order=True)
class SkillTerm:
    """``skill >= level`` (also ``>`` and ``==``): the agent's proficiency in ``skill``.

    >>> SkillTerm("repair", ">=", 3).matches({"repair": 4}, frozenset())
    True
    """

    skill: str
    operator: str
    level: int

    def matches(self, skills: Mapping[str, int], languages: frozenset[str]) -> bool:
        """Whether an agent with ``skills`` meets this term."""
        have = skills.get(self.skill, 0)
        if self.operator == ">=":
            return have >= self.level
        if self.operator == ">":
            return have > self.level
        return have == self.level

    def minimum(self) -> int:
        """The lowest proficiency that can satisfy this term."""
        return self.level + 1 if self.operator == ">" else self.level

    def relaxed(self, min_proficiency: int) -> SkillTerm:
        """This term after an ageing step that accepts ``min_proficiency`` or better."""
        if self.minimum() <= min_proficiency and self.operator != "==":
            return self
        if self.operator == "==" and self.level <= min_proficiency:
            return self
        return SkillTerm(self.skill, ">=", min(self.minimum(), min_proficiency))

    def implied_by(self, terms: tuple[Term, ...]) -> bool:
        """Whether every agent meeting ``terms`` also meets this term."""
        for other in terms:
            if not isinstance(other, SkillTerm) or other.skill != self.skill:
                continue
            if self.operator == "==":
                if other.operator == "==" and other.level == self.level:
                    return True
            elif other.minimum() >= self.minimum():
                return True
        return False

    def __str__(self) -> str:
        return f"{self.skill} {self.operator} {self.level}"


@dataclass(frozen=True, slots=True, order=True)
class LanguageTerm:
    """``language == en``: the agent speaks the language.

    >>> LanguageTerm("en").matches({}, frozenset({"en", "zh-CN"}))
    True
    """

    language: str

    def matches(self, skills: Mapping[str, int], languages: frozenset[str]) -> bool:
        """Whether an agent speaking ``languages`` meets this term."""
        return self.language in languages

    def relaxed(self, min_proficiency: int) -> LanguageTerm:
        """Languages are never relaxed by ageing: a caller who speaks only English stays so."""
        return self

    def implied_by(self, terms: tuple[Term, ...]) -> bool:
        """Whether ``terms`` already require this language."""
        return self in terms

    def __str__(self) -> str:
        return f"language == {self.language}"


Term = SkillTerm | LanguageTerm


def parse_requirement(text: str) -> Term:
    """Parse one requirement term.

    Accepted forms: ``skill >= 3``, ``skill > 2``, ``skill == 5`` (levels 1–5), a bare ``skill``
    (meaning ``skill >= 1``, e.g. ``vip``) and ``language == en`` (also ``lang:en``).

    >>> parse_requirement("repair>=3")
    SkillTerm(skill='repair', operator='>=', level=3)
    >>> parse_requirement("language == en")
    LanguageTerm(language='en')
    """
    match = _LANGUAGE_TERM.match(text)
    if match:
        return LanguageTerm(match.group(1))
    match = _SKILL_TERM.match(text)
    if match:
        return SkillTerm(match.group(1), match.group(2), int(match.group(3)))
    match = _BARE_SKILL.match(text)
    if match and match.group(1) not in {"language", "lang"}:
        return SkillTerm(match.group(1), ">=", 1)
    raise RequirementError(
        f"requirement {text!r} must look like 'skill >= 3' (levels 1 to 5, operators >=, > "
        "or ==), a bare 'skill', or 'language == en'"
    )


def parse_requirements(texts: tuple[str, ...] | list[str]) -> tuple[Term, ...]:
    """Parse several terms into a canonical (sorted, de-duplicated) conjunction.

    >>> parse_requirements(["b >= 2", "a", "b >= 2"])
    (SkillTerm(skill='a', operator='>=', level=1), SkillTerm(skill='b', operator='>=', level=2))
    """
    return canonical([parse_requirement(t) for t in texts])


def canonical(terms: Iterable[Term]) -> tuple[Term, ...]:
    """Sort and de-duplicate terms so equal conjunctions compare equal."""
    unique: set[Term] = set(terms)
    skills = sorted(t for t in unique if isinstance(t, SkillTerm))
    languages = sorted(t for t in unique if isinstance(t, LanguageTerm))
    return (*skills, *languages)


def matches_all(
    terms: tuple[Term, ...], skills: Mapping[str, int], languages: frozenset[str]
) -> bool:
    """Whether an agent meets every term of a conjunction (the empty one matches anyone)."""
    return all(t.matches(skills, languages) for t in terms)
