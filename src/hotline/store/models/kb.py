"""Knowledge-base tables: articles, their versions, attachments, feedback and search terms.

``kb_search`` holds each published article's text already segmented for search (Chinese as
character bigrams, other words lower-cased; see ``hotline.kb.text``). PostgreSQL indexes it
as a ``tsvector`` (GIN); SQLite keeps a derived FTS5 table built from it by the kb service.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from hotline.store.db import Base, UTCDateTime, utcnow

# Only PostgreSQL has a tsvector; on SQLite the column stays NULL and FTS5 does the work.
SearchVector = TSVECTOR().with_variant(Text(), "sqlite")


class KbCategory(Base):
    """A category of articles; categories nest."""

    __tablename__ = "kb_categories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("kb_categories.id"), nullable=True)


class KbArticle(Base):
    """An article: its workflow state, the published version, validity and usage."""

    __tablename__ = "kb_articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("kb_categories.id"), nullable=True)
    state: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    language: Mapped[str] = mapped_column(String(8), default="zh-CN")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    published_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    author: Mapped[str] = mapped_column(String(64))
    reviewer: Mapped[str | None] = mapped_column(String(64), nullable=True)
    views: Mapped[int] = mapped_column(Integer, default=0)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    helpful_yes: Mapped[int] = mapped_column(Integer, default=0)
    helpful_no: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class KbVersion(Base):
    """One version of an article's title and body; versions are never edited."""

    __tablename__ = "kb_versions"
    __table_args__ = (UniqueConstraint("article_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(256))
    body: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(String(256), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class KbAttachment(Base):
    """Metadata of a file attached to an article (the bytes live in object storage)."""

    __tablename__ = "kb_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id"), index=True)
    filename: Mapped[str] = mapped_column(String(256))
    media_type: Mapped[str] = mapped_column(String(128))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uri: Mapped[str] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class KbFeedback(Base):
    """One "was this helpful?" answer."""

    __tablename__ = "kb_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    helpful: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str] = mapped_column(Text, default="")


class KbSearchDocument(Base):
    """The segmented search text of one published article."""

    __tablename__ = "kb_search"
    __table_args__ = (Index("ix_kb_search_vector", "vector", postgresql_using="gin"),)

    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id"), primary_key=True)
    title_terms: Mapped[str] = mapped_column(Text)
    body_terms: Mapped[str] = mapped_column(Text)
    vector: Mapped[str | None] = mapped_column(SearchVector, nullable=True)


class KbTerm(Base):
    """How many published articles hold a search term (document frequency).

    Search uses it to drop query terms no article has and to leave very common ones out of
    the any-term query. The row with the empty term counts the indexed articles.
    """

    __tablename__ = "kb_terms"

    term: Mapped[str] = mapped_column(String(64), primary_key=True)
    documents: Mapped[int] = mapped_column(Integer, default=0)


class KbSearchMiss(Base):
    """A search that found nothing: the knowledge base's gaps, counted per normalised query.

    One row per unanswered search (searches that found something are not kept), written after
    the answer was sent; the gap report groups them by ``query`` over a period.
    """

    __tablename__ = "kb_search_misses"
    __table_args__ = (Index("ix_kb_search_misses_searched_at", "searched_at", "query"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    query: Mapped[str] = mapped_column(String(200))
    asked: Mapped[str] = mapped_column(String(200))
    searched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class KbImage(Base):
    """An image shown in articles (a wiring diagram, a control panel, an error display).

    Uploaded by an author and referenced from an article's Markdown as
    ``![alt](/api/kb/images/{id})``; the bytes are kept in the database like ticket
    attachments, so every web node serves them and a backup holds them.
    """

    __tablename__ = "kb_images"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    filename: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class KbSearch(Base):
    """A search over the whole knowledge base that found articles, and whether the person
    who searched opened one of them afterwards.

    ``article_ids`` are the results shown; ``opened_at`` is set when the same user opens one
    of them within the open window (``hotline.kb.service.OPEN_WINDOW``). A search whose window
    passed with ``opened_at`` still empty is one whose results nobody opened: the gap report
    counts those per normalised query beside the searches that found nothing.
    """

    __tablename__ = "kb_searches"
    __table_args__ = (
        Index("ix_kb_searches_searched_at", "searched_at", "query"),
        Index("ix_kb_searches_username", "username", "searched_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    query: Mapped[str] = mapped_column(String(200))
    asked: Mapped[str] = mapped_column(String(200))
    username: Mapped[str] = mapped_column(String(64))
    article_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    searched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
