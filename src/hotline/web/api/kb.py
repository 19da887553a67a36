"""Knowledge-base API: search and read for everyone; writing, review and retiring by role.

Search results carry what the knowledge page shows of them: the stretches of the title that
matched and a snippet of the body around the first match (:mod:`hotline.kb.marks`). The
authors' routes list articles in every state, show every version and compare two of them.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, File, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field, ValidationInfo, field_validator
from sqlalchemy.orm import Session

from hotline.core.errors import Problem, ValidationFailed
from hotline.core.spreadsheet import csv_cell
from hotline.identity.roles import ALL_ROLES
from hotline.kb import markdown, marks
from hotline.kb import service as kb
from hotline.web.api.responses import Number, ResponseModel, errors, file_download
from hotline.web.auth import (
    CurrentUser,
    db_session,
    require_roles,
    write_apart,
    writer_session,
)
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

    @field_validator("valid_until")
    @classmethod
    def _after_valid_from(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        start = info.data.get("valid_from")
        if value is not None and start is not None and value <= start:
            raise ValueError("valid_until must come after valid_from")
        return value


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
    """An article with the text of its published version (``body``, Markdown as written, and
    ``html``, rendered safe: raw HTML escaped, only the knowledge base's own images) and its
    attachments."""

    title: str
    body: str
    html: str
    version: int
    attachments: list[AttachmentRefOut]


Mark = Annotated[list[int], Field(min_length=2, max_length=2)]


class SearchHitOut(ResponseModel):
    """One search result: the article, its published title and version, and the score; the
    ``[start, end)`` stretches of the title that matched the query, and a snippet of the body
    around the first match with its own marks (``cut_before``/``cut_after``: the body goes on).
    """

    article_id: int
    title: str
    score: Number
    version: int
    title_marks: list[Mark]
    snippet: str
    snippet_marks: list[Mark]
    cut_before: bool
    cut_after: bool


class ArticleSummaryOut(ResponseModel):
    """One article in the authors' list: its state, newest title and usage (views, uses on
    tickets, helpful and unhelpful answers)."""

    id: int
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


class VersionOut(ResponseModel):
    """One version of an article as written (versions are never changed)."""

    version: int
    title: str
    body: str
    author: str
    note: str
    created_at: datetime


class ArticleHistoryOut(ArticleOut):
    """An article with its category, author and every version, oldest first."""

    category: str | None
    author: str
    reviewer: str | None
    versions: list[VersionOut]


class LineOut(ResponseModel):
    """One line of a comparison: ``same``, ``added`` (in ``other``) or ``removed`` (from
    ``base``)."""

    change: str
    text: str


class ComparisonOut(ResponseModel):
    """What changed from version ``base`` to version ``other``: the titles and the body lines."""

    base: int
    other: int
    title_before: str
    title_after: str
    lines: list[LineOut]


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


async def _keep_miss(request: Request, query: str) -> None:
    """Count a search that found nothing, after its answer went out (the gap report's row):
    one short insert that queues at the writer gate like any write, on the event loop."""
    await write_apart(request, lambda session: kb.record_miss(session, query=query))


async def _keep_search(request: Request, query: str, username: str, article_ids: list[int]) -> None:
    """Keep a search that found articles, after its answer went out, so the gap report can
    count it when nobody opens one of them (same writer path as :func:`_keep_miss`)."""
    await write_apart(
        request,
        lambda session: kb.record_search(
            session, query=query, username=username, article_ids=article_ids
        ),
    )


@router.get("/search", responses=errors(422))
def search(
    request: Request,
    background: BackgroundTasks,
    q: str = Query(..., min_length=1, description="Question in Chinese or English."),
    limit: int = Query(5, ge=1, le=50),
    category: str | None = Query(None, max_length=NAME_LENGTH),
    tag: str | None = Query(None, max_length=64),
    user: CurrentUser = Depends(require_roles(*ALL_ROLES)),
    session: Session = Depends(db_session, scope="function"),
) -> list[SearchHitOut]:
    """Published, currently valid articles for a question, best first, with the matches.

    A search over the whole knowledge base (no category or tag) is kept for the gap report —
    one that finds nothing, and one that finds articles, so that it counts if nobody opens
    them — written after the answer is sent so the search does not wait for it.
    """
    hits = kb.search(session, query=q, limit=limit, category_name=category, tag=tag)
    if not hits and category is None and not tag:
        background.add_task(_keep_miss, request, q)
    elif category is None and not tag:
        found = [hit.article_id for hit in hits]
        background.add_task(_keep_search, request, q, user.username, found)
    bodies = kb.published_bodies(session, article_ids=[hit.article_id for hit in hits])
    out = []
    for hit in hits:
        cut = marks.snippet(bodies.get(hit.article_id, ""), q)
        out.append(
            SearchHitOut(
                article_id=hit.article_id,
                title=hit.title,
                score=hit.score,
                version=hit.version,
                title_marks=[list(m) for m in marks.matches(hit.title, q)],
                snippet=cut.text,
                snippet_marks=[list(m) for m in cut.marks],
                cut_before=cut.cut_before,
                cut_after=cut.cut_after,
            )
        )
    return out


class RelatedOut(ResponseModel):
    """An article to read next: its id, published title and version."""

    article_id: int
    title: str
    version: int


@router.get("/articles/{article_id}/related", responses=errors(404, 422))
def related(
    article_id: RecordId,
    limit: int = Query(5, ge=1, le=20),
    user: CurrentUser = Depends(require_roles(*ALL_ROLES)),
    session: Session = Depends(db_session, scope="function"),
) -> list[RelatedOut]:
    """Published articles related to this one: found by its title, then from its category."""
    return [
        RelatedOut(article_id=hit.article_id, title=hit.title, version=hit.version)
        for hit in kb.related(session, article_id=article_id, limit=limit)
    ]


@router.get("/categories", responses=errors())
def categories(
    user: CurrentUser = Depends(require_roles(*ALL_ROLES)),
    session: Session = Depends(db_session, scope="function"),
) -> list[str]:
    """The categories articles are filed under, alphabetically."""
    return kb.categories(session)


@router.get("/articles", responses=errors(422))
def list_articles(
    state: kb.ArticleState | None = None,
    user: CurrentUser = Depends(require_roles(*AUTHORS)),
    session: Session = Depends(db_session, scope="function"),
) -> list[ArticleSummaryOut]:
    """Articles in every state (``state`` picks one: ``review`` is the review queue), most
    recently changed first."""
    return [
        ArticleSummaryOut(
            id=a.article_id,
            title=a.title,
            state=a.state,
            category=a.category,
            author=a.author,
            current_version=a.current_version,
            published_version=a.published_version,
            updated_at=a.updated_at,
            views=a.views,
            uses=a.uses,
            helpful_yes=a.helpful_yes,
            helpful_no=a.helpful_no,
        )
        for a in kb.list_articles(session, state=state)
    ]


@router.get("/articles/{article_id}/versions", responses=errors(404, 422))
def history(
    article_id: RecordId,
    user: CurrentUser = Depends(require_roles(*AUTHORS)),
    session: Session = Depends(db_session, scope="function"),
) -> ArticleHistoryOut:
    """An article in any state with every version: what the editor and the reviewer read."""
    article = kb.get_article(session, article_id=article_id)
    return ArticleHistoryOut.model_validate(
        _fields(session, article_id)
        | {
            "category": kb.category_name(session, article=article),
            "author": article.author,
            "reviewer": article.reviewer,
            "versions": [
                {
                    "version": v.version,
                    "title": v.title,
                    "body": v.body,
                    "author": v.author,
                    "note": v.note,
                    "created_at": v.created_at,
                }
                for v in kb.versions(session, article_id=article_id)
            ],
        }
    )


@router.get("/articles/{article_id}/compare", responses=errors(404, 422))
def compare(
    article_id: RecordId,
    base: int = Query(..., ge=1, le=1_000_000, description="The older version."),
    other: int = Query(..., ge=1, le=1_000_000, description="The newer version."),
    user: CurrentUser = Depends(require_roles(*AUTHORS)),
    session: Session = Depends(db_session, scope="function"),
) -> ComparisonOut:
    """What changed between two versions of an article, line by line."""
    if base == other:
        raise ValidationFailed([Problem("compare two different versions", field="query.other")])
    older = kb.version(session, article_id=article_id, number=base)
    newer = kb.version(session, article_id=article_id, number=other)
    return ComparisonOut(
        base=base,
        other=other,
        title_before=older.title,
        title_after=newer.title,
        lines=[
            LineOut(change=x.change, text=x.text) for x in marks.compare(older.body, newer.body)
        ],
    )


@router.get("/articles/{article_id}", responses=errors(404, 422))
def read(
    article_id: RecordId,
    user: CurrentUser = Depends(require_roles(*ALL_ROLES)),
    session: Session = Depends(writer_session, scope="function"),
) -> PublishedArticleOut:
    """Read the published version (counts a view: a GET that writes, so its session queues
    as a writer)."""
    version = kb.read(session, article_id=article_id, reader=user.username)
    attachments = kb.attachments(session, article_id=article_id)
    return PublishedArticleOut.model_validate(
        _fields(session, article_id)
        | {
            "title": version.title,
            "body": version.body,
            "html": markdown.render(version.body),
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


class GapOut(ResponseModel):
    """A question the knowledge base did not answer: the normalised query, how many searches
    for it found nothing in the period, how many found articles nobody then opened
    (``unopened``), when it was last asked and how it was typed then."""

    query: str
    searches: int
    unopened: int
    last_searched: datetime
    asked: str


@router.get("/gaps", responses=errors(422))
def gaps(
    days: int = Query(30, ge=1, le=366, description="The period: the last so many days."),
    limit: int = Query(50, ge=1, le=500),
    user: CurrentUser = Depends(require_roles(*AUTHORS)),
    session: Session = Depends(db_session, scope="function"),
) -> list[GapOut]:
    """The gap report: searches that found nothing in the last ``days`` days, and searches
    whose results nobody opened, counted per normalised query, most asked first (what to
    write next)."""
    return [
        GapOut(
            query=g.query,
            searches=g.searches,
            unopened=g.unopened,
            last_searched=g.last_searched,
            asked=g.asked,
        )
        for g in kb.gaps(session, days=days, limit=limit)
    ]


@router.get(
    "/gaps.csv",
    response_class=Response,
    responses={
        **errors(422),
        200: {"description": "The gap report as CSV.", "content": {"text/csv": {}}},
    },
)
def gaps_export(
    days: int = Query(30, ge=1, le=366, description="The period: the last so many days."),
    limit: int = Query(500, ge=1, le=5000),
    user: CurrentUser = Depends(require_roles(*AUTHORS)),
    session: Session = Depends(db_session, scope="function"),
) -> Response:
    """The gap report as a CSV file (UTF-8 with a byte-order mark, so Excel reads Chinese):
    query, searches that found nothing, searches whose results nobody opened, last searched,
    as last typed. Cells that would start a formula are neutralised."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["query", "found_nothing", "results_not_opened", "last_searched", "asked"])
    for g in kb.gaps(session, days=days, limit=limit):
        writer.writerow(
            [
                csv_cell(g.query),
                g.searches,
                g.unopened,
                g.last_searched.isoformat(),
                csv_cell(g.asked),
            ]
        )
    return Response(
        content="\ufeff" + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="knowledge-gaps-{days}d.csv"'},
    )


class PreviewIn(BaseModel):
    """An article's Markdown being written."""

    body: str = Field(max_length=ARTICLE_LENGTH)


class PreviewOut(ResponseModel):
    """The Markdown as readers will see it (safe HTML)."""

    html: str


@router.post("/preview", responses=errors(422))
def preview(body: PreviewIn, user: CurrentUser = Depends(require_roles(*AUTHORS))) -> PreviewOut:
    """Render Markdown as the knowledge page will show it (nothing is stored)."""
    return PreviewOut(html=markdown.render(body.body))


class ImageOut(ResponseModel):
    """An uploaded image: its id, where it is served, and the Markdown that shows it."""

    id: int
    filename: str
    url: str
    markdown: str


@router.post("/images", status_code=201, responses=errors(422))
def upload_image(
    file: UploadFile = File(..., description="PNG, JPEG or GIF, at most 5 MB (multipart field)."),
    user: CurrentUser = Depends(require_roles(*AUTHORS)),
    session: Session = Depends(db_session, scope="function"),
) -> ImageOut:
    """Upload an image for articles: refused with 422 naming the rule when it is not a PNG,
    JPEG or GIF (by its content too), is empty or too big."""
    # Already received whole (the upload routes' body limit bounds it).
    data = file.file.read()
    name = file.filename or ""
    image = kb.upload_image(
        session, filename=name, media_type=file.content_type or "", data=data, actor=user.username
    )
    url = markdown.image_source(image.id)
    alt = name.rsplit(".", 1)[0].replace("[", "").replace("]", "")
    return ImageOut(id=image.id, filename=name, url=url, markdown=f"![{alt}]({url})")


@router.get(
    "/images/{image_id}",
    response_class=Response,
    responses=file_download("The image, in its own media type."),
)
def show_image(
    image_id: RecordId,
    user: CurrentUser = Depends(require_roles(*ALL_ROLES)),
    session: Session = Depends(db_session, scope="function"),
) -> Response:
    """An image an article shows, for every signed-in role (images hold no personal data;
    an image is never changed, so the browser may keep it)."""
    found = kb.image(session, image_id=image_id)
    return Response(
        content=found.data,
        media_type=found.media_type,
        headers={"Cache-Control": "private, max-age=86400"},
    )
