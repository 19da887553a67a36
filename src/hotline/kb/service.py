"""The knowledge base on a database session: articles, review workflow, search, feedback.

Workflow: an author writes a **draft**; it goes to **review**; a reviewer (not the author:
four eyes) publishes it or sends it back. Editing a published article creates a new version
as a draft while the published version stays live; publishing the new version replaces it.
A **retired** article leaves search. Only published articles inside their validity dates
are found, so every channel gives the same answer.

Search uses the segmented terms of :mod:`hotline.kb.text`:

- SQLite: an FTS5 table ``kb_search_fts`` ranked by BM25 (title weighted ×3). It is a
  derived index, rebuilt from ``kb_search`` by :func:`ensure_search_index` when missing, so
  the Alembic-owned schema holds only ordinary tables.
- PostgreSQL: ``kb_search.vector``, a weighted ``tsvector`` (title A, body B) with a GIN
  index, ranked by ``ts_rank_cd``.

``kb_terms`` keeps each term's document frequency. A query drops the terms no article holds
(the caller's extra words: 我家的, 请问), asks for articles holding every remaining term, and
if that finds fewer than wanted, asks again for articles holding any of the rarest remaining
terms (a question phrased differently from the article), leaving very common terms out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, text
from sqlalchemy.orm import Session

from hotline.core.errors import Conflict, NotFound, Problem, ValidationFailed
from hotline.core.files import check_file
from hotline.identity.audit import record as audit
from hotline.kb.text import QUERY_LENGTH, normalised_query, query_terms, segment, terms
from hotline.store.db import utcnow
from hotline.store.models.kb import (
    KbArticle,
    KbAttachment,
    KbCategory,
    KbFeedback,
    KbImage,
    KbSearch,
    KbSearchDocument,
    KbSearchMiss,
    KbTerm,
    KbVersion,
)

TITLE_WEIGHT = 3.0
# In the any-term query, terms held by more than this share of articles are left out (they
# barely change the ranking and their long posting lists dominate the time), as are all but
# the rarest ``MAX_ANY_TERMS`` terms (the rarest one is always kept)...
COMMON_SHARE = 0.05
# Terms held by more than this share of articles are left out of the every-term query too.
STOP_SHARE = 0.2
MAX_ANY_TERMS = 8
# ...and terms are added rarest first only while the articles they could match stay under
# this many, which bounds the ranking work on both engines.
MAX_ANY_DOCUMENTS = 2_000
TERM_LENGTH = 64
DOCUMENTS = ""  # the kb_terms row counting indexed articles


class ArticleState(StrEnum):
    """Where an article's newest version stands in the review workflow."""

    DRAFT = "draft"
    REVIEW = "review"
    PUBLISHED = "published"
    RETIRED = "retired"


# ---------------------------------------------------------------- articles and workflow


def category(session: Session, *, name: str, parent: str | None = None) -> KbCategory:
    """Return the category ``name``, creating it (under ``parent``) if it does not exist."""
    found = session.scalars(select(KbCategory).where(KbCategory.name == name)).first()
    if found is not None:
        return found
    parent_id = category(session, name=parent).id if parent else None
    created = KbCategory(name=name, parent_id=parent_id)
    session.add(created)
    session.flush()
    return created


def create_article(
    session: Session,
    *,
    title: str,
    body: str,
    author: str,
    category_name: str | None = None,
    tags: Sequence[str] = (),
    language: str = "zh-CN",
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
) -> KbArticle:
    """Write a new article as a draft (version 1).

    Example: ``create_article(session, title="热水器E4故障", body="...", author="kb_editor")``.
    """
    if not title.strip():
        raise Conflict("an article needs a title")
    if valid_from and valid_until and valid_until <= valid_from:
        raise Conflict("valid_until must come after valid_from")
    article = KbArticle(
        category_id=category(session, name=category_name).id if category_name else None,
        state=ArticleState.DRAFT.value,
        language=language,
        tags=[t.strip() for t in tags if t.strip()],
        current_version=1,
        valid_from=valid_from,
        valid_until=valid_until,
        author=author,
        views=0,
        uses=0,
        helpful_yes=0,
        helpful_no=0,
    )
    session.add(article)
    session.flush()
    session.add(
        KbVersion(article_id=article.id, version=1, title=title, body=body, author=author, note="")
    )
    audit(session, actor=author, action="kb.create", target=f"article:{article.id}")
    session.flush()
    return article


