"""Knowledge-base API: search and read for everyone; writing, review and retiring by role."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from hotline.identity.roles import ALL_ROLES
from hotline.kb import service as kb
from hotline.web.api.responses import Number, ResponseModel, errors
from hotline.web.auth import CurrentUser, db_session, require_roles, writer_session
from hotline.web.fields import RecordId
from hotline.web.limits import ARTICLE_LENGTH, NAME_LENGTH, NOTE_LENGTH

router = APIRouter(prefix="/api/kb", tags=["knowledge base"])

AUTHORS = ("agent", "team_lead", "supervisor", "qa", "manager")
REVIEWERS = ("qa", "supervisor", "manager")


Tag = Annotated[str, Field(max_length=64)]


class ArticleIn(BaseModel):
    """A new article."""

    title: str = Field(min_length=1, max_length=256)
    body: str = Field(max_length=ARTICLE_LENGTH)
    category: str | None = Field(None, max_length=NAME_LENGTH)
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    language: str = Field("zh-CN", max_length=16)
    valid_from: datetime | None = None
    valid_until: datetime | None = None


class EditIn(BaseModel):
    """A new version of an article."""

    title: str | None = Field(None, min_length=1, max_length=256)
    body: str | None = Field(None, max_length=ARTICLE_LENGTH)
    tags: list[Tag] | None = Field(None, max_length=50)
    note: str = Field("", max_length=NOTE_LENGTH)


class ReviewIn(BaseModel):
    """A reviewer's decision."""

    approve: bool
    note: str = Field("", max_length=NOTE_LENGTH)


class FeedbackIn(BaseModel):
    """A "was this helpful?" answer."""

    helpful: bool
    comment: str = Field("", max_length=NOTE_LENGTH)


class AttachmentIn(BaseModel):
    """Metadata of a file stored elsewhere."""

    filename: str = Field(min_length=1, max_length=256)
    media_type: str = Field(max_length=NAME_LENGTH)
    size_bytes: int = Field(ge=0, le=2**53)
    sha256: str = Field(max_length=64)
    uri: str = Field(max_length=2_000)


class ArticleOut(ResponseModel):
    """An article's state, versions, validity and counters (views, uses, helpful votes)."""

    id: int
    state: str
    current_version: int
    published_version: int | None
    tags: list[str]
    valid_from: datetime | None
    valid_until: datetime | None
    views: int
    uses: int
    helpful_yes: int
    helpful_no: int


class AttachmentRefOut(ResponseModel):
    """A file attached to an article (stored elsewhere, at ``uri``)."""

    filename: str
    media_type: str
    uri: str


class PublishedArticleOut(ArticleOut):
    """An article with the text of its published version and its attachments."""

    title: str
    body: str
    version: int
    attachments: list[AttachmentRefOut]


class SearchHitOut(ResponseModel):
    """One search result: the article, its published title and version, and the score."""

    article_id: int
    title: str
    score: Number
    version: int


class AttachmentOut(ResponseModel):
    """An attachment just recorded."""

    id: int
    filename: str


def _fields(session: Session, article_id: int) -> dict[str, Any]:
    article = kb.get_article(session, article_id=article_id)
    return {
        "id": article.id,
        "state": article.state,
        "current_version": article.current_version,
        "published_version": article.published_version,
        "tags": article.tags,
        "valid_from": article.valid_from,
        "valid_until": article.valid_until,
        "views": article.views,
        "uses": article.uses,
        "helpful_yes": article.helpful_yes,
        "helpful_no": article.helpful_no,
    }


def _article(session: Session, article_id: int) -> ArticleOut:
    return ArticleOut.model_validate(_fields(session, article_id))


@router.get("/search", responses=errors(422))
def search(
    q: str = Query(..., min_length=1, description="Question in Chinese or English."),
    limit: int = Query(5, ge=1, le=50),
    category: str | None = None,
    user: CurrentUser = Depends(require_roles(*ALL_ROLES)),
    session: Session = Depends(db_session, scope="function"),
) -> list[SearchHitOut]:
    """Published, currently valid articles for a question, best first."""
    hits = kb.search(session, query=q, limit=limit, category_name=category)
    return [SearchHitOut.model_validate(h.__dict__) for h in hits]


