"""Interface text in zh-CN (first) and en; every page looks its words up here."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"


@cache
def catalog(language: str) -> dict[str, str]:
    """The translations for ``language`` (``zh-CN`` or ``en``)."""
    if language not in LANGUAGES:
        language = DEFAULT_LANGUAGE
    path = Path(__file__).parent / f"{language}.json"
    data: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return data


def translate(language: str, key: str) -> str:
    """Return the text for ``key`` in ``language``; a missing key shows itself, loudly."""
    return catalog(language).get(key, f"⟦{key}⟧")


def pick_language(requested: str | None, accept_language: str | None) -> str:
    """Choose the page language: explicit choice, else the browser's, else zh-CN."""
    if requested in LANGUAGES:
        return str(requested)
    if accept_language and accept_language.lower().startswith("en"):
        return "en"
    return DEFAULT_LANGUAGE
