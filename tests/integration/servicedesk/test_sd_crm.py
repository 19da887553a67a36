"""Customers on SQLite and PostgreSQL: screen pop, merge and undo, all-or-nothing CSV import."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.core.errors import Conflict, ValidationFailed
from hotline.crm import service as crm
from hotline.desk import customers as desk
from hotline.store.models.core import AuditEntry
from hotline.store.models.crm import Customer, CustomerContact
from hotline.tickets import service as tickets


def test_screen_pop_by_any_form_of_the_number(db_session: Session) -> None:
    customer = crm.create_customer(
        db_session,
        name="张伟",
        phones=["138 1234 5678", "010-65521234"],
        addresses=["北京市朝阳区建国路88号1201室"],
        actor="agent7",
    )
    crm.add_product(
        db_session,
        customer_id=customer.id,
        model="JSQ25-13",
        serial_number="SN0001",
        warranty_until=date(2027, 1, 1),
    )
    for day in (1, 2, 3):
        crm.record_contact(
            db_session,
            customer_id=customer.id,
            channel="voice",
            at=datetime(2026, 11, day, 10, tzinfo=UTC),
            summary=f"call {day}",
        )
    ticket = tickets.create_ticket(
        db_session, type="repair", subject="不加热", customer_id=customer.id, actor="agent7"
    )
    for calling in ("+8613812345678", "013812345678", "0086 138 1234 5678"):
        pop = desk.screen_pop(db_session, calling_number=calling)
        assert [c["name"] for c in pop.customers] == ["张伟"]
        assert [p["serial_number"] for p in pop.products] == ["SN0001"]
        assert [c["summary"] for c in pop.last_contacts] == ["call 3", "call 2", "call 1"]
        assert [t["number"] for t in pop.open_tickets] == [ticket.number]
    local = desk.screen_pop(db_session, calling_number="65521234", default_area_code="010")
    assert local.customers[0]["id"] == customer.id
    masked = desk.screen_pop(db_session, calling_number="13812345678", masked=True)
    assert masked.customers[0]["name"] == "张*"
    assert desk.screen_pop(db_session, calling_number="13900000000").customers == []
    assert desk.screen_pop(db_session, calling_number="not a number").e164 is None


def test_merge_moves_everything_and_undo_restores_it(db_session: Session) -> None:
    old = crm.create_customer(db_session, name="陈静", phones=["13800000001"], actor="a")
    new = crm.create_customer(db_session, name="陳靜", phones=["18600000002"], actor="a")
    crm.record_contact(db_session, customer_id=new.id, channel="chat", summary="on chat")
    crm.add_product(db_session, customer_id=new.id, model="KFR-35")
    ticket = tickets.create_ticket(
        db_session, type="inquiry", subject="发票", customer_id=new.id, actor="a"
    )
    merge = desk.merge_customers(db_session, survivor_id=old.id, merged_id=new.id, actor="lead1")
    assert merge.moved["phones"] and merge.moved["products"] and merge.moved["tickets"]
    pop = desk.screen_pop(db_session, calling_number="18600000002")
    assert [c["id"] for c in pop.customers] == [old.id]
    assert [p["model"] for p in pop.products] == ["KFR-35"]
    assert db_session.get(Customer, new.id).merged_into_id == old.id  # type: ignore[union-attr]
    assert crm.get_customer(db_session, customer_id=new.id).id == old.id
    assert tickets.get_ticket(db_session, ticket_id=ticket.id).customer_id == old.id
    with pytest.raises(Conflict, match="already merged"):
        desk.merge_customers(db_session, survivor_id=old.id, merged_id=new.id, actor="lead1")

    desk.undo_merge(db_session, merge_id=merge.id, actor="lead1")
    assert desk.screen_pop(db_session, calling_number="18600000002").customers[0]["id"] == new.id
    assert tickets.get_ticket(db_session, ticket_id=ticket.id).customer_id == new.id
    contacts = db_session.scalars(
        select(CustomerContact.customer_id).where(CustomerContact.summary == "on chat")
    ).all()
    assert contacts == [new.id]
    with pytest.raises(Conflict, match="already undone"):
        desk.undo_merge(db_session, merge_id=merge.id, actor="lead1")
    actions = db_session.scalars(
        select(AuditEntry.action).where(AuditEntry.action.like("customer.merge%"))
    ).all()
    assert sorted(actions) == ["customer.merge", "customer.merge_undo"]


def test_new_customer_is_checked_against_existing_ones(db_session: Session) -> None:
    old = crm.create_customer(
        db_session, name="陈静", phones=["13800000001"], addresses=["徐汇区中山路12号303室"]
    )
    crm.create_customer(db_session, name="陈敏", phones=["13800000009"], actor="a")
    new = crm.create_customer(
        db_session, name="陳靜", phones=["18600000002"], addresses=["上海市徐汇区中山路12號303"]
    )
    found = crm.likely_duplicates_of(db_session, customer_id=new.id)
    assert [(p.left, p.right) for p in found] == [(old.id, new.id)]
    assert "address_same" in found[0].reasons
    stranger = crm.create_customer(db_session, name="赵强", phones=["13900000003"])
    assert crm.likely_duplicates_of(db_session, customer_id=stranger.id) == []


def test_duplicate_report_finds_planted_pair(db_session: Session) -> None:
    a = crm.create_customer(db_session, name="刘洋", phones=["13911112222"], actor="a")
    b = crm.create_customer(db_session, name="刘阳", phones=["+86 139-1111-2222"], actor="a")
    crm.create_customer(db_session, name="刘敏", phones=["13711112222"], actor="a")
    report = crm.duplicate_report(db_session)
    assert [a.id, b.id] in report.clusters
    assert report.duplication_rate > 0


CUSTOMERS_CSV = """name,phones,emails,address,site,vip_level
王芳,13800000011;010-65520011,wf@example.cn,北京市东城区和平路1号,bj,1
李娜,+86 139 0000 0022,,上海市静安区新华路2号,sh,0
"""


def test_csv_import_is_all_or_nothing_with_located_errors(db_session: Session) -> None:
    before = db_session.scalar(select(func.count()).select_from(Customer))
    bad = CUSTOMERS_CSV + "赵强,12345,,,,x\n,13800000011,,,,\n"
    with pytest.raises(ValidationFailed) as failure:
        crm.import_customers_csv(db_session, text=bad, file="c.csv")
    messages = [str(p) for p in failure.value.problems]
    assert any(m.startswith("c.csv:4: phones:") for m in messages)
    assert any(m.startswith("c.csv:4: vip_level:") for m in messages)
    assert any(m.startswith("c.csv:5: name:") for m in messages)
    assert any("repeats line 2" in m for m in messages)
    assert db_session.scalar(select(func.count()).select_from(Customer)) == before

    ids = crm.import_customers_csv(db_session, text=CUSTOMERS_CSV, file="c.csv")
    assert len(ids) == 2
    products = (
        "customer_phone,model,serial_number,warranty_until\n13800000011,JSQ25,S1,2027-05-01\n"
    )
    with pytest.raises(ValidationFailed, match=r"p\.csv:2: warranty_until"):
        crm.import_products_csv(
            db_session, text=products.replace("2027-05-01", "2027-13-01"), file="p.csv"
        )
    with pytest.raises(ValidationFailed, match="no customer has phone"):
        crm.import_products_csv(db_session, text=products.replace("13800000011", "13800000099"))
    (product_id,) = crm.import_products_csv(db_session, text=products, file="p.csv")
    pop = desk.screen_pop(db_session, calling_number="13800000011")
    assert pop.products[0]["id"] == product_id


def test_missing_column_is_reported(db_session: Session) -> None:
    with pytest.raises(ValidationFailed, match="missing column 'name'"):
        crm.import_customers_csv(db_session, text="phones\n13800000000\n", file="x.csv")


def test_search_by_name_in_pinyin_or_either_script_ticket_and_serial(db_session: Session) -> None:
    zhang = crm.create_customer(db_session, name="张伟", phones=["13800000001"], actor="t")
    traditional = crm.create_customer(db_session, name="張偉明", phones=["13800000002"], actor="t")
    crm.create_customer(db_session, name="章小伟", phones=["13800000003"], actor="t")
    crm.create_customer(db_session, name="Zhang Lan", phones=["13800000004"], actor="t")
    product = crm.add_product(
        db_session,
        customer_id=zhang.id,
        model="JSQ25",
        category="water_heater",
        serial_number="SN7788",
    )
    db_session.flush()

    def found(text: str) -> list[str]:
        return [c.name for c in crm.search_customers(db_session, text=text)]

    assert found("zhangwei") == ["张伟", "張偉明"]  # pinyin, from the name's start
    assert found("Zhang Wei") == found("ZHANGWEI") == ["张伟", "張偉明"]
    assert found("zhang") == ["张伟", "張偉明", "章小伟", "Zhang Lan"]  # 章 reads zhang too
    assert found("張偉") == found("张伟") == ["张伟", "張偉明"]  # either script
    assert found("SN7788") == ["张伟"]
    assert product.customer_id == zhang.id and traditional.name_pinyin == "zhangweiming"


def test_the_pinyin_migration_fills_existing_customers(tmp_path: Path) -> None:
    from alembic import command
    from sqlalchemy import text

    from hotline.store.db import make_engine
    from hotline.store.migrate import alembic_config, upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine)
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "customersearch@-1")
        connection.execute(
            text(
                "INSERT INTO customers (id, name, name_folded, kind, vip_level, language, note, "
                "created_at, updated_at) VALUES (1, '劉德華', '刘德华', 'person', 0, 'zh-CN', '', "
                "'2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000')"
            )
        )
    upgrade(engine)
    with engine.connect() as connection:
        keys = connection.execute(text("SELECT name_pinyin FROM customers")).scalars().all()
    assert keys == ["liudehua"]
    engine.dispose()
