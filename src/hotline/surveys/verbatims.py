"""DSAT root causes: what dissatisfied customers wrote, grouped by the words they used.

The free-text answers of dissatisfied responses (overall CSAT 1 or 2) are cut into words
with ``jieba`` (Chinese word segmentation; English words pass through, lower-cased), common
function words and one-character tokens are left out, and each comment becomes a TF-IDF
vector (smooth idf, ``ln((1 + n) / (1 + df)) + 1``, rows L2-normalised, as scikit-learn's
``TfidfVectorizer`` defaults). The vectors are grouped by k-means (``scipy.cluster.vq.kmeans2``,
k-means++ seeding, the best of ten starts, fixed seeds so a report repeats), k = ⌈√n⌉
capped at ``max_groups``.
Each group is named by its heaviest keywords and shown with the comment nearest its centre,
so a product unit reads "上门 · 迟到 · 师傅 — 8 comments — 师傅迟到了两个小时".

Not pure: jieba reads its dictionary from its package (and caches it in the temp directory)
the first time it cuts.

>>> groups = root_causes(["师傅迟到两个小时", "师傅上门迟到", "热水器不加热", "热水器还是不加热"])
>>> [(g.keywords[:2], g.size) for g in groups]
[(('加热', '热水器'), 2), (('师傅', '迟到'), 2)]
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.cluster.vq import kmeans2

#: Words that carry no cause (particles, pronouns, filler); one-character tokens go too.
STOPWORDS = frozenset(
    "我们 你们 他们 还是 就是 但是 因为 所以 然后 这个 那个 什么 怎么 没有 已经 一个 一下 "  # noqa: SIM905
    "可以 非常 真的 觉得 the and was but for not with you are this that have very".split()
)
_WORD = re.compile(r"[\w\u4e00-\u9fff]{2,}")


@dataclass(frozen=True)
class RootCause:
    """A group of dissatisfied comments: its keywords, size and the most typical comment."""

    keywords: tuple[str, ...]
    size: int
    example: str


def words(text: str) -> list[str]:
    """The content words of ``text``, in order (jieba for Chinese; English lower-cased).

    >>> words("师傅迟到了两个小时, the engineer was LATE")
    ['师傅', '迟到', '两个', '小时', 'engineer', 'late']
    """
    import jieba

    jieba.setLogLevel(logging.WARNING)  # it announces building its dictionary on stderr
    found = []
    for cut in jieba.lcut(text):
        token = cut.strip().lower()
        if _WORD.fullmatch(token) and token not in STOPWORDS and not token.isdigit():
            found.append(token)
    return found


def root_causes(
    comments: Sequence[str], *, max_groups: int = 6, keywords: int = 3, seed: int = 15
) -> list[RootCause]:
    """Group ``comments`` by the words they share; the largest groups first."""
    documents = [words(c) for c in comments]
    kept = [(c, d) for c, d in zip(comments, documents, strict=True) if d]
    if not kept:
        return []
    vocabulary = sorted({w for _, d in kept for w in d})
    index = {w: i for i, w in enumerate(vocabulary)}
    counts = np.zeros((len(kept), len(vocabulary)))
    for row, (_, document) in enumerate(kept):
        for word, count in Counter(document).items():
            counts[row, index[word]] = count
    n = len(kept)
    document_frequency = (counts > 0).sum(axis=0)
    idf = np.log((1 + n) / (1 + document_frequency)) + 1
    tfidf = counts * idf
    tfidf /= np.linalg.norm(tfidf, axis=1, keepdims=True)
    k = min(max_groups, math.ceil(math.sqrt(n)))
    labels = np.zeros(n, dtype=int)
    centres = tfidf.mean(axis=0, keepdims=True)
    if k > 1:
        # k-means on short texts depends on its start: keep the best of ten seeded starts
        # (the least within-group sum of squares), as scikit-learn's n_init does.
        best = math.inf
        for attempt in range(10):
            found, assigned = kmeans2(tfidf, k, minit="++", seed=seed + attempt)
            spread = float(((tfidf - found[assigned]) ** 2).sum())
            if spread < best - 1e-12:
                best, centres, labels = spread, found, assigned
    groups = []
    for label in range(len(centres)):
        members = np.flatnonzero(labels == label)
        if members.size == 0:
            continue
        centre = tfidf[members].mean(axis=0)
        order = sorted(range(len(vocabulary)), key=lambda i: (-centre[i], vocabulary[i]))
        top = tuple(vocabulary[i] for i in order[:keywords] if centre[i] > 0)
        nearest = members[int(np.argmax(tfidf[members] @ centre))]
        groups.append(RootCause(top, int(members.size), kept[nearest][0]))
    return sorted(groups, key=lambda g: (-g.size, g.keywords))
