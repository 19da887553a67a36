"""The requirement grammar has one home, hotline.core.requirements, used by every layer."""

from __future__ import annotations

from pathlib import Path

import pytest

import hotline
from hotline.core.requirements import (
    LanguageTerm,
    RequirementError,
    SkillTerm,
    matches_all,
    parse_requirement,
    parse_requirements,
)
from hotline.routing import model


def test_the_terms_and_their_matching() -> None:
    assert parse_requirement("repair >= 3") == SkillTerm("repair", ">=", 3)
    assert parse_requirement("vip") == SkillTerm("vip", ">=", 1)
    assert parse_requirement("lang:zh-CN") == LanguageTerm("zh-CN")
    terms = parse_requirements(["billing > 2", "language == en"])
    assert matches_all(terms, {"billing": 3}, frozenset({"en"}))
    assert not matches_all(terms, {"billing": 2}, frozenset({"en"}))
    assert not matches_all(terms, {"billing": 3}, frozenset({"zh-CN"}))
    for bad in ["repair >= 9", "repair =< 3", "", "language"]:
        with pytest.raises(RequirementError, match="must look like 'skill >= 3'"):
            parse_requirement(bad)


def test_routing_matches_the_same_terms_and_keeps_its_error() -> None:
    """The engine's vocabulary is the grammar's own classes, not a second copy."""
    assert model.SkillTerm is SkillTerm and model.LanguageTerm is LanguageTerm
    assert model.matches_all is matches_all
    assert model.parse_requirements(["a", "b >= 2"]) == parse_requirements(["a", "b >= 2"])
    with pytest.raises(model.RoutingError, match="must look like"):
        model.parse_requirement("repair >= 9")


def test_no_other_module_parses_requirement_expressions() -> None:
    """The grammar's operator pattern appears once in the source tree (config, routing and the
    ticket desk each had their own parser or hand-written matching before)."""
    root = Path(hotline.__file__).parent
    found = [
        str(path.relative_to(root))
        for path in sorted(root.rglob("*.py"))
        if "(>=|==|>)" in path.read_text(encoding="utf-8")
        or 'operator == ">"' in path.read_text(encoding="utf-8")
        or '">=": level >=' in path.read_text(encoding="utf-8")
    ]
    assert found == ["core/requirements.py"]