def get_article(session: Session, *, article_id: int) -> KbArticle:
    """Return an article or raise :class:`NotFound`."""
    article = session.get(KbArticle, article_id)
    if article is None:
        raise NotFound(f"article {article_id} does not exist")
    return article


def version(session: Session, *, article_id: int, number: int | None = None) -> KbVersion:
    """One version of an article (default: the published one, else the newest)."""
    article = get_article(session, article_id=article_id)
    wanted = number or article.published_version or article.current_version
    found = session.scalars(
        select(KbVersion).where(KbVersion.article_id == article_id, KbVersion.version == wanted)
    ).first()
    if found is None:
        raise NotFound(f"article {article_id} has no version {wanted}")
    return found


def versions(session: Session, *, article_id: int) -> list[KbVersion]:
    """All versions of an article, oldest first."""
    return list(
        session.scalars(
            select(KbVersion).where(KbVersion.article_id == article_id).order_by(KbVersion.version)
        )
    )


def categories(session: Session) -> list[str]:
    """The names of all categories, alphabetically (the filters and the editor offer them)."""
    return list(session.scalars(select(KbCategory.name).order_by(KbCategory.name)))


def category_name(session: Session, *, article: KbArticle) -> str | None:
    """The name of an article's category, if it has one."""
    if article.category_id is None:
        return None
    found = session.get(KbCategory, article.category_id)
    return found.name if found is not None else None


@dataclass(frozen=True)
class ArticleSummary:
    """One line of the authors' list: an article, its state, its newest title and its usage
    (views, uses on tickets, "was this helpful" answers)."""

    article_id: int
    title: str
    state: str
    category: str | None
    author: str
    current_version: int
    published_version: int | None
    updated_at: datetime
    views: int
    uses: int
    helpful_yes: int
    helpful_no: int


def list_articles(
    session: Session, *, state: ArticleState | None = None, limit: int = 200
) -> list[ArticleSummary]:
    """Articles for the authors and reviewers, most recently changed first.

    Example: ``list_articles(session, state=ArticleState.REVIEW)`` is the review queue.
    """
    query = (
        select(KbArticle, KbVersion.title, KbCategory.name)
        .join(
            KbVersion,
            (KbVersion.article_id == KbArticle.id)
            & (KbVersion.version == KbArticle.current_version),
        )
        .outerjoin(KbCategory, KbCategory.id == KbArticle.category_id)
        .order_by(KbArticle.updated_at.desc(), KbArticle.id.desc())
        .limit(limit)
    )
    if state is not None:
        query = query.where(KbArticle.state == state.value)
    return [
        ArticleSummary(
            article_id=article.id,
            title=title,
            state=article.state,
            category=name,
            author=article.author,
            current_version=article.current_version,
            published_version=article.published_version,
            updated_at=article.updated_at,
            views=article.views,
            uses=article.uses,
            helpful_yes=article.helpful_yes,
            helpful_no=article.helpful_no,
        )
        for article, title, name in session.execute(query)
    ]


def edit_article(
    session: Session,
    *,
    article_id: int,
    author: str,
    title: str | None = None,
    body: str | None = None,
    tags: Sequence[str] | None = None,
    note: str = "",
) -> KbVersion:
    """Write a new version; it is a draft until reviewed (a published version stays live)."""
    article = get_article(session, article_id=article_id)
    if article.state == ArticleState.RETIRED:
        raise Conflict("a retired article cannot be edited")
    if article.state == ArticleState.REVIEW:
        raise Conflict("the article is in review: approve or reject it first")
    latest = version(session, article_id=article_id, number=article.current_version)
    # Every edit is a new version (versions are never changed), published or not.
    number = article.current_version + 1
    new = KbVersion(
        article_id=article.id,
        version=number,
        title=title if title is not None else latest.title,
        body=body if body is not None else latest.body,
        author=author,
        note=note,
    )
    session.add(new)
    article.current_version = number
    article.state = ArticleState.DRAFT.value
    if tags is not None:
        article.tags = [t.strip() for t in tags if t.strip()]
    article.updated_at = utcnow()
    audit(
        session,
        actor=author,
        action="kb.edit",
        target=f"article:{article.id}",
        detail={"version": number},
    )
    session.flush()
    return new


