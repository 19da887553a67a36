"""What a knowledge page shows around an article's text: where a query matched, and what
changed between two versions.

An agent scanning search results reads the highlighted words first, so the marks must agree
with how search matched: a query's terms come from :func:`hotline.kb.text.query_terms`
(Chinese bigrams, lower-case words, traditional folded to simplified), and a stretch of the
article is marked where one of those terms occurs in the article's own text folded the same
way. Folding is done character by character, so the marks are offsets into the text as the
author wrote it (熱水器 is marked where the query said 热水器).

Reviewers compare versions line by line (:func:`compare`), the way they read an article:
a changed step is a removed line and an added line.
"""

from __future__ import annotations

import difflib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from hotline.kb.text import query_terms, simplified

SNIPPET_LENGTH = 120


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    folded = simplified(unicodedata.normalize("NFKC", char)).lower()
    # Keep offsets aligned: a character that folds to several (ﬁ → fi) stays as it is.
    return folded if len(folded) == 1 else char.lower()


def _fold(text: str) -> str:
    return "".join(_fold_char(c) for c in text)


def _is_latin(char: str) -> bool:
    return char.isascii() and char.isalnum()


def matches(text: str, query: str) -> list[tuple[int, int]]:
    """The ``[start, end)`` stretches of ``text`` where the query's search terms occur, merged.

    >>> matches("熱水器显示E4故障", "热水器 e4")
    [(0, 3), (5, 7)]
    >>> matches("Reset the WiFi", "wifi reset")
    [(0, 5), (10, 14)]
    """
    folded = _fold(text)
    found: list[tuple[int, int]] = []
    for term in query_terms(query):
        start = folded.find(term)
        while start != -1:
            # A Latin term counts only as a whole word, as the search engines match it.
            end = start + len(term)
            whole = not term.isascii() or (
                (start == 0 or not _is_latin(folded[start - 1]))
                and (end == len(folded) or not _is_latin(folded[end]))
            )
            if whole:
                found.append((start, end))
            start = folded.find(term, start + 1)
    found.sort()
    merged: list[tuple[int, int]] = []
    for start, end in found:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


@dataclass(frozen=True)
class Snippet:
    """A stretch of an article's body around its first match, with the matches in it."""

    text: str
    marks: list[tuple[int, int]]
    cut_before: bool
    cut_after: bool


def snippet(body: str, query: str, *, length: int = SNIPPET_LENGTH) -> Snippet:
    """The part of ``body`` to show under a search result: from a little before the first match.

    >>> snippet("第一步关闭电源。第二步检查滤网是否堵塞。", "滤网", length=8)
    Snippet(text='检查滤网是否堵塞', marks=[(2, 4)], cut_before=True, cut_after=True)
    """
    found = matches(body, query)
    start = max(0, found[0][0] - length // 4) if found else 0
    end = min(len(body), start + length)
    # Keep whole lines' starts readable: begin after a line break inside the lead-in.
    line_break = body.rfind("\n", start, found[0][0]) if found else -1
    if line_break != -1:
        start = line_break + 1
        end = min(len(body), start + length)
    marks = [
        (max(s, start) - start, min(e, end) - start) for s, e in found if s < end and e > start
    ]
    return Snippet(body[start:end], marks, start > 0, end < len(body))


@dataclass(frozen=True)
class Line:
    """One line of a comparison: kept, added in the newer version, or removed from the older."""

    change: str  # "same", "added" or "removed"
    text: str


def compare(older: str, newer: str) -> list[Line]:
    """Line-by-line changes from ``older`` to ``newer``, in reading order.

    >>> [(x.change, x.text) for x in compare("关闭电源\\n检查滤网", "关闭电源\\n检查冷媒")]
    [('same', '关闭电源'), ('removed', '检查滤网'), ('added', '检查冷媒')]
    """
    old_lines, new_lines = older.splitlines(), newer.splitlines()
    out: list[Line] = []
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out.extend(Line("same", line) for line in old_lines[i1:i2])
            continue
        out.extend(Line("removed", line) for line in old_lines[i1:i2])
        out.extend(Line("added", line) for line in new_lines[j1:j2])
    return out
