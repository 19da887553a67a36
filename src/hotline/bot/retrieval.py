"""Finding the knowledge article that answers a customer's question, and how sure we are.

The bot answers only from the published knowledge articles, by retrieval: no model writes
text, so every answer is one an author wrote and a reviewer approved (the same answer on
every channel). Articles and questions arrive here already cut into search terms — Chinese
character bigrams and lower-case words, by the knowledge base's one segmentation
(``hotline.kb.text``, through ``kb.service.search_terms``) — so this module is pure.

**Ranking** is Okapi BM25 (Robertson & Zaragoza, "The Probabilistic Relevance Framework:
BM25 and Beyond", 2009) with ``k1 = 1.2``, ``b = 0.75``; an article's title counts twice,
since a title states the question the article answers.

**Confidence** is what BM25 cannot give (its scores have no scale): the share of the
question's *telling* weight that the best article holds — the IDF of the question's terms
found in the article ÷ the IDF of all its terms. Fillers ("请问", "怎么办", "how", "my") weigh
nothing; a term no article holds weighs as much as the rarest known term when it is a word
(an English word the knowledge base lacks is a topic it lacks), and a fraction of it when it
is a Chinese bigram (a bigram across two words, such as 器显 in 热水器显示, often exists
nowhere and says little). The bot answers only above its configured threshold.

>>> index = Index.build([
...     Document(1, ["热水", "水器", "e4"], ["热水", "水器", "显示", "e4", "故障", "关闭", "燃气"]),
...     Document(2, ["空调", "制冷"], ["空调", "不制", "制冷", "滤网", "清洗"]),
... ])
>>> best = index.best(["请问", "热水", "水器", "e4", "怎么", "么办"])
>>> best.article_id, round(best.confidence, 2)
(1, 1.0)
>>> index.best(["股票", "代码"]) is None
True
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

K1 = 1.2
B = 0.75
TITLE_WEIGHT = 2
#: How much a Chinese bigram no article holds weighs, as a share of the rarest known term.
UNKNOWN_BIGRAM_SHARE = 0.35

#: Words of asking, not of the topic: zh-CN bigrams (and the lone characters a short run
#: leaves), then English words.
_ZH_FILLERS = (
    "请问 你好 您好 怎么 么办 怎样 如何 什么 为什 么是 可以 一下 我的 我家 我们 你们 "
    "是不 不是 能不 不能 应该 需要 时候 么时 有没 没有 一直 这个 那个 问一 问下 想问 "
    "帮我 麻烦 谢谢 了怎 么回 回事 该怎 吗 呢 了 的 啊 吧"
)
_EN_FILLERS = (
    "a an the i me my we our you your it its is are was be been do does did can could "
    "would should how what why when where which who to of for in on at with and or not "
    "this that there please hi hello help have has get keeps keep any about from so if "
    "up out after"
)
FILLERS = frozenset(_ZH_FILLERS.split()) | frozenset(_EN_FILLERS.split())


@dataclass(frozen=True, slots=True)
class Document:
    """A published article as retrieval sees it: its id and the terms of title and body."""

    article_id: int
    title_terms: Sequence[str]
    body_terms: Sequence[str]


@dataclass(frozen=True, slots=True)
class Candidate:
    """The best article for a question: its BM25 score and the bot's confidence (0–1)."""

    article_id: int
    score: float
    confidence: float


class Index:
    """BM25 over a fixed set of articles (rebuilt when the published set changes)."""

    def __init__(
        self,
        postings: dict[str, dict[int, int]],
        lengths: dict[int, int],
    ) -> None:
        self.postings = postings
        self.lengths = lengths
        self.documents = len(lengths)
        self.average_length = sum(lengths.values()) / self.documents if self.documents else 0.0
        self.idf = {
            term: math.log(1.0 + (self.documents - len(hits) + 0.5) / (len(hits) + 0.5))
            for term, hits in postings.items()
        }
        self.rarest = max(self.idf.values(), default=1.0)

    @classmethod
    def build(cls, documents: Sequence[Document]) -> Index:
        """Index ``documents`` (title terms counted :data:`TITLE_WEIGHT` times)."""
        postings: dict[str, dict[int, int]] = {}
        lengths: dict[int, int] = {}
        for document in documents:
            counts = Counter(document.body_terms)
            for term in document.title_terms:
                counts[term] += TITLE_WEIGHT
            lengths[document.article_id] = sum(counts.values())
            for term, count in counts.items():
                postings.setdefault(term, {})[document.article_id] = count
        return cls(postings, lengths)

    def weight(self, term: str) -> float:
        """How telling ``term`` is in a question (see the module docstring)."""
        if term in FILLERS:
            return 0.0
        known = self.idf.get(term)
        if known is not None:
            return known
        is_bigram = not term.isascii()
        return self.rarest * (UNKNOWN_BIGRAM_SHARE if is_bigram else 1.0)

    def ranked(self, terms: Sequence[str], *, limit: int = 5) -> list[tuple[int, float]]:
        """Articles holding any telling term of the question, by BM25 score, best first."""
        scores: dict[int, float] = {}
        for term in dict.fromkeys(terms):
            hits = self.postings.get(term)
            if not hits or term in FILLERS:
                continue
            idf = self.idf[term]
            for article_id, count in hits.items():
                norm = K1 * (1 - B + B * self.lengths[article_id] / self.average_length)
                scores[article_id] = scores.get(article_id, 0.0) + idf * count * (K1 + 1) / (
                    count + norm
                )
        return sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:limit]

    def confidence(self, terms: Sequence[str], article_id: int) -> float:
        """The share of the question's telling weight that ``article_id`` holds (0–1)."""
        distinct = list(dict.fromkeys(terms))
        total = sum(self.weight(term) for term in distinct)
        if total <= 0:
            return 0.0
        held = sum(
            self.weight(term) for term in distinct if article_id in self.postings.get(term, {})
        )
        return held / total

    def best(self, terms: Sequence[str]) -> Candidate | None:
        """The best article for the question's ``terms``, or ``None`` when none shares one."""
        ranked = self.ranked(terms, limit=1)
        if not ranked:
            return None
        article_id, score = ranked[0]
        return Candidate(article_id, score, self.confidence(terms, article_id))