def submit_for_review(session: Session, *, article_id: int, actor: str) -> KbArticle:
    """Send the newest draft to review."""
    article = get_article(session, article_id=article_id)
    if article.state != ArticleState.DRAFT:
        raise Conflict(f"only a draft goes to review (the article is {article.state})")
    article.state = ArticleState.REVIEW.value
    audit(session, actor=actor, action="kb.submit", target=f"article:{article.id}")
    session.flush()
    return article


def review(
    session: Session, *, article_id: int, reviewer: str, approve: bool, note: str = ""
) -> KbArticle:
    """Publish the version in review, or send it back to draft. The author may not review."""
    article = get_article(session, article_id=article_id)
    if article.state != ArticleState.REVIEW:
        raise Conflict(f"the article is not in review (it is {article.state})")
    pending = version(session, article_id=article_id, number=article.current_version)
    if reviewer in (pending.author, article.author):
        raise Conflict("an author cannot review their own article")
    article.reviewer = reviewer
    if approve:
        article.state = ArticleState.PUBLISHED.value
        article.published_version = article.current_version
        index_article(session, article=article, current=pending)
    else:
        article.state = ArticleState.DRAFT.value
    article.updated_at = utcnow()
    audit(
        session,
        actor=reviewer,
        action="kb.publish" if approve else "kb.reject",
        target=f"article:{article.id}",
        detail={"version": article.current_version, "note": note},
    )
    session.flush()
    return article


def retire(session: Session, *, article_id: int, actor: str) -> KbArticle:
    """Take an article out of service and out of search."""
    article = get_article(session, article_id=article_id)
    article.state = ArticleState.RETIRED.value
    article.published_version = None
    document = session.get(KbSearchDocument, article.id)
    if document is not None:
        _count_terms(session, removed=_term_set(document), added=set())
        session.delete(document)
    if _is_sqlite(session):
        ensure_search_index(session)
        session.execute(text("DELETE FROM kb_search_fts WHERE rowid = :id"), {"id": article.id})
    audit(session, actor=actor, action="kb.retire", target=f"article:{article.id}")
    session.flush()
    return article


def add_attachment(
    session: Session,
    *,
    article_id: int,
    filename: str,
    media_type: str,
    size_bytes: int,
    sha256: str,
    uri: str,
    actor: str,
) -> KbAttachment:
    """Record an attachment's metadata (the file itself lives in object storage at ``uri``)."""
    get_article(session, article_id=article_id)
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256.lower()):
        raise Conflict("sha256 must be 64 hexadecimal characters")
    attachment = KbAttachment(
        article_id=article_id,
        filename=filename,
        media_type=media_type,
        size_bytes=size_bytes,
        sha256=sha256.lower(),
        uri=uri,
    )
    session.add(attachment)
    audit(
        session,
        actor=actor,
        action="kb.attach",
        target=f"article:{article_id}",
        detail={"file": filename},
    )
    session.flush()
    return attachment


def attachments(session: Session, *, article_id: int) -> list[KbAttachment]:
    """Attachments of an article."""
    return list(session.scalars(select(KbAttachment).where(KbAttachment.article_id == article_id)))


#: What an article may show: photographs and screenshots, at most 5 MB each.
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif")
IMAGE_MAX_BYTES = 5 * 1024 * 1024


