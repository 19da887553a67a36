"""Knowledge base on SQLite and PostgreSQL: workflow, versions, validity, Chinese search."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from hotline.core.errors import Conflict, NotFound
from hotline.kb import service as kb

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)


def publish(session: Session, title: str, body: str, **extra: object) -> int:
    article = kb.create_article(session, title=title, body=body, author="editor", **extra)  # type: ignore[arg-type]
    kb.submit_for_review(session, article_id=article.id, actor="editor")
    kb.review(session, article_id=article.id, reviewer="qa1", approve=True)
    return article.id


def test_review_workflow_and_versions(db_session: Session) -> None:
    article = kb.create_article(db_session, title="空调不制冷", body="检查滤网", author="editor")
    assert kb.search(db_session, query="空调不制冷", now=NOW) == []  # drafts are not found
    with pytest.raises(Conflict, match="not in review"):
        kb.review(db_session, article_id=article.id, reviewer="qa1", approve=True)
    kb.submit_for_review(db_session, article_id=article.id, actor="editor")
    with pytest.raises(Conflict, match="own article"):
        kb.review(db_session, article_id=article.id, reviewer="editor", approve=True)
    kb.review(db_session, article_id=article.id, reviewer="qa1", approve=False, note="补充步骤")
    assert article.state == "draft"
    kb.submit_for_review(db_session, article_id=article.id, actor="editor")
    kb.review(db_session, article_id=article.id, reviewer="qa1", approve=True)
    assert [h.article_id for h in kb.search(db_session, query="不制冷", now=NOW)] == [article.id]

    kb.edit_article(db_session, article_id=article.id, author="editor2", body="检查滤网和冷媒压力")
    # The new version is a draft; the published version 1 stays live and searchable.
    assert article.state == "draft" and article.published_version == 1
    assert kb.read(db_session, article_id=article.id, now=NOW).body == "检查滤网"
    kb.submit_for_review(db_session, article_id=article.id, actor="editor2")
    kb.review(db_session, article_id=article.id, reviewer="qa1", approve=True)
    assert kb.read(db_session, article_id=article.id, now=NOW).version == 2
    assert [h.article_id for h in kb.search(db_session, query="冷媒压力", now=NOW)] == [article.id]
    assert [v.version for v in kb.versions(db_session, article_id=article.id)] == [1, 2]
    assert article.views == 2

    kb.retire(db_session, article_id=article.id, actor="editor")
    assert kb.search(db_session, query="冷媒压力", now=NOW) == []


def test_search_ranks_chinese_and_english_and_respects_validity(db_session: Session) -> None:
    heater = publish(
        db_session,
        "燃气热水器显示E4故障怎么办",
        "E4 表示熄火保护，请检查燃气阀门是否打开。",
        tags=["热水器"],
    )
    washer = publish(db_session, "洗衣机不脱水", "检查排水管是否堵塞，衣物是否放置均匀。")
    router = publish(
        db_session, "How to reset the WiFi module", "Hold the reset button for ten seconds."
    )
    expired = publish(
        db_session,
        "旧版热水器保修政策",
        "热水器保修三年。",
        valid_until=NOW - timedelta(days=1),
    )
    future = publish(
        db_session, "新版热水器保修政策", "热水器保修六年。", valid_from=NOW + timedelta(days=30)
    )

    hits = kb.search(db_session, query="熱水器 E4", now=NOW)  # traditional characters
    assert hits[0].article_id == heater
    assert kb.search(db_session, query="洗衣机脱水", now=NOW)[0].article_id == washer
    assert kb.search(db_session, query="wifi RESET", now=NOW)[0].article_id == router
    found = {h.article_id for h in kb.search(db_session, query="热水器保修", now=NOW, limit=10)}
    assert expired not in found and future not in found
    later = {
        h.article_id
        for h in kb.search(db_session, query="热水器保修", now=NOW + timedelta(days=31))
    }
    assert future in later
    # Any-term fallback: "热水器 滤网" has no article with both; the heater article still comes up.
    assert heater in {h.article_id for h in kb.search(db_session, query="热水器 滤网", now=NOW)}
    # A single character matches as a prefix of the stored bigrams.
    assert washer in {h.article_id for h in kb.search(db_session, query="洗", now=NOW)}


def test_feedback_attachments_and_reindex(db_session: Session) -> None:
    article_id = publish(db_session, "冰箱结冰", "调高温度档位。")
    kb.feedback(db_session, article_id=article_id, helpful=True, actor="agent1")
    kb.feedback(db_session, article_id=article_id, helpful=False, actor="agent2", comment="没用")
    article = kb.get_article(db_session, article_id=article_id)
    assert (article.helpful_yes, article.helpful_no) == (1, 1)
    kb.add_attachment(
        db_session,
        article_id=article_id,
        filename="manual.pdf",
        media_type="application/pdf",
        size_bytes=1024,
        sha256="a" * 64,
        uri="s3://kb/manual.pdf",
        actor="editor",
    )
    with pytest.raises(Conflict, match="sha256"):
        kb.add_attachment(
            db_session,
            article_id=article_id,
            filename="x",
            media_type="x",
            size_bytes=1,
            sha256="zz",
            uri="x",
            actor="editor",
        )
    assert [a.filename for a in kb.attachments(db_session, article_id=article_id)] == ["manual.pdf"]
    assert kb.reindex(db_session) >= 1
    assert kb.search(db_session, query="冰箱结冰", now=NOW)[0].article_id == article_id
    with pytest.raises(NotFound):
        kb.get_article(db_session, article_id=999_999)
