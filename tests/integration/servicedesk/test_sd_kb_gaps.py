"""The knowledge gap report: searches that found nothing, kept by the search route after its
answer and counted per normalised query (traditional and simplified, spacing and punctuation
folded) for the authors; a filtered search and one that found something are not gaps."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.kb import service as kb
from hotline.store.db import utcnow
from hotline.store.models.kb import KbSearch
from tests.integration.servicedesk.test_sd_kb_authoring_api import _publish

Auth = Callable[[str], dict[str, str]]


def test_unanswered_searches_are_counted_per_normalised_query(
    desk_client: TestClient, auth: Auth
) -> None:
    _publish(desk_client, auth, title="空调不制冷怎么办", body="清洗滤网。")
    for question, role in (
        ("冰箱 結冰", "agent"),
        ("冰箱結冰？", "provider"),
        ("  冰箱  结冰 ", "wfm"),
        ("洗碗机 E9", "agent"),
        ("空调 不制冷", "agent"),  # found: not a gap
    ):
        answer = desk_client.get("/api/kb/search", params={"q": question}, headers=auth(role))
        assert answer.status_code == 200, answer.text
    filtered = desk_client.get(
        "/api/kb/search", params={"q": "烤箱", "category": "空调"}, headers=auth("agent")
    )
    assert filtered.json() == []  # narrowed by the searcher: not a gap of the whole base

    report = desk_client.get("/api/kb/gaps", params={"days": 7}, headers=auth("qa"))
    assert report.status_code == 200, report.text
    assert [(g["query"], g["searches"]) for g in report.json()] == [
        ("冰箱结冰", 3),
        ("洗碗机 e9", 1),
    ]
    assert report.json()[0]["asked"] == "冰箱  结冰"  # as last typed
    assert desk_client.get("/api/kb/gaps", headers=auth("wfm")).status_code == 403
    refused = desk_client.get("/api/kb/gaps", params={"days": 0}, headers=auth("qa"))
    assert refused.status_code == 422 and "days" in refused.text


def test_the_period_keeps_only_recent_gaps(db_session: Session) -> None:
    now = utcnow()
    kb.record_miss(db_session, query="热水器 E4", now=now - timedelta(days=40))
    kb.record_miss(db_session, query="熱水器e4", now=now - timedelta(days=39))
    kb.record_miss(db_session, query="燃气灶 点不着", now=now - timedelta(days=2))
    assert kb.record_miss(db_session, query="？？", now=now) is False
    assert [(g.query, g.searches) for g in kb.gaps(db_session, days=30, now=now)] == [
        ("燃气灶点不着", 1)
    ]
    older = kb.gaps(db_session, days=60, now=now)
    assert [(g.query, g.searches, g.asked) for g in older] == [
        ("热水器 e4", 2, "熱水器e4"),
        ("燃气灶点不着", 1, "燃气灶 点不着"),
    ]


def test_searches_whose_results_nobody_opened_are_counted_per_query_on_the_page_and_export(
    desk_client: TestClient, auth: Auth, db_session: Session
) -> None:
    aircon = _publish(desk_client, auth, title="空调不制冷怎么办", body="清洗滤网。")
    _publish(desk_client, auth, title="洗衣机漏水", body="检查进水管。")

    def search(question: str, role: str) -> list[int]:
        answer = desk_client.get("/api/kb/search", params={"q": question}, headers=auth(role))
        assert answer.status_code == 200, answer.text
        return [hit["article_id"] for hit in answer.json()]

    # The agent searches and opens an article from the results: answered.
    assert aircon in search("空调 不制冷", "agent")
    assert desk_client.get(f"/api/kb/articles/{aircon}", headers=auth("agent")).status_code == 200
    # The provider's search finds the same article; someone else opening it doesn't count.
    assert aircon in search("空調不製冷", "provider")
    assert desk_client.get(f"/api/kb/articles/{aircon}", headers=auth("qa")).status_code == 200
    # Two searches for a leak, none opened; one that found nothing beside them.
    search("洗衣机 漏水", "agent")
    search("洗衣机漏水？", "wfm")
    assert search("洗碗机 E9", "agent") == []
    # Inside the open window a search is not counted yet: it may still be opened.
    early = desk_client.get("/api/kb/gaps", params={"days": 7}, headers=auth("qa")).json()
    assert [(g["query"], g["searches"], g["unopened"]) for g in early] == [("洗碗机 e9", 1, 0)]

    # An hour later every window has passed.
    for row in db_session.scalars(select(KbSearch)):
        row.searched_at -= timedelta(hours=1)
        if row.opened_at is not None:
            row.opened_at -= timedelta(hours=1)
    db_session.commit()
    report = desk_client.get("/api/kb/gaps", params={"days": 7}, headers=auth("qa"))
    assert report.status_code == 200, report.text
    assert [(g["query"], g["searches"], g["unopened"], g["asked"]) for g in report.json()] == [
        ("洗衣机漏水", 0, 2, "洗衣机漏水？"),
        ("洗碗机 e9", 1, 0, "洗碗机 E9"),
        ("空调不制冷", 0, 1, "空調不製冷"),
    ]
    exported = desk_client.get("/api/kb/gaps.csv", params={"days": 7}, headers=auth("qa"))
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0] == ["query", "found_nothing", "results_not_opened", "last_searched", "asked"]
    assert [(r[0], r[1], r[2], r[4]) for r in rows[1:]] == [
        ("洗衣机漏水", "0", "2", "洗衣机漏水？"),
        ("洗碗机 e9", "1", "0", "洗碗机 E9"),
        ("空调不制冷", "0", "1", "空調不製冷"),
    ]
    assert desk_client.get("/api/kb/gaps.csv", headers=auth("wfm")).status_code == 403


def test_only_the_searcher_opening_a_result_within_the_window_answers_a_search(
    db_session: Session,
) -> None:
    now = utcnow()
    article = kb.create_article(db_session, title="冰箱结冰", body="除霜。", author="t")
    kb.submit_for_review(db_session, article_id=article.id, actor="t")
    kb.review(db_session, article_id=article.id, reviewer="qa", approve=True)
    start = now - timedelta(hours=3)
    assert kb.record_search(
        db_session, query="冰箱 结冰", username="a", article_ids=[article.id], now=start
    )
    assert not kb.record_search(db_session, query="冰箱", username="a", article_ids=[], now=start)
    # Opened too late (past the 30 minutes) and by another user: still unopened.
    kb.read(db_session, article_id=article.id, reader="a", now=start + timedelta(minutes=31))
    kb.read(db_session, article_id=article.id, reader="b", now=start + timedelta(minutes=5))
    # A second search, opened in time by its searcher: answered.
    later = start + timedelta(hours=1)
    kb.record_search(
        db_session, query="冰箱结冰", username="a", article_ids=[article.id], now=later
    )
    kb.read(db_session, article_id=article.id, reader="a", now=later + timedelta(minutes=29))
    # A third, a minute ago: its window is still open, not counted yet.
    kb.record_search(
        db_session,
        query="冰箱结冰",
        username="a",
        article_ids=[article.id],
        now=now - timedelta(minutes=1),
    )
    assert [(g.query, g.searches, g.unopened) for g in kb.gaps(db_session, now=now)] == [
        ("冰箱结冰", 0, 1)
    ]