def upload_image(
    session: Session, *, filename: str, media_type: str, data: bytes, actor: str
) -> KbImage:
    """Keep an image for articles, after :func:`hotline.core.files.check_file` (a PNG, JPEG
    or GIF whose content is what it claims, under the size limit); audited (``kb.image``).

    Example: ``upload_image(session, filename="面板.png", media_type="image/png", data=png,
    actor="kb_editor")``; the article then shows it as ``![面板](/api/kb/images/{id})``.
    """
    problem = check_file(
        name=filename,
        content_type=media_type,
        data=data,
        allowed_types=IMAGE_TYPES,
        max_bytes=IMAGE_MAX_BYTES,
    )
    if problem is not None:
        raise ValidationFailed([Problem(rule=problem, field="file")])
    image = KbImage(
        filename=filename,
        media_type=media_type,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
        uploaded_by=actor,
    )
    session.add(image)
    session.flush()
    audit(
        session,
        actor=actor,
        action="kb.image",
        target=f"kb_image:{image.id}",
        detail={"file": filename, "bytes": len(data)},
    )
    return image


def image(session: Session, *, image_id: int) -> KbImage:
    """An uploaded image with its bytes, or :class:`NotFound`."""
    found = session.get(KbImage, image_id)
    if found is None:
        raise NotFound(f"image {image_id} does not exist")
    return found


# ---------------------------------------------------------------- usage and feedback


def read(
    session: Session, *, article_id: int, now: datetime | None = None, reader: str | None = None
) -> KbVersion:
    """Open the published version for reading (counts a view); refuses unpublished/expired.

    When ``reader`` (a username) searched in the last :data:`OPEN_WINDOW` and this article
    was among the results, that search counts as opened (:func:`record_search`).
    """
    now = now or utcnow()
    article = get_article(session, article_id=article_id)
    if article.published_version is None or not _valid(article, now):
        raise NotFound(f"article {article_id} is not published or not valid now")
    article.views += 1
    if reader is not None:
        _mark_opened(session, username=reader, article_id=article_id, now=now)
    return version(session, article_id=article_id, number=article.published_version)


def record_use(session: Session, *, article_id: int) -> int:
    """Count that an agent used the article on a ticket; returns the published version used."""
    article = get_article(session, article_id=article_id)
    if article.published_version is None:
        raise Conflict(f"article {article_id} is not published")
    article.uses += 1
    return article.published_version


def feedback(
    session: Session, *, article_id: int, helpful: bool, actor: str, comment: str = ""
) -> KbFeedback:
    """Record a "was this helpful?" answer."""
    article = get_article(session, article_id=article_id)
    if helpful:
        article.helpful_yes += 1
    else:
        article.helpful_no += 1
    answer = KbFeedback(article_id=article_id, helpful=helpful, actor=actor, comment=comment)
    session.add(answer)
    session.flush()
    return answer


def _valid(article: KbArticle, now: datetime) -> bool:
    if article.valid_from is not None and now < article.valid_from:
        return False
    return article.valid_until is None or now < article.valid_until


# ---------------------------------------------------------------- search


def _is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def ensure_search_index(session: Session) -> None:
    """Create SQLite's FTS5 table if missing, filled from ``kb_search`` (no-op elsewhere)."""
    if not _is_sqlite(session):
        return
    exists = session.execute(
        text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'kb_search_fts'")
    ).first()
    if exists:
        return
    # unicode61 splits on the spaces that kb.text put between terms; no stemming is wanted.
    session.execute(
        text(
            "CREATE VIRTUAL TABLE kb_search_fts USING fts5("
            "title_terms, body_terms, tokenize = 'unicode61 remove_diacritics 0')"
        )
    )
    session.execute(
        text(
            "INSERT INTO kb_search_fts (rowid, title_terms, body_terms) "
            "SELECT article_id, title_terms, body_terms FROM kb_search"
        )
    )


