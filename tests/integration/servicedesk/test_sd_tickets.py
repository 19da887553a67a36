"""Work orders on SQLite and PostgreSQL: dispatch, verification callback, SLA, figures."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.core.calendar import BusinessCalendar
from hotline.core.errors import Conflict
from hotline.crm import service as crm
from hotline.kb import service as kb
from hotline.store.models.core import AuditEntry
from hotline.tickets import service as tickets

MONDAY_9 = datetime(2026, 11, 23, 9, tzinfo=UTC)
H = timedelta(hours=1)


@pytest.fixture
def setup(db_session: Session) -> tuple[Session, int, int]:
    tickets.save_calendar(
        db_session, name="default", calendar=BusinessCalendar.weekdays("UTC", "09:00-17:00")
    )
    tickets.create_provider(db_session, code="P01", name="朝阳家电维修站", actor="admin")
    customer = crm.create_customer(db_session, name="张伟", phones=["13812345678"], actor="a")
    product = crm.add_product(
        db_session, customer_id=customer.id, model="JSQ25", warranty_until=date(2027, 1, 1)
    )
    return db_session, customer.id, product.id


def test_one_ticket_to_the_end(setup: tuple[Session, int, int]) -> None:
    session, customer_id, product_id = setup
    ticket = tickets.create_ticket(
        session,
        type="repair",
        subject="热水器不加热",
        product_id=product_id,
        queue="repair",
        actor="agent7",
        now=MONDAY_9,
    )
    assert ticket.customer_id == customer_id and ticket.warranty
    assert ticket.due_at == MONDAY_9 + 24 * H + 2 * 16 * H  # 24 business hours: Wed 17:00
    tickets.respond(
        session, ticket_id=ticket.id, actor="agent7", note="已受理", now=MONDAY_9 + 0.5 * H
    )
    tickets.act(
        session,
        ticket_id=ticket.id,
        action="dispatch",
        target="P01",
        actor="agent7",
        now=MONDAY_9 + H,
    )
    tickets.create_provider(session, code="P02", name="海淀服务站", actor="admin")
    with pytest.raises(Conflict, match="not dispatched to P02"):
        tickets.provider_update(session, ticket_id=ticket.id, provider="P02", note="x")
    tickets.provider_update(
        session, ticket_id=ticket.id, provider="P01", note="已上门", now=MONDAY_9 + 3 * H
    )
    tickets.provider_update(
        session,
        ticket_id=ticket.id,
        provider="P01",
        note="更换加热管",
        completed=True,
        parts=["heating element"],
        now=MONDAY_9 + 5 * H,
    )
    assert ticket.state == "resolved" and ticket.resolved_at == MONDAY_9 + 5 * H
    with pytest.raises(Conflict, match="verification callback"):
        tickets.act(session, ticket_id=ticket.id, action="close", actor="agent7")
    tickets.record_verification(
        session,
        ticket_id=ticket.id,
        actor="agent9",
        reached=True,
        customer_confirmed=True,
        part_replaced=True,
        part_matches_fault=False,
        now=MONDAY_9 + 24 * H,
    )
    tickets.act(session, ticket_id=ticket.id, action="close", actor="agent9", now=MONDAY_9 + 25 * H)
    assert ticket.state == "closed" and ticket.claim_status == "rejected"
    actions = [e.action for e in tickets.history(session, ticket_id=ticket.id)]
    assert actions == [
        "create",
        "update",
        "dispatch",
        "provider_update",
        "provider_completed",
        "verify",
        "close",
    ]
    audited = set(
        session.scalars(
            select(AuditEntry.action).where(AuditEntry.target == f"ticket:{ticket.number}")
        )
    )
    assert {"ticket.create", "ticket.update", "ticket.dispatch", "ticket.close"} <= audited


def test_unconfirmed_callback_reopens(setup: tuple[Session, int, int]) -> None:
    session, customer_id, _ = setup
    ticket = tickets.create_ticket(
        session, type="installation", subject="安装空调", customer_id=customer_id, actor="a"
    )
    tickets.act(session, ticket_id=ticket.id, action="resolve", actor="a")
    tickets.record_verification(
        session, ticket_id=ticket.id, actor="b", reached=True, customer_confirmed=False
    )
    assert ticket.state == "open" and ticket.resolved_at is None


def test_reopened_order_needs_a_new_callback(setup: tuple[Session, int, int]) -> None:
    session, customer_id, _ = setup
    ticket = tickets.create_ticket(
        session, type="repair", subject="漏水", customer_id=customer_id, actor="a", now=MONDAY_9
    )
    tickets.act(session, ticket_id=ticket.id, action="resolve", actor="a", now=MONDAY_9 + H)
    tickets.record_verification(
        session,
        ticket_id=ticket.id,
        actor="b",
        reached=True,
        customer_confirmed=True,
        now=MONDAY_9 + 2 * H,
    )
    tickets.act(session, ticket_id=ticket.id, action="reopen", actor="a", now=MONDAY_9 + 3 * H)
    tickets.act(session, ticket_id=ticket.id, action="resolve", actor="a", now=MONDAY_9 + 4 * H)
    with pytest.raises(Conflict, match="verification callback"):
        tickets.act(session, ticket_id=ticket.id, action="close", actor="a", now=MONDAY_9 + 5 * H)


def test_complaint_level_only_goes_up(setup: tuple[Session, int, int]) -> None:
    session, customer_id, _ = setup
    ticket = tickets.create_ticket(
        session, type="complaint", subject="多次维修未修好", customer_id=customer_id, actor="a"
    )
    assert ticket.complaint_level == "1"
    tickets.act(session, ticket_id=ticket.id, action="escalate", target="team_lead", actor="tl")
    tickets.raise_complaint_level(session, ticket_id=ticket.id, level="3", actor="sup")
    with pytest.raises(Conflict, match="only goes up"):
        tickets.raise_complaint_level(session, ticket_id=ticket.id, level="2", actor="sup")
    with pytest.raises(Conflict, match="supervisor, manager"):
        tickets.act(session, ticket_id=ticket.id, action="resolve", actor="a")


def test_waiting_on_customer_moves_the_due_time(setup: tuple[Session, int, int]) -> None:
    session, customer_id, _ = setup
    ticket = tickets.create_ticket(
        session, type="inquiry", subject="发票", customer_id=customer_id, actor="a", now=MONDAY_9
    )
    due = ticket.due_at
    assert due is not None
    tickets.act(session, ticket_id=ticket.id, action="start", actor="a", now=MONDAY_9)
    tickets.act(session, ticket_id=ticket.id, action="wait_customer", actor="a", now=MONDAY_9 + H)
    status = {
        s.clock.value: s for s in tickets.sla_status(session, ticket=ticket, now=MONDAY_9 + 4 * H)
    }
    assert status["resolution"].state.value == "paused"
    assert status["resolution"].elapsed_s == 3600
    tickets.act(
        session, ticket_id=ticket.id, action="customer_replied", actor="a", now=MONDAY_9 + 4 * H
    )
    assert due == datetime(2026, 11, 25, 17, tzinfo=UTC)
    assert ticket.due_at == datetime(2026, 11, 26, 12, tzinfo=UTC)  # 3 business hours later
    assert ticket.pauses == [[(MONDAY_9 + H).isoformat(), (MONDAY_9 + 4 * H).isoformat()]]


def test_sla_check_escalates_once(setup: tuple[Session, int, int]) -> None:
    session, customer_id, _ = setup
    ticket = tickets.create_ticket(
        session,
        type="complaint",
        subject="服务态度差",
        customer_id=customer_id,
        priority="urgent",
        complaint_level="2",
        actor="a",
        now=MONDAY_9,
    )
    sent = tickets.check_sla(session, now=MONDAY_9 + 0.45 * H)
    assert [(s["clock"], s["stage"], s["role"]) for s in sent] == [
        ("first_response", "warning", "team_lead")
    ]
    assert tickets.check_sla(session, now=MONDAY_9 + 0.46 * H) == []
    later = tickets.check_sla(session, now=MONDAY_9 + H)
    assert ("first_response", "breach", "supervisor") in [
        (s["clock"], s["stage"], s["role"]) for s in later
    ]
    with pytest.raises(Conflict, match="still needs"):
        tickets.act(session, ticket_id=ticket.id, action="resolve", actor="a")
    tickets.act(session, ticket_id=ticket.id, action="escalate", target="team_lead", actor="lead")
    tickets.act(session, ticket_id=ticket.id, action="escalate", target="supervisor", actor="sup")
    tickets.act(session, ticket_id=ticket.id, action="resolve", actor="a")
    assert ticket.acknowledged == ["team_lead", "supervisor"]


def test_deferred_work_figures(setup: tuple[Session, int, int]) -> None:
    session, customer_id, _ = setup
    made = []
    for i in range(3):
        t = tickets.create_ticket(
            session,
            type="inquiry",
            subject=f"q{i}",
            customer_id=customer_id,
            queue="deferred-test",
            actor="a",
            now=MONDAY_9,
        )
        made.append(t)
    tickets.respond(session, ticket_id=made[0].id, actor="a", note="ok", now=MONDAY_9 + H)
    for t, hours in ((made[0], 2), (made[1], 60)):
        tickets.act(session, ticket_id=t.id, action="resolve", actor="a", now=MONDAY_9 + hours * H)
        tickets.act(session, ticket_id=t.id, action="close", actor="a", now=MONDAY_9 + hours * H)
    result = tickets.deferred_work(
        session, start=MONDAY_9, end=MONDAY_9 + 7 * 24 * H, queue="deferred-test"
    )
    assert result.closed == 2 and result.on_time_rate == 0.5
    assert result.backlog == 1
    assert result.first_response_s == 3600
    # made[1]: due Wed 17:00 (MONDAY_9 + 56 h), closed at MONDAY_9 + 60 h → 4 h late.
    assert result.avg_delay_s == pytest.approx(2 * 3600)


def test_link_article_counts_use(setup: tuple[Session, int, int]) -> None:
    session, customer_id, _ = setup
    article = kb.create_article(session, title="热水器E4", body="检查进水阀", author="editor")
    kb.submit_for_review(session, article_id=article.id, actor="editor")
    kb.review(session, article_id=article.id, reviewer="qa1", approve=True)
    ticket = tickets.create_ticket(
        session, type="inquiry", subject="E4", customer_id=customer_id, actor="a"
    )
    link = tickets.link_article(session, ticket_id=ticket.id, article_id=article.id, actor="a")
    assert link.version == 1 and article.uses == 1


def test_screen_pop_lists_resolved_tickets_and_sla_sweep_skips_them(
    setup: tuple[Session, int, int],
) -> None:
    """Two meanings of "open" (tickets.workflow): the screen pop shows every ticket not
    finished, a resolved one too (it awaits its verification callback), while the SLA sweep
    escalates only tickets still being worked."""
    session, customer_id, _ = setup
    made = {}
    for action in (None, "resolve", "cancel"):
        ticket = tickets.create_ticket(
            session,
            type="inquiry",
            subject=f"咨询 {action}",
            customer_id=customer_id,
            priority="urgent",
            actor="a",
            now=MONDAY_9,
        )
        if action is not None:
            tickets.act(session, ticket_id=ticket.id, action=action, actor="a", now=MONDAY_9)
        made[action] = ticket
    assert made["resolve"].state == "resolved" and made["cancel"].state == "cancelled"
    listed = [t["number"] for t in tickets.open_tickets_of(session, customer_ids=[customer_id])]
    assert listed == [made["resolve"].number, made[None].number]
    swept = {s["ticket"] for s in tickets.check_sla(session, now=MONDAY_9 + 30 * H)}
    assert swept == {made[None].number}


def test_a_stored_calendar_keeps_its_holidays_and_make_up_days(db_session: Session) -> None:
    # National Day week: the holiday closes, the make-up Saturday opens on split hours.
    calendar = BusinessCalendar.weekdays(
        "Asia/Shanghai",
        "09:00-12:00,13:00-18:00",
        saturday="09:00-12:00",
        holidays=[date(2026, 10, 1), date(2026, 10, 2)],
        working_days={date(2026, 10, 10): "09:00-12:00,13:00-17:30"},
    )
    tickets.save_calendar(db_session, name="beijing", calendar=calendar)
    loaded = tickets.load_calendar(db_session, "beijing")
    assert loaded == calendar
    assert loaded.hours_on(date(2026, 10, 1)) == ()
    assert loaded.hours_on(date(2026, 10, 10)) == ((32_400, 43_200), (46_800, 63_000))
