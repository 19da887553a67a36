"""Field service and the work queue on SQLite and PostgreSQL: dispatch, the provider's steps,
figures, filters and paging, bulk assign, saved views, and the live announcement."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, sessionmaker

from hotline.config.center import ServiceProviderConfig, TicketCategory, TicketTypeCategories
from hotline.core.calendar import BusinessCalendar
from hotline.core.errors import Conflict, NotFound, ValidationFailed
from hotline.crm import service as crm
from hotline.store.models.core import AuditEntry
from hotline.store.models.tickets import Ticket, TicketEvent
from hotline.tickets import field_service, work_queue
from hotline.tickets import service as tickets
from hotline.web.events import EventHub
from hotline.web.ticket_feed import announce_ticket_changes

MONDAY_9 = datetime(2026, 11, 23, 9, tzinfo=UTC)
H = timedelta(hours=1)
PROVIDERS = [
    ServiceProviderConfig(
        code="hf-anjia", name="安家", regions=["hefei"], categories=["water_heater"], capacity=2
    ),
    ServiceProviderConfig(code="cd-tianfu", name="天府", regions=["chengdu"], capacity=5),
]


@pytest.fixture
def desk(db_session: Session) -> tuple[Session, int]:
    tickets.save_calendar(
        db_session, name="default", calendar=BusinessCalendar.weekdays("UTC", "09:00-17:00")
    )
    customer = crm.create_customer(db_session, name="张伟", phones=["13812345678"], actor="a")
    product = crm.add_product(
        db_session,
        customer_id=customer.id,
        model="JSQ25-13",
        category="water_heater",
        warranty_until=date(2027, 1, 1),
    )
    return db_session, product.id


def _repair(session: Session, product_id: int | None = None, **extra: Any) -> int:
    fields: dict[str, Any] = {"region": "hefei", "category": "water_heater"} | extra
    ticket = tickets.create_ticket(
        session,
        type=fields.pop("type", "repair"),
        subject="热水器不加热",
        product_id=product_id,
        actor="agent7",
        now=fields.pop("now", MONDAY_9),
        **fields,
    )
    return ticket.id


def _dispatch(session: Session, ticket_id: int, provider: str = "hf-anjia") -> None:
    field_service.dispatch_order(
        session,
        ticket_id=ticket_id,
        provider=provider,
        providers=PROVIDERS,
        appointment_from=MONDAY_9 + 24 * H,
        appointment_to=MONDAY_9 + 26 * H,
        actor="disp1",
        now=MONDAY_9 + H,
    )


def test_create_dispatch_visit_verify_close_with_the_providers_figures(
    desk: tuple[Session, int],
) -> None:
    session, product_id = desk
    ticket_id = _repair(session, product_id)
    ticket = tickets.get_ticket(session, ticket_id=ticket_id)
    assert ticket.product_model == "JSQ25-13" and ticket.warranty
    fits = field_service.suggest(session, ticket_id=ticket_id, providers=PROVIDERS)
    assert [(f.code, f.eligible) for f in fits] == [("hf-anjia", True), ("cd-tianfu", False)]
    with pytest.raises(Conflict, match="does not serve region hefei"):
        _dispatch(session, ticket_id, "cd-tianfu")
    _dispatch(session, ticket_id)
    assert ticket.state == "dispatched" and ticket.appointment_from == MONDAY_9 + 24 * H
    # Another provider learns nothing of this order; the right one must accept first.
    with pytest.raises(NotFound):
        field_service.accept(session, ticket_id=ticket_id, provider="cd-tianfu", actor="x")
    with pytest.raises(Conflict, match="accept work order"):
        field_service.report_visit(
            session,
            ticket_id=ticket_id,
            provider="hf-anjia",
            arrived_at=MONDAY_9 + 25 * H,
            fault_found="加热管烧坏",
            parts=["加热管"],
            fixed=True,
            actor="anjia1",
        )
    field_service.accept(session, ticket_id=ticket_id, provider="hf-anjia", actor="anjia1")
    with pytest.raises(Conflict, match="already accepted"):
        field_service.accept(session, ticket_id=ticket_id, provider="hf-anjia", actor="anjia1")
    with pytest.raises(Conflict, match="report the fix first"):
        field_service.submit_claim(
            session, ticket_id=ticket_id, provider="hf-anjia", parts=["x"], amount_yuan=1, actor="a"
        )
    field_service.report_visit(
        session,
        ticket_id=ticket_id,
        provider="hf-anjia",
        arrived_at=MONDAY_9 + 25 * H,  # inside the 24-26 h window
        fault_found="加热管烧坏",
        parts=["加热管"],
        fixed=True,
        actor="anjia1",
        now=MONDAY_9 + 27 * H,
    )
    assert ticket.state == "resolved"
    field_service.submit_claim(
        session,
        ticket_id=ticket_id,
        provider="hf-anjia",
        parts=["加热管"],
        amount_yuan=120,
        actor="anjia1",
    )
    assert ticket.claim_status == "pending"
    with pytest.raises(Conflict, match="already submitted"):
        field_service.submit_claim(
            session, ticket_id=ticket_id, provider="hf-anjia", parts=["x"], amount_yuan=1, actor="a"
        )
    assert tickets.close_blockers_of(session, ticket_id=ticket_id) == [
        "repair orders need a verification callback before closing"
    ]
    tickets.record_verification(
        session,
        ticket_id=ticket_id,
        actor="agent7",
        reached=True,
        customer_confirmed=True,
        part_replaced=True,
        part_matches_fault=True,
        now=MONDAY_9 + 30 * H,
    )
    tickets.act(session, ticket_id=ticket_id, action="close", actor="agent7")
    assert ticket.state == "closed" and ticket.claim_status == "accepted"
    figures = field_service.figures(session, providers=["hf-anjia", "cd-tianfu"])
    assert figures["hf-anjia"].first_visit_fix_rate == 1.0
    assert figures["hf-anjia"].on_time_rate == 1.0
    assert figures["cd-tianfu"].visits == 0
    actions = [e.action for e in tickets.history(session, ticket_id=ticket_id)]
    assert actions == [
        "create",
        "dispatch",
        "provider_accept",
        "provider_completed",
        "claim_submitted",
        "verify",
        "close",
    ]
    audited = session.scalars(
        select(AuditEntry.action).where(AuditEntry.target == f"ticket:{ticket.number}")
    ).all()
    assert {"ticket.dispatch", "ticket.provider_accept", "ticket.claim_submitted"} <= set(audited)


def test_capacity_counts_open_orders_and_reassigning_frees_the_old_provider(
    desk: tuple[Session, int],
) -> None:
    session, _ = desk
    first, second, third = (_repair(session) for _ in range(3))
    _dispatch(session, first)
    _dispatch(session, second)
    assert field_service.open_loads(session) == {"hf-anjia": 2}
    with pytest.raises(Conflict, match=r"is full \(2 of 2 open\)"):
        _dispatch(session, third)
    # Re-dispatching an order it already holds does not count it twice.
    _dispatch(session, second)
    # Reassign the first one elsewhere: the region changes with it, the load moves.
    field_service.dispatch_order(
        session,
        ticket_id=first,
        provider="cd-tianfu",
        providers=PROVIDERS,
        region="chengdu",
        appointment_from=MONDAY_9 + 24 * H,
        appointment_to=MONDAY_9 + 26 * H,
        actor="disp1",
    )
    assert field_service.open_loads(session) == {"hf-anjia": 1, "cd-tianfu": 1}
    event = tickets.history(session, ticket_id=first)[-1]
    assert event.data["reassigned_from"] == "hf-anjia"
    _dispatch(session, third)


def test_dispatch_refuses_a_bad_window_and_non_field_work(desk: tuple[Session, int]) -> None:
    session, _ = desk
    ticket_id = _repair(session)
    with pytest.raises(ValidationFailed) as failed:
        field_service.dispatch_order(
            session,
            ticket_id=ticket_id,
            provider="hf-anjia",
            providers=PROVIDERS,
            appointment_from=MONDAY_9 + 2 * H,
            appointment_to=MONDAY_9 + H,
            actor="d",
        )
    assert [p.field for p in failed.value.problems] == ["appointment_to"]
    inquiry = _repair(session, type="inquiry")
    with pytest.raises(Conflict, match="only repair and installation"):
        _dispatch(session, inquiry)
    with pytest.raises(NotFound, match="not in the center configuration"):
        _dispatch(session, ticket_id, "nobody")


def test_a_visit_that_does_not_fix_keeps_the_order_open_and_counts_against_first_visit_fix(
    desk: tuple[Session, int],
) -> None:
    session, _ = desk
    ticket_id = _repair(session)
    _dispatch(session, ticket_id)
    field_service.accept(session, ticket_id=ticket_id, provider="hf-anjia", actor="anjia1")
    visit: dict[str, Any] = dict(
        ticket_id=ticket_id, provider="hf-anjia", fault_found="主板", actor="anjia1"
    )
    field_service.report_visit(
        session, arrived_at=MONDAY_9 + 30 * H, parts=[], fixed=False, **visit
    )
    assert tickets.get_ticket(session, ticket_id=ticket_id).state == "dispatched"
    field_service.report_visit(
        session, arrived_at=MONDAY_9 + 50 * H, parts=["主板"], fixed=True, **visit
    )
    figures = field_service.figures(session, providers=["hf-anjia"])["hf-anjia"]
    assert (figures.work_orders, figures.visits, figures.first_visit_fixes) == (1, 2, 0)
    assert figures.on_time_rate == 0.0  # both outside the 24-26 h window


def test_the_work_queue_filters_sorts_and_pages_in_the_database(
    desk: tuple[Session, int],
) -> None:
    session, product_id = desk
    now = MONDAY_9 + 200 * H
    late = _repair(session, product_id, now=MONDAY_9)  # due long before ``now``
    fresh = [_repair(session, now=now - H, priority="low") for _ in range(4)]
    waiting = _repair(session, now=now - H, region="chengdu")
    tickets.act(session, ticket_id=waiting, action="start", actor="a", now=now - H)
    tickets.act(session, ticket_id=waiting, action="wait_customer", actor="a", now=now - H)
    _dispatch(session, fresh[0])
    done = _repair(session, now=now - H)
    tickets.act(session, ticket_id=done, action="cancel", actor="a", now=now - H)

    def ids(**wanted: Any) -> list[int]:
        sort = wanted.pop("sort", "sla")
        page = work_queue.search(
            session, wanted=work_queue.QueueFilter(**wanted), now=now, sort=sort
        )
        return [t.id for t in page.tickets]

    every = ids()
    assert every[0] == late and done not in every and len(every) == 6
    assert ids(sla=("breached",)) == [late]
    assert ids(sla=("paused",)) == [waiting]
    assert ids(providers=("hf-anjia",)) == [fresh[0]]
    assert ids(product="JSQ25") == [late]
    assert ids(product="JSQ%") == []  # a pattern character is only a character
    assert ids(regions=("chengdu",)) == [waiting]
    assert ids(min_age_hours=100) == [late]
    assert ids(states=("cancelled",)) == [done]
    assert ids(sort="newest")[0] == waiting
    assert set(ids(visible_queues=(), visible_assignees=("nobody",))) == set()
    page = work_queue.search(
        session, wanted=work_queue.QueueFilter(), now=now, sort="oldest", offset=4, limit=4
    )
    assert page.total == 6 and len(page.tickets) == 2 and not page.capped
    # The count stops ``count_cap`` tickets past the page and says there are more.
    page = work_queue.search(
        session, wanted=work_queue.QueueFilter(), now=now, limit=2, count_cap=3
    )
    assert (page.total, page.capped, len(page.tickets)) == (3, True, 2)
    page = work_queue.search(
        session, wanted=work_queue.QueueFilter(), now=now, offset=2, limit=2, count_cap=3
    )
    assert (page.total, page.capped) == (5, True)
    page = work_queue.search(
        session, wanted=work_queue.QueueFilter(), now=now, offset=3, limit=2, count_cap=3
    )
    assert (page.total, page.capped) == (6, False)
    # Tickets without a resolution target come after the others, by id, across pages.
    for untimed in fresh[1:3]:
        session.get_one(Ticket, untimed).due_at = None
    session.flush()
    order = ids()
    assert order[-2:] == fresh[1:3] and set(order) == set(every)

    def paged(offset: int, limit: int) -> list[int]:
        page = work_queue.search(
            session, wanted=work_queue.QueueFilter(), now=now, offset=offset, limit=limit
        )
        return [t.id for t in page.tickets]

    assert paged(0, 4) + paged(4, 4) == order
    assert paged(3, 3) == order[3:6] and paged(5, 4) == order[5:]
    assert [t.id for t in work_queue.open_complaints(session)] == []
    with pytest.raises(Conflict, match="unknown SLA filter"):
        ids(sla=("late",))


def test_bulk_assign_assigns_what_it_may_and_says_why_not_for_the_rest(
    desk: tuple[Session, int],
) -> None:
    session, _ = desk
    a, b = _repair(session), _repair(session)
    tickets.act(session, ticket_id=b, action="cancel", actor="x")
    outcome = work_queue.bulk_assign(
        session, ticket_ids=[a, b, 999_999], assignee="a002", actor="lead"
    )
    assert outcome[a] is None
    assert "cannot assign a ticket that is cancelled" in str(outcome[b])
    assert "does not exist" in str(outcome[999_999])
    assert tickets.get_ticket(session, ticket_id=a).assignee == "a002"
    assert tickets.get_ticket(session, ticket_id=b).assignee is None


def test_saved_views_are_per_person(desk: tuple[Session, int]) -> None:
    session, _ = desk
    view = work_queue.save_view(session, username="lead", name="超时", filters={"sla": "breached"})
    work_queue.save_view(session, username="lead", name="超时", filters={"sla": "paused"})
    assert [(v.name, v.filters) for v in work_queue.saved_views(session, username="lead")] == [
        ("超时", {"sla": "paused"})
    ]
    assert work_queue.saved_views(session, username="other") == []
    with pytest.raises(NotFound):
        work_queue.delete_view(session, username="other", view_id=view.id)
    work_queue.delete_view(session, username="lead", view_id=view.id)
    assert work_queue.saved_views(session, username="lead") == []


def test_internal_notes_leave_the_clocks_and_replies_move_them(
    desk: tuple[Session, int],
) -> None:
    session, _ = desk
    ticket_id = _repair(session)
    tickets.add_note(session, ticket_id=ticket_id, actor="a", note="配件已订", internal=True)
    ticket = tickets.get_ticket(session, ticket_id=ticket_id)
    assert ticket.first_response_at is None and ticket.state == "new"
    tickets.add_note(session, ticket_id=ticket_id, actor="a", note="您好", internal=False)
    assert ticket.first_response_at is not None and ticket.state == "open"
    notes = session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
    ).all()
    assert [(e.action, e.data.get("internal")) for e in notes][1:] == [
        ("note", True),
        ("update", None),
    ]


def test_committed_ticket_changes_are_announced_and_rolled_back_ones_are_not(
    desk: tuple[Session, int], session_factory: sessionmaker[Session]
) -> None:
    session, _ = desk
    ticket_id = _repair(session)
    session.commit()
    published: list[dict[str, Any]] = []
    hub = EventHub()
    hub.publish_threadsafe = published.append  # type: ignore[assignment]
    announce_ticket_changes(session_factory, hub)
    with session_factory() as other:
        tickets.add_note(other, ticket_id=ticket_id, actor="a", note="x", internal=True)
        other.rollback()
        assert published == []
        tickets.add_note(other, ticket_id=ticket_id, actor="a", note="y", internal=True)
        other.commit()
    assert published == [{"type": "tickets_changed", "ids": [ticket_id]}]


def test_warranty_is_decided_from_installation_or_purchase_date(
    desk: tuple[Session, int],
) -> None:
    session, _ = desk
    schema = [
        TicketTypeCategories(
            type="repair", categories=[TicketCategory(id="water_heater", warranty_months=36)]
        )
    ]
    customer = crm.create_customer(session, name="李娜", phones=["13900001111"], actor="a")

    def ticket_for(
        purchased_on: date | None = None,
        installed_on: date | None = None,
        warranty_until: date | None = None,
    ) -> Any:
        product = crm.add_product(
            session,
            customer_id=customer.id,
            model="JSQ30",
            category="water_heater",
            purchased_on=purchased_on,
            installed_on=installed_on,
            warranty_until=warranty_until,
        )
        return tickets.create_ticket(
            session,
            type="repair",
            subject="不加热",
            product_id=product.id,
            category="water_heater",
            actor="a001",
            now=MONDAY_9,  # 2026-11-23
            schema=schema,
        )

    # Bought four years ago but installed two years ago: the warranty runs from installation.
    installed = ticket_for(purchased_on=date(2022, 11, 1), installed_on=date(2024, 11, 1))
    assert installed.warranty
    reason = tickets.history(session, ticket_id=installed.id)[0].data["warranty"]
    assert reason == "36 months from installation on 2024-11-01"
    assert not ticket_for(purchased_on=date(2023, 11, 1)).warranty  # 36 months ended 2026-11-01
    assert ticket_for(purchased_on=date(2023, 11, 30)).warranty
    # A recorded end date wins over the category's period; no dates at all, no warranty.
    assert not ticket_for(installed_on=date(2026, 1, 1), warranty_until=date(2026, 6, 30)).warranty
    assert not ticket_for().warranty


def test_link_and_merge_keep_both_histories(desk: tuple[Session, int]) -> None:
    session, _ = desk
    first, second, duplicate = _repair(session), _repair(session), _repair(session)
    tickets.link_tickets(session, ticket_id=first, other_id=second, actor="a")
    with pytest.raises(Conflict, match="already linked"):
        tickets.link_tickets(session, ticket_id=second, other_id=first, actor="a")
    with pytest.raises(Conflict, match="itself"):
        tickets.link_tickets(session, ticket_id=first, other_id=first, actor="a")
    assert tickets.linked_ids(session, ticket_id=second) == [first]
    tickets.merge_ticket(session, ticket_id=duplicate, into_id=first, actor="lead")
    merged = tickets.get_ticket(session, ticket_id=duplicate)
    survivor = tickets.get_ticket(session, ticket_id=first)
    assert merged.state == "cancelled"
    assert (
        tickets.history(session, ticket_id=duplicate)[-1].note == f"merged into {survivor.number}"
    )
    assert tickets.linked_ids(session, ticket_id=first) == [second, duplicate]
    assert tickets.linked_ids(session, ticket_id=duplicate) == [first]
    with pytest.raises(Conflict, match="merge into an open one"):
        tickets.merge_ticket(session, ticket_id=second, into_id=duplicate, actor="lead")


def test_one_regions_repairs_are_read_from_their_own_index(sqlite_engine: Engine) -> None:
    """The work queue's region view ("chengdu's repairs", in SLA order) is answered from
    (region, type, state, due_at) on SQLite (migration workqueue2_0001): with (region,
    state) alone it read each of the region's open tickets to keep its type and sort
    (≈ 1 s p95 among 2 million tickets in bench/pages.py)."""
    asked: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "due_at IS NOT NULL" in statement and statement.lstrip().startswith("SELECT"):
            asked.append((statement, parameters))

    with sqlite_engine.connect() as connection:
        event.listen(connection, "before_cursor_execute", keep)
        with Session(bind=connection) as session:
            work_queue.search(
                session,
                wanted=work_queue.QueueFilter(regions=("chengdu",), types=("repair",)),
                now=MONDAY_9,
            )
        event.remove(connection, "before_cursor_execute", keep)
        assert asked, "the SLA-ordered page was not asked with a due time"
        statement, parameters = asked[0]
        raw = connection.connection.driver_connection
        assert raw is not None
        plan = " ".join(
            str(row[-1]) for row in raw.execute("EXPLAIN QUERY PLAN " + statement, parameters)
        )
    assert "ix_tickets_region_type_state_due" in plan, plan
    assert "SCAN tickets" not in plan, plan


def test_fault_statistics_per_model_with_repeats_first_visit_fixes_and_months(
    desk: tuple[Session, int],
) -> None:
    """The product units' figures: a repair of a serial repaired 44 days before is a repeat
    (the earlier one before the period), the technician's finding is the fault category
    (the desk's custom field ``fault`` where no visit was reported), and the first visit
    decides the first-visit fix."""
    session, _ = desk
    owner = crm.create_customer(session, name="李娜", phones=["13912345678"], actor="a")

    def heater(serial: str) -> int:
        return crm.add_product(
            session,
            customer_id=owner.id,
            model="JSQ25-13",
            serial_number=serial,
            category="water_heater",
            warranty_until=date(2027, 1, 1),
        ).id

    first, second = heater("SN-0001"), heater("SN-0002")
    _repair(session, first, now=MONDAY_9 - timedelta(days=44))  # October: before the period
    again = _repair(session, first)
    other = _repair(session, second, now=MONDAY_9 + H)
    washer = crm.add_product(session, customer_id=owner.id, model="XQB70", category="washer")
    _repair(
        session, washer.id, category="washer", custom_fields={"fault": "漏水"}, now=MONDAY_9 + 2 * H
    )
    for ticket_id, outcomes in (
        (again, [("温控器", [], False), ("加热管烧坏", ["加热管"], True)]),
        (other, [("加热管烧坏", ["加热管", "密封圈"], True)]),
    ):
        _dispatch(session, ticket_id)
        field_service.accept(session, ticket_id=ticket_id, provider="hf-anjia", actor="anjia1")
        for hours, (fault, parts, fixed) in enumerate(outcomes, start=25):
            field_service.report_visit(
                session,
                ticket_id=ticket_id,
                provider="hf-anjia",
                arrived_at=MONDAY_9 + hours * H,
                fault_found=fault,
                parts=parts,
                fixed=fixed,
                actor="anjia1",
            )
    november = tickets.fault_statistics(
        session,
        start=datetime(2026, 11, 1, tzinfo=UTC),
        end=datetime(2026, 12, 1, tzinfo=UTC),
    )
    heaters, washers = november
    assert (heaters.product_line, heaters.model, heaters.repairs) == ("water_heater", "JSQ25-13", 2)
    assert heaters.repeat_repairs == 1
    assert heaters.first_visit_fix_rate == 0.5
    assert heaters.faults == {"加热管烧坏": 2}
    assert heaters.parts == {"加热管": 2, "密封圈": 1}
    assert heaters.monthly == {"2026-11": 2}
    assert (washers.product_line, washers.model, washers.repairs) == ("washer", "XQB70", 1)
    assert washers.faults == {"漏水": 1} and washers.first_visit_fix_rate is None
    # From October on, the earlier repair counts too and is no repeat itself.
    autumn = tickets.fault_statistics(
        session, start=datetime(2026, 10, 1, tzinfo=UTC), end=datetime(2026, 12, 1, tzinfo=UTC)
    )
    assert (autumn[0].repairs, autumn[0].repeat_repairs) == (3, 1)
    assert autumn[0].monthly == {"2026-10": 1, "2026-11": 2}
    assert autumn[0].faults == {"加热管烧坏": 2, "unreported": 1}