def index_article(session: Session, *, article: KbArticle, current: KbVersion) -> None:
    """Put the published version's segmented text (title, tags, body) into the search index."""
    title_terms = segment(current.title + " " + " ".join(article.tags))
    body_terms = segment(current.body)
    document = session.get(KbSearchDocument, article.id)
    old_terms: set[str] | None = None
    if document is None:
        document = KbSearchDocument(article_id=article.id, title_terms="", body_terms="")
        session.add(document)
    else:
        old_terms = _term_set(document)
    document.title_terms = title_terms
    document.body_terms = body_terms
    _count_terms(
        session, removed=old_terms or set(), added=_term_set(document), new=old_terms is None
    )
    session.flush()
    if _is_sqlite(session):
        ensure_search_index(session)
        session.execute(text("DELETE FROM kb_search_fts WHERE rowid = :id"), {"id": article.id})
        session.execute(
            text(
                "INSERT INTO kb_search_fts (rowid, title_terms, body_terms) "
                "VALUES (:id, :title, :body)"
            ),
            {"id": article.id, "title": title_terms, "body": body_terms},
        )
    else:
        session.execute(
            text(
                "UPDATE kb_search SET vector = "
                "setweight(to_tsvector('simple', title_terms), 'A') || "
                "setweight(to_tsvector('simple', body_terms), 'B') WHERE article_id = :id"
            ),
            {"id": article.id},
        )


def _term_set(document: KbSearchDocument) -> set[str]:
    return {
        term[:TERM_LENGTH] for term in (document.title_terms + " " + document.body_terms).split()
    }


def _count_terms(
    session: Session, *, removed: set[str], added: set[str], new: bool = False
) -> None:
    """Keep ``kb_terms`` document frequencies in step with one article's terms."""
    changes = dict.fromkeys(removed - added, -1) | dict.fromkeys(added - removed, 1)
    if new or (removed and not added):
        changes[DOCUMENTS] = 1 if new else -1
    names = list(changes)
    for start in range(0, len(names), 500):
        chunk = names[start : start + 500]
        rows = {
            row.term: row for row in session.scalars(select(KbTerm).where(KbTerm.term.in_(chunk)))
        }
        for term in chunk:
            row = rows.get(term)
            if row is None:
                session.add(KbTerm(term=term, documents=max(0, changes[term])))
            else:
                row.documents = max(0, row.documents + changes[term])


def document_frequencies(session: Session, words: Sequence[str]) -> dict[str, int]:
    """Articles holding each of ``words`` (0 when none), and ``""`` → articles indexed."""
    keys = list({w[:TERM_LENGTH] for w in words} | {DOCUMENTS})
    found = dict(
        session.execute(select(KbTerm.term, KbTerm.documents).where(KbTerm.term.in_(keys))).all()
    )
    return {key: int(found.get(key, 0)) for key in keys}


@dataclass(frozen=True)
class SearchHit:
    """One search result."""

    article_id: int
    title: str
    score: float
    version: int


