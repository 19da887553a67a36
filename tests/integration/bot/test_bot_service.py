"""The bot over a real database: published articles only, and tickets told only to their owner."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from hotline.bot import service as bot
from hotline.bot.dialogue import BotState, HandOver, Reply
from hotline.config.bot import BotSettings
from hotline.crm import service as crm
from hotline.kb import service as kb
from hotline.tickets import service as tickets

SETTINGS = BotSettings(queues=["chat"])
E4_TITLE = "燃气热水器显示E4故障"
E4_BODY = "E4是超温保护。请调低出水温度，清洗进水过滤网后重新开机。"


def publish(session: Session, title: str, body: str, language: str = "zh-CN") -> int:
    """Write, submit and approve an article (the bot answers only from published ones)."""
    article = kb.create_article(session, title=title, body=body, author="w", language=language)
    kb.submit_for_review(session, article_id=article.id, actor="w")
    kb.review(session, article_id=article.id, reviewer="r", approve=True)
    return article.id


def test_the_bot_answers_from_published_articles_and_looks_up_its_callers_tickets(
    db_session: Session,
) -> None:
    e4 = publish(
        db_session, "燃气热水器显示E4故障", "E4是超温保护。请调低出水温度，清洗进水过滤网。"
    )
    publish(db_session, "空调不制冷怎么办", "清洗滤网，检查室外机通风。")
    draft = kb.create_article(
        db_session, title="洗衣机不排水", body="清理排水泵过滤器。", author="w"
    )
    owner = crm.create_customer(db_session, name="王小明", phones=["13800138000"])
    ticket = tickets.create_ticket(
        db_session, type="repair", subject="热水器E4报修", actor="t", customer_id=owner.id
    )
    ticket.appointment_from = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)
    ticket.appointment_to = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)
    db_session.flush()
    knowledge = bot.load_knowledge(db_session)
    assert draft.id not in knowledge.articles  # a draft is no answer

    def turn(state: BotState, text: str) -> tuple[BotState, list[Reply | HandOver]]:
        return bot.respond(
            state,
            text,
            session=db_session,
            knowledge=knowledge,
            settings=SETTINGS,
            time_zone="Asia/Shanghai",
        )

    state, said = turn(BotState(), "請問熱水器顯示E4怎麼辦")
    assert [(r.kind, r.article_id) for r in said if isinstance(r, Reply)] == [("article", e4)]
    # The draft's topic is not answered; twice not helped → handed over.
    state, said = turn(state, "洗衣机不排水")
    assert [r.kind for r in said if isinstance(r, Reply)] == ["miss"]
    _, said = turn(state, "排水泵")
    assert said == [HandOver("failed_turns")]

    # The ticket's state and visit (in the center's time zone), for its customer's phone only.
    mine = BotState.start(language="zh-CN", phone="+86 138 0013 8000")
    _, said = turn(mine, f"师傅什么时候上门？工单{ticket.number}")
    (reply,) = said
    assert isinstance(reply, Reply) and reply.kind == "ticket"
    assert "2026-12-05 09:00 至 2026-12-05 11:00" in reply.text
    stranger = BotState.start(language="zh-CN", phone="13912345678")
    _, said = turn(stranger, f"工单{ticket.number}")
    assert [r.kind for r in said if isinstance(r, Reply)] == ["miss"]
    assert "热水器" not in str(said)
    assert (
        tickets.ticket_of_caller(db_session, number="20990101000001", phone="13800138000") is None
    )
