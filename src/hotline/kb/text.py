"""Search text for Chinese and English: the same terms in the index and in the query.

Full-text engines split words on spaces, which Chinese does not have: SQLite's ``unicode61``
tokenizer would make a whole sentence one token, and PostgreSQL's ``simple`` parser does the
same. So Hotline segments text itself before it reaches either engine:

- Chinese runs become overlapping **character bigrams** (热水器 → 热水 水器), the standard
  n-gram approach to CJK retrieval (Kwok 1997; Lucene's CJKAnalyzer does the same). Bigrams
  need no dictionary, never miss a new product name the way a word segmenter (jieba) can, and
  give recall close to word segmentation with good ranking under BM25. A run of a single
  character is kept as a unigram.
- Traditional characters are folded to simplified (OpenCC ``t2s``) and full-width forms to
  half-width (NFKC), so 熱水器 finds 热水器 and ＷＩＦＩ finds wifi.
- Latin words and numbers are lower-cased; a model number gives its parts and the whole
  (``JSQ25-13`` → ``jsq25 13 jsq2513``), so the exact model is a rare, telling term.

The resulting space-separated terms are stored in ``kb_search`` and indexed by SQLite FTS5
(``unicode61`` tokenizer then just splits on the spaces) or PostgreSQL ``to_tsvector('simple')``.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

_TOKEN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+|[0-9a-z]+(?:[-./][0-9a-z]+)*")
_JOINERS = re.compile(r"[-./]")
# Digits glued to a following word, as in "JSQ33-1WiFi连接": the word is its own term.
_GLUED_WORD = re.compile(r"^(\d+)([a-z]{3,})$")


@lru_cache(maxsize=1)
def _to_simplified() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def simplified(text: str) -> str:
    """``text`` with traditional characters folded to simplified (OpenCC ``t2s``).

    >>> simplified("熱水器")
    '热水器'
    """
    return str(_to_simplified().convert(text))


def terms(text: str) -> list[str]:
    """Segment ``text`` into search terms (Chinese bigrams, lower-case words).

    >>> terms("熱水器 E4 故障, how to reset WiFi")
    ['热水', '水器', 'e4', '故障', 'how', 'to', 'reset', 'wifi']
    >>> terms("水")
    ['水']
    """
    text = simplified(unicodedata.normalize("NFKC", text)).lower()
    out: list[str] = []
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token[0].isascii():
            parts = _JOINERS.split(token)
            glued = _GLUED_WORD.match(parts[-1])
            if glued:
                parts[-1] = glued.group(1)
            out.extend(parts)
            if len(parts) > 1:
                out.append("".join(parts))  # the whole model number, a rare and telling term
            if glued:
                out.append(glued.group(2))
        elif len(token) == 1:
            out.append(token)
        else:
            out.extend(token[i : i + 2] for i in range(len(token) - 1))
    return out


def segment(text: str) -> str:
    """The space-joined terms of ``text``, as stored in the search table.

    >>> segment("空调不制冷")
    '空调 调不 不制 制冷'
    """
    return " ".join(terms(text))


def query_terms(text: str) -> list[str]:
    """Distinct terms of a query, in order (a repeated term adds nothing to a match).

    >>> query_terms("洗衣机 洗衣")
    ['洗衣', '衣机']
    """
    seen: dict[str, None] = {}
    for term in terms(text):
        seen.setdefault(term, None)
    return list(seen)


#: The longest normalised query kept by the gap report (longer ones are cut).
QUERY_LENGTH = 200


def normalised_query(text: str) -> str:
    """A search as the gap report counts it: full-width folded (NFKC), traditional folded to
    simplified, lower-cased, punctuation dropped, Chinese runs joined and other words
    separated by one space, so 熱水器 E4？, "热水器  e4" and 热水器e4 are one question.

    >>> normalised_query("  熱水器ＥＡ４ 故障？ 冰箱 ")
    '热水器 ea4 故障冰箱'
    >>> normalised_query("？！")
    ''
    """
    folded = simplified(unicodedata.normalize("NFKC", text)).lower()
    joined = ""
    for token in _TOKEN.findall(folded):
        # Chinese is written without spaces: 冰箱 结冰 and 冰箱结冰 are one question.
        glued = joined and not joined[-1].isascii() and not token[0].isascii()
        joined += token if glued or not joined else " " + token
    return joined[:QUERY_LENGTH].strip()