def search(
    session: Session,
    *,
    query: str,
    limit: int = 5,
    now: datetime | None = None,
    category_name: str | None = None,
    tag: str | None = None,
) -> list[SearchHit]:
    """Find published, currently valid articles for a Chinese or English query, best first.

    Example: ``search(session, query="熱水器 E4")`` finds "热水器显示E4故障怎么办".
    ``category_name`` and ``tag`` keep only the articles filed under them (the tag is checked
    on the best-ranked candidates, ``4 × limit`` of them, so a rare tag under a common query
    can find fewer than exist: narrow the query too).
    """
    words = query_terms(query)
    if not words:
        return []
    now = now or utcnow()
    frequency = document_frequencies(session, words)
    # A lone Chinese character is matched as a prefix of bigrams: its frequency is unknown.
    known = [w for w in words if frequency[w[:TERM_LENGTH]] > 0 or _is_prefix_term(w)]
    if not known:
        return []
    documents = max(1, frequency[DOCUMENTS])
    # Terms in most articles (型号, 处理, a lone "1") filter little and cost the most.
    telling = [w for w in known if frequency[w[:TERM_LENGTH]] <= STOP_SHARE * documents] or sorted(
        known, key=lambda w: frequency[w[:TERM_LENGTH]]
    )[:1]
    ranked = _ranked(session, telling, limit * 4, match_all=True)
    if len(ranked) < limit and len(known) > 1:
        rarest = sorted(known, key=lambda w: frequency[w[:TERM_LENGTH]])
        selective: list[str] = []
        matched = 0
        for word in rarest[:MAX_ANY_TERMS]:
            count = frequency[word[:TERM_LENGTH]]
            if selective and (
                count > COMMON_SHARE * documents or matched + count > MAX_ANY_DOCUMENTS
            ):
                break
            selective.append(word)
            matched += count
        seen = {article_id for article_id, _ in ranked}
        ranked += [
            r for r in _ranked(session, selective, limit * 4, match_all=False) if r[0] not in seen
        ]
    if not ranked:
        return []
    scores = dict(ranked)
    query_articles = (
        select(KbArticle, KbVersion.title)
        .join(
            KbVersion,
            (KbVersion.article_id == KbArticle.id)
            & (KbVersion.version == KbArticle.published_version),
        )
        .where(
            KbArticle.id.in_(list(scores)),
            KbArticle.state != ArticleState.RETIRED,
            or_(KbArticle.valid_from.is_(None), KbArticle.valid_from <= now),
            or_(KbArticle.valid_until.is_(None), KbArticle.valid_until > now),
        )
    )
    if category_name:
        query_articles = query_articles.join(
            KbCategory, KbCategory.id == KbArticle.category_id
        ).where(KbCategory.name == category_name)
    order = {article_id: i for i, (article_id, _) in enumerate(ranked)}
    hits = [
        SearchHit(article.id, title, scores[article.id], article.published_version or 0)
        for article, title in session.execute(query_articles)
        if tag is None or tag in article.tags
    ]
    hits.sort(key=lambda hit: order[hit.article_id])
    return hits[:limit]


def related(
    session: Session, *, article_id: int, limit: int = 5, now: datetime | None = None
) -> list[SearchHit]:
    """Articles to read next: those search finds for this one's title, then the most viewed
    published articles of its category (a small knowledge base shares few telling words).

    Example: ``related(session, article_id=7)`` under "空调不制冷" lists "空调滤网清洗".
    """
    article = get_article(session, article_id=article_id)
    title = version(session, article_id=article_id).title
    now = now or utcnow()
    found = [
        hit
        for hit in search(session, query=title, limit=limit + 1, now=now)
        if hit.article_id != article_id
    ][:limit]
    if len(found) < limit and article.category_id is not None:
        seen = {hit.article_id for hit in found} | {article_id}
        same_category = (
            select(KbArticle, KbVersion.title)
            .join(
                KbVersion,
                (KbVersion.article_id == KbArticle.id)
                & (KbVersion.version == KbArticle.published_version),
            )
            .where(
                KbArticle.category_id == article.category_id,
                KbArticle.id.not_in(seen),
                KbArticle.state != ArticleState.RETIRED,
                or_(KbArticle.valid_from.is_(None), KbArticle.valid_from <= now),
                or_(KbArticle.valid_until.is_(None), KbArticle.valid_until > now),
            )
            .order_by(KbArticle.views.desc(), KbArticle.id)
            .limit(limit - len(found))
        )
        found += [
            SearchHit(other.id, other_title, 0.0, other.published_version or 0)
            for other, other_title in session.execute(same_category)
        ]
    return found


def published_bodies(session: Session, *, article_ids: Sequence[int]) -> dict[int, str]:
    """The published text of each of these articles, in one query (search results' snippets).

    Example: ``published_bodies(session, article_ids=[hit.article_id for hit in hits])``.
    """
    if not article_ids:
        return {}
    rows = session.execute(
        select(KbVersion.article_id, KbVersion.body)
        .join(
            KbArticle,
            (KbArticle.id == KbVersion.article_id)
            & (KbVersion.version == KbArticle.published_version),
        )
        .where(KbVersion.article_id.in_(list(article_ids)))
    )
    return {int(article_id): body for article_id, body in rows}