@router.get("/articles/{article_id}", responses=errors(404, 422))
def read(
    article_id: RecordId,
    user: CurrentUser = Depends(require_roles(*ALL_ROLES)),
    session: Session = Depends(writer_session, scope="function"),
) -> PublishedArticleOut:
    """Read the published version (counts a view: a GET that writes, so its session queues
    as a writer)."""
    version = kb.read(session, article_id=article_id)
    attachments = kb.attachments(session, article_id=article_id)
    return PublishedArticleOut.model_validate(
        _fields(session, article_id)
        | {
            "title": version.title,
            "body": version.body,
            "version": version.version,
            "attachments": [
                {"filename": a.filename, "media_type": a.media_type, "uri": a.uri}
                for a in attachments
            ],
        }
    )


@router.post("/articles", status_code=201, responses=errors(422))
def create(
    body: ArticleIn,
    user: CurrentUser = Depends(require_roles(*AUTHORS)),
    session: Session = Depends(db_session, scope="function"),
) -> ArticleOut:
    """Write a new article as a draft."""
    data = body.model_dump()
    article = kb.create_article(
        session, author=user.username, category_name=data.pop("category"), **data
    )
    return _article(session, article.id)


@router.post("/articles/{article_id}/versions", status_code=201, responses=errors(404, 409, 422))
def edit(
    article_id: RecordId,
    body: EditIn,
    user: CurrentUser = Depends(require_roles(*AUTHORS)),
    session: Session = Depends(db_session, scope="function"),
) -> ArticleOut:
    """Write a new version (a draft until reviewed; the published one stays live)."""
    kb.edit_article(session, article_id=article_id, author=user.username, **body.model_dump())
    return _article(session, article_id)


@router.post("/articles/{article_id}/submit", responses=errors(404, 409, 422))
def submit(
    article_id: RecordId,
    user: CurrentUser = Depends(require_roles(*AUTHORS)),
    session: Session = Depends(db_session, scope="function"),
) -> ArticleOut:
    """Send the draft to review."""
    kb.submit_for_review(session, article_id=article_id, actor=user.username)
    return _article(session, article_id)


@router.post("/articles/{article_id}/review", responses=errors(404, 409, 422))
def review(
    article_id: RecordId,
    body: ReviewIn,
    user: CurrentUser = Depends(require_roles(*REVIEWERS)),
    session: Session = Depends(db_session, scope="function"),
) -> ArticleOut:
    """Publish or send back the version in review (not by its author)."""
    kb.review(
        session, article_id=article_id, reviewer=user.username, approve=body.approve, note=body.note
    )
    return _article(session, article_id)


@router.post("/articles/{article_id}/retire", responses=errors(404, 409, 422))
def retire(
    article_id: RecordId,
    user: CurrentUser = Depends(require_roles(*REVIEWERS)),
    session: Session = Depends(db_session, scope="function"),
) -> ArticleOut:
    """Take an article out of service and search."""
    kb.retire(session, article_id=article_id, actor=user.username)
    return _article(session, article_id)


@router.post("/articles/{article_id}/feedback", status_code=201, responses=errors(404, 409, 422))
def feedback(
    article_id: RecordId,
    body: FeedbackIn,
    user: CurrentUser = Depends(require_roles(*ALL_ROLES)),
    session: Session = Depends(db_session, scope="function"),
) -> ArticleOut:
    """Record whether the article helped."""
    kb.feedback(
        session,
        article_id=article_id,
        helpful=body.helpful,
        comment=body.comment,
        actor=user.username,
    )
    return _article(session, article_id)


@router.post("/articles/{article_id}/attachments", status_code=201, responses=errors(404, 409, 422))
def attach(
    article_id: RecordId,
    body: AttachmentIn,
    user: CurrentUser = Depends(require_roles(*AUTHORS)),
    session: Session = Depends(db_session, scope="function"),
) -> AttachmentOut:
    """Record an attachment's metadata."""
    attachment = kb.add_attachment(
        session, article_id=article_id, actor=user.username, **body.model_dump()
    )
    return AttachmentOut(id=attachment.id, filename=attachment.filename)
