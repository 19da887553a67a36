"""The knowledge gap report: searches that found nothing, kept by the search route after its
answer and counted per normalised query (traditional and simplified, spacing and punctuation
folded) for the authors; a filtered search and one that found something are not gaps."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hotline.kb import service as kb
from hotline.store.db import utcnow
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