def search_terms(text: str) -> list[str]:
    """``text`` cut into the knowledge base's search terms (Chinese bigrams, lower-case words).

    The one segmentation every retrieval over the articles shares (the index, the search and
    the bot). Example: ``search_terms("熱水器 E4")`` → ``['热水', '水器', 'e4']``.
    """
    return terms(text)


@dataclass(frozen=True)
class PublishedArticle:
    """An article's published text, as answers quote it."""

    article_id: int
    title: str
    body: str
    language: str


def published_articles(session: Session, *, now: datetime | None = None) -> list[PublishedArticle]:
    """Every published, currently valid article with its published title and body, by id.

    The first-line bot answers only from these. Example:
    ``[a.title for a in published_articles(session)]``.
    """
    now = now or utcnow()
    rows = session.execute(
        select(KbArticle.id, KbVersion.title, KbVersion.body, KbArticle.language)
        .join(
            KbVersion,
            (KbVersion.article_id == KbArticle.id)
            & (KbVersion.version == KbArticle.published_version),
        )
        .where(
            KbArticle.state != ArticleState.RETIRED,
            or_(KbArticle.valid_from.is_(None), KbArticle.valid_from <= now),
            or_(KbArticle.valid_until.is_(None), KbArticle.valid_until > now),
        )
        .order_by(KbArticle.id)
    )
    return [
        PublishedArticle(int(article_id), title, body, language)
        for article_id, title, body, language in rows
    ]


def _is_prefix_term(word: str) -> bool:
    return len(word) == 1 and not word.isascii()


def _ranked(
    session: Session, words: list[str], limit: int, *, match_all: bool
) -> list[tuple[int, float]]:
    if _is_sqlite(session):
        ensure_search_index(session)
        # Quoted terms; a lone Chinese character (no bigram exists) matches as a prefix.
        parts = [f'"{w}"*' if _is_prefix_term(w) else f'"{w}"' for w in words]
        expression = (" AND " if match_all else " OR ").join(parts)
        rows = session.execute(
            text(
                "SELECT rowid, bm25(kb_search_fts, :title_weight, 1.0) AS score "
                "FROM kb_search_fts WHERE kb_search_fts MATCH :expression "
                "ORDER BY score LIMIT :limit"
            ),
            {"expression": expression, "title_weight": TITLE_WEIGHT, "limit": limit},
        ).all()
        # FTS5's bm25() is negative (smaller is better); flip it so larger is better.
        return [(int(row[0]), -float(row[1])) for row in rows]
    parts = [f"'{w}':*" if _is_prefix_term(w) else f"'{w}'" for w in words]
    expression = (" & " if match_all else " | ").join(parts)
    tsquery = func.to_tsquery("simple", expression)
    rows = session.execute(
        select(
            KbSearchDocument.article_id,
            func.ts_rank_cd(KbSearchDocument.vector, tsquery).label("score"),
        )
        .where(KbSearchDocument.vector.op("@@")(tsquery))
        .order_by(text("score DESC"))
        .limit(limit)
    ).all()
    return [(int(row[0]), float(row[1])) for row in rows]


def reindex(session: Session) -> int:
    """Rebuild the search index from the published versions; returns articles indexed."""
    session.execute(delete(KbSearchDocument))
    session.execute(delete(KbTerm))
    if _is_sqlite(session):
        session.execute(text("DROP TABLE IF EXISTS kb_search_fts"))
    count = 0
    for article in session.scalars(
        select(KbArticle).where(KbArticle.published_version.is_not(None))
    ):
        index_article(
            session,
            article=article,
            current=version(session, article_id=article.id, number=article.published_version),
        )
        count += 1
    return count


# ---------------------------------------------------------------- gaps


def record_miss(session: Session, *, query: str, now: datetime | None = None) -> bool:
    """Keep a search that found nothing, under its normalised query (one insert); ``False``
    when the query normalises to nothing (only punctuation), which is not kept.

    Example: ``record_miss(session, query="冰箱 結冰")`` counts one more "冰箱 结冰".
    """
    normalised = normalised_query(query)
    if not normalised:
        return False
    session.add(
        KbSearchMiss(
            query=normalised, asked=query.strip()[:QUERY_LENGTH], searched_at=now or utcnow()
        )
    )
    session.flush()
    return True


#: How long after a search an article opened from its results counts as the search's answer;
#: a search whose window passed without one is a search whose results nobody opened.
OPEN_WINDOW = timedelta(minutes=30)


def record_search(
    session: Session,
    *,
    query: str,
    username: str,
    article_ids: Sequence[int],
    now: datetime | None = None,
) -> bool:
    """Keep a search that found articles, so the gap report can tell whether the person who
    searched opened one of them (:func:`read` with ``reader``) within :data:`OPEN_WINDOW`;
    ``False`` when the query normalises to nothing, which is not kept.

    Example: ``record_search(session, query="冰箱结冰", username="a004", article_ids=[3, 9])``.
    """
    normalised = normalised_query(query)
    if not normalised or not article_ids:
        return False
    session.add(
        KbSearch(
            query=normalised,
            asked=query.strip()[:QUERY_LENGTH],
            username=username,
            article_ids=list(article_ids),
            searched_at=now or utcnow(),
        )
    )
    session.flush()
    return True


def _mark_opened(session: Session, *, username: str, article_id: int, now: datetime) -> None:
    """The reader's latest search of the open window that showed ``article_id`` and was not
    opened yet counts as opened now."""
    recent = session.scalars(
        select(KbSearch)
        .where(
            KbSearch.username == username,
            KbSearch.searched_at >= now - OPEN_WINDOW,
            KbSearch.searched_at <= now,
            KbSearch.opened_at.is_(None),
        )
        .order_by(KbSearch.searched_at.desc(), KbSearch.id.desc())
    )
    for search in recent:
        if article_id in search.article_ids:
            search.opened_at = now
            session.flush()
            return


@dataclass(frozen=True)
class Gap:
    """A question the knowledge base did not answer: the normalised query, how many searches
    for it found nothing in the period, how many found articles that nobody then opened
    (``unopened``: the open window passed without one), the last of them, and how it was last
    typed."""

    query: str
    searches: int
    last_searched: datetime
    asked: str
    unopened: int = 0


def gaps(
    session: Session, *, days: int = 30, limit: int = 50, now: datetime | None = None
) -> list[Gap]:
    """The unanswered questions of the last ``days`` days, most asked first (then the most
    recent): what authors should write next.

    A question counts the searches for it that found nothing and those whose results nobody
    opened within :data:`OPEN_WINDOW` (a search still inside its window is not counted yet).
    Example: ``gaps(session, days=7)[0].query`` is the week's most asked unanswered question.
    """
    now = now or utcnow()
    since = now - timedelta(days=days)
    found: dict[str, dict[str, Any]] = {}
    for table, where, field in (
        (KbSearchMiss, KbSearchMiss.searched_at >= since, "searches"),
        (
            KbSearch,
            and_(
                KbSearch.searched_at >= since,
                KbSearch.searched_at <= now - OPEN_WINDOW,
                KbSearch.opened_at.is_(None),
            ),
            "unopened",
        ),
    ):
        counted = (
            select(
                table.query,
                func.count().label("searches"),
                func.max(table.searched_at).label("last_searched"),
                func.max(table.id).label("last_id"),
            )
            .where(where)
            .group_by(table.query)
            .subquery()
        )
        rows = session.execute(
            select(counted, table.asked).join(table, table.id == counted.c.last_id)
        )
        for row in rows:
            gap = found.setdefault(
                row.query,
                {"searches": 0, "unopened": 0, "last_searched": row.last_searched, "asked": ""},
            )
            gap[field] = int(row.searches)
            if row.last_searched >= gap["last_searched"]:
                gap["last_searched"], gap["asked"] = row.last_searched, row.asked
    ordered = sorted(
        found.items(),
        key=lambda item: (
            -(item[1]["searches"] + item[1]["unopened"]),
            -item[1]["last_searched"].timestamp(),
            item[0],
        ),
    )
    return [Gap(query=query, **gap) for query, gap in ordered[:limit]]
