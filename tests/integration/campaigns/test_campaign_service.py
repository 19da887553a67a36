"""The campaigns service on SQLite and a real PostgreSQL: lists, do-not-call, consent, attempts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.campaigns import service as campaigns
from hotline.core.errors import Conflict, ValidationFailed
from hotline.crm import service as crm
from hotline.store.models.campaigns import CampaignAttempt, CampaignRecord
from hotline.store.models.core import AuditEntry

ALWAYS = {"weekdays": "00:00-24:00", "saturday": "00:00-24:00", "sunday": "00:00-24:00"}
# Wednesday 2026-12-02 10:00 in Shanghai
NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
LIST = "phone,name,model\n13812345678,Ada,KFR-35\n13912345678,Bo,KFR-50\n13712345678,Cy,\n"


def make_campaign(session: Session, **kw: object) -> campaigns.Campaign:
    options: dict[str, object] = {
        "name": "installs",
        "kind": "follow_up",
        "mode": "preview",
        "actor": "boss",
        "calling_hours": ALWAYS,
        "retry": {"max_attempts": 2, "busy": {"after_minutes": 10}},
        "script": "Was the installation done?",
    }
    options.update(kw)
    campaign = campaigns.create_campaign(session, **options)  # type: ignore[arg-type]
    return campaign


def audits(session: Session, action: str) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_a_campaign_with_bad_rules_is_refused_with_every_field_named(db_session: Session) -> None:
    with pytest.raises(ValidationFailed) as failed:
        make_campaign(
            db_session,
            kind="cold_calls",
            mode="robocall",
            calling_hours={"weekdays": "9-5"},
            retry={"busy": {"after_minutes": 0}},
        )
    assert {p.field for p in failed.value.problems} == {
        "kind",
        "mode",
        "calling_hours.weekdays",
        "retry.busy.after_minutes",
    }
    make_campaign(db_session)
    with pytest.raises(Conflict):
        make_campaign(db_session)


def test_a_list_file_goes_in_whole_or_not_at_all(db_session: Session) -> None:
    campaign = make_campaign(db_session)
    bad = LIST + "12345,Di,\n"
    with pytest.raises(ValidationFailed) as failed:
        campaigns.import_list_csv(
            db_session, campaign_id=campaign.id, text=bad, file="dec.csv", actor="boss"
        )
    assert [(p.file, p.line, p.field) for p in failed.value.problems] == [("dec.csv", 5, "phone")]
    assert campaigns.records_of(db_session, campaign_id=campaign.id) == []
    counts = campaigns.import_list_csv(
        db_session, campaign_id=campaign.id, text=LIST, file="dec.csv", actor="boss"
    )
    assert counts == {"added": 3, "blocked": 0, "already_listed": 0}
    again = campaigns.import_list_csv(
        db_session, campaign_id=campaign.id, text=LIST, file="dec.csv", actor="boss"
    )
    assert again == {"added": 0, "blocked": 0, "already_listed": 3}
    records = campaigns.records_of(db_session, campaign_id=campaign.id)
    assert [(r.phone, r.name, r.data) for r in records] == [
        ("+8613812345678", "Ada", {"model": "KFR-35"}),
        ("+8613912345678", "Bo", {"model": "KFR-50"}),
        ("+8613712345678", "Cy", {}),
    ]
    assert len(audits(db_session, "campaign.list_import")) == 2


def test_a_list_from_a_query_over_customers_and_products(db_session: Session) -> None:
    ada = crm.create_customer(db_session, name="Ada", phones=["010-6552-1234", "13812345678"])
    crm.add_product(
        db_session,
        customer_id=ada.id,
        model="KFR-35",
        category="air_conditioner",
        installed_on=date(2026, 11, 20),
    )
    bo = crm.create_customer(db_session, name="Bo", phones=["13912345678"])
    crm.add_product(
        db_session,
        customer_id=bo.id,
        model="XQG-70",
        category="washer",
        installed_on=date(2026, 11, 21),
    )
    crm.create_customer(db_session, name="No products", phones=["13712345678"])
    campaign = make_campaign(db_session)
    counts = campaigns.add_query_list(
        db_session,
        campaign_id=campaign.id,
        actor="boss",
        category="air_conditioner",
        installed_from=date(2026, 11, 1),
    )
    assert counts["added"] == 1
    [record] = campaigns.records_of(db_session, campaign_id=campaign.id)
    assert (record.phone, record.customer_id, record.data["model"]) == (
        "+8613812345678",
        ada.id,
        "KFR-35",
    )  # the mobile, not the landline


def test_a_listed_number_is_never_handed_out_and_each_refusal_is_audited(
    db_session: Session,
) -> None:
    campaign = make_campaign(db_session)
    campaigns.import_list_csv(
        db_session, campaign_id=campaign.id, text=LIST, file="l.csv", actor="boss"
    )
    campaigns.set_state(db_session, campaign_id=campaign.id, state="running", actor="boss")
    # center-wide for Ada's number, this campaign's own list for Bo's
    campaigns.add_do_not_call(db_session, number="+86 138 1234 5678", actor="boss")
    [ada] = [
        r for r in campaigns.records_of(db_session, campaign_id=campaign.id) if r.name == "Ada"
    ]
    assert ada.status == "blocked"  # listing stops waiting records at once
    ada.status = "waiting"  # as if listed behind the service's back: the claim still checks
    db_session.flush()
    campaigns.add_do_not_call(
        db_session, number="13912345678", campaign_id=campaign.id, actor="boss", reason="asked"
    )
    with pytest.raises(Conflict):
        campaigns.add_do_not_call(db_session, number="13812345678", actor="boss")
    claimed = campaigns.claim_next(db_session, campaign_id=campaign.id, agent_id="a001", now=NOW)
    assert claimed is not None and claimed.name == "Cy"
    statuses = {r.name: r.status for r in campaigns.records_of(db_session, campaign_id=campaign.id)}
    assert statuses == {"Ada": "blocked", "Bo": "blocked", "Cy": "dialling"}
    refused = audits(db_session, "campaign.dnc_refused")
    assert [(a.target, a.detail["list"], a.detail["path"]) for a in refused] == [
        ("+8613812345678", "center", "campaign")
    ]
    # other paths ask the same question: the center-wide list applies everywhere, a
    # campaign's own list only inside that campaign
    assert (
        campaigns.screen_number(
            db_session, number="13812345678", actor="a001", path="click_to_dial"
        )
        == "center"
    )
    assert (
        campaigns.screen_number(
            db_session, number="13912345678", actor="a001", path="click_to_dial"
        )
        is None
    )
    assert (
        campaigns.screen_number(
            db_session, number="13912345678", actor="a001", path="campaign", campaign_id=campaign.id
        )
        == f"campaign:{campaign.id}"
    )
    assert len(audits(db_session, "campaign.dnc_refused")) == 3


def test_results_are_attempts_and_the_retry_rules_bring_records_back(db_session: Session) -> None:
    campaign = make_campaign(db_session)
    campaigns.import_list_csv(
        db_session,
        campaign_id=campaign.id,
        text="phone\n13812345678\n",
        file="l.csv",
        actor="boss",
    )
    with pytest.raises(Conflict, match="draft"):
        campaigns.claim_next(db_session, campaign_id=campaign.id, agent_id="a001", now=NOW)
    campaigns.set_state(db_session, campaign_id=campaign.id, state="running", actor="boss")
    record = campaigns.claim_next(db_session, campaign_id=campaign.id, agent_id="a001", now=NOW)
    assert record is not None
    # the same agent asking again gets the record they hold; another agent gets none
    again = campaigns.claim_next(db_session, campaign_id=campaign.id, agent_id="a001", now=NOW)
    assert again is not None and again.id == record.id
    assert (
        campaigns.claim_next(db_session, campaign_id=campaign.id, agent_id="a002", now=NOW) is None
    )
    with pytest.raises(Conflict):
        campaigns.record_result(
            db_session, record_id=record.id, agent_id="a002", result="busy", now=NOW
        )
    campaigns.record_result(
        db_session, record_id=record.id, agent_id="a001", result="busy", now=NOW, contact_id="o-1"
    )
    assert (record.status, record.attempts) == ("waiting", 1)
    assert record.due_at == NOW + timedelta(minutes=10)
    assert (
        campaigns.claim_next(
            db_session, campaign_id=campaign.id, agent_id="a001", now=NOW + timedelta(minutes=9)
        )
        is None
    )
    later = NOW + timedelta(minutes=10)
    assert (
        campaigns.claim_next(db_session, campaign_id=campaign.id, agent_id="a001", now=later)
        is not None
    )
    campaigns.record_result(
        db_session, record_id=record.id, agent_id="a001", result="no_answer", now=later
    )
    assert (record.status, record.attempts) == ("exhausted", 2)
    attempts = list(
        db_session.scalars(
            select(CampaignAttempt)
            .where(CampaignAttempt.record_id == record.id)
            .order_by(CampaignAttempt.number)
        )
    )
    assert [(a.number, a.result, a.contact_id, a.agent_id) for a in attempts] == [
        (1, "busy", "o-1", "a001"),
        (2, "no_answer", None, "a001"),
    ]
    figures = campaigns.figures(db_session, campaign_id=campaign.id)
    assert (figures.attempts, figures.answers, figures.connects, figures.abandons) == (2, 0, 0, 0)
    assert figures.records["exhausted"] == 1


def test_calling_hours_hold_records_in_the_customers_zone(db_session: Session) -> None:
    campaign = make_campaign(db_session, calling_hours={"weekdays": "09:00-20:00"})
    campaigns.import_list_csv(
        db_session,
        campaign_id=campaign.id,
        actor="boss",
        file="l.csv",
        text="phone,name,time_zone\n13812345678,Shanghai,\n13912345678,London,Europe/London\n",
    )
    campaigns.set_state(db_session, campaign_id=campaign.id, state="running", actor="boss")
    # 02:00 UTC: 10:00 in Shanghai, 02:00 in London
    first = campaigns.claim_next(db_session, campaign_id=campaign.id, agent_id="a001", now=NOW)
    assert first is not None and first.name == "Shanghai"
    assert (
        campaigns.claim_next(db_session, campaign_id=campaign.id, agent_id="a002", now=NOW) is None
    )
    # 13:00 UTC: 21:00 in Shanghai (closed), 13:00 in London
    evening = NOW + timedelta(hours=11)
    second = campaigns.claim_next(db_session, campaign_id=campaign.id, agent_id="a002", now=evening)
    assert second is not None and second.name == "London"


def test_a_callback_the_customer_asked_for_and_do_not_call_results(db_session: Session) -> None:
    campaign = make_campaign(db_session)
    campaigns.import_list_csv(
        db_session, campaign_id=campaign.id, text=LIST, file="l.csv", actor="boss"
    )
    campaigns.set_state(db_session, campaign_id=campaign.id, state="running", actor="boss")
    first = campaigns.claim_next(db_session, campaign_id=campaign.id, agent_id="a001", now=NOW)
    assert first is not None
    wanted = NOW + timedelta(days=1)
    campaigns.record_result(
        db_session,
        record_id=first.id,
        agent_id="a001",
        result="callback_requested",
        now=NOW,
        callback_at=wanted,
    )
    assert (first.status, first.due_at) == ("waiting", wanted)
    second = campaigns.claim_next(db_session, campaign_id=campaign.id, agent_id="a001", now=NOW)
    assert second is not None and second.id != first.id
    campaigns.record_result(
        db_session, record_id=second.id, agent_id="a001", result="do_not_call", now=NOW
    )
    assert second.status == "done"
    entry = campaigns.listing(db_session, number=second.phone, campaign_id=campaign.id)
    assert entry is not None and entry.campaign_id == campaign.id
    with pytest.raises(ValidationFailed, match="result"):
        campaigns.record_result(
            db_session, record_id=first.id, agent_id="a001", result="maybe", now=NOW
        )
    figures = campaigns.figures(db_session, campaign_id=campaign.id)
    assert (figures.attempts, figures.answers, figures.connects) == (2, 2, 2)


def test_consent_is_kept_with_its_evidence_at_least_thirty_days(db_session: Session) -> None:
    consent = campaigns.record_consent(
        db_session,
        number="13812345678",
        evidence="recorded call v-42, 00:31",
        actor="a001",
        contact_id="v-42",
        callback_at=NOW + timedelta(days=1),
    )
    assert consent.keep_until - consent.recorded_at == timedelta(days=30)
    with pytest.raises(ValidationFailed, match="at least 30 days"):
        campaigns.record_consent(
            db_session, number="13812345678", evidence="x", actor="a001", keep_days=7
        )
    with pytest.raises(ValidationFailed, match="evidence"):
        campaigns.record_consent(db_session, number="13812345678", evidence=" ", actor="a001")
    assert (
        campaigns.purge_expired_consents(
            db_session, now=consent.recorded_at + timedelta(days=29), actor="system"
        )
        == 0
    )
    assert (
        campaigns.purge_expired_consents(
            db_session, now=consent.recorded_at + timedelta(days=30), actor="system"
        )
        == 1
    )
    assert campaigns.consents(db_session, number="13812345678") == []


def test_state_changes_follow_the_campaign_life(db_session: Session) -> None:
    campaign = make_campaign(db_session)
    campaigns.set_state(db_session, campaign_id=campaign.id, state="running", actor="boss")
    campaigns.set_state(db_session, campaign_id=campaign.id, state="paused", actor="boss")
    campaigns.set_state(db_session, campaign_id=campaign.id, state="finished", actor="boss")
    with pytest.raises(Conflict):
        campaigns.set_state(db_session, campaign_id=campaign.id, state="running", actor="boss")
    with pytest.raises(Conflict, match="finished"):
        campaigns.import_list_csv(
            db_session, campaign_id=campaign.id, text=LIST, file="l.csv", actor="boss"
        )
    assert db_session.scalars(select(CampaignRecord)).first() is None


def test_the_days_answers_and_abandons_are_counted_from_the_attempts(db_session: Session) -> None:
    """What a dialler restarted mid-day resumes its abandon budget from."""
    campaign = make_campaign(db_session, mode="predictive")
    campaigns.import_list_csv(
        db_session, campaign_id=campaign.id, text=LIST, file="list.csv", actor="boss"
    )
    campaigns.set_state(db_session, campaign_id=campaign.id, state="running", actor="boss")
    results = [("dialler:1", "abandoned", NOW), ("dialler:2", "completed", NOW)]
    results.append(("dialler:3", "busy", NOW))
    record_id = 0
    for holder, result, at in results:
        record = campaigns.claim_next(db_session, campaign_id=campaign.id, agent_id=holder, now=at)
        assert record is not None
        record_id = record.id
        campaigns.record_result(
            db_session, record_id=record_id, agent_id=holder, result=result, now=at
        )
    # one answered attempt from yesterday does not count
    yesterday = NOW - timedelta(days=1)
    db_session.add(
        CampaignAttempt(
            campaign_id=campaign.id,
            record_id=record_id,
            number=9,
            at=yesterday,
            mode="predictive",
            result="completed",
            answered=True,
            connected=True,
        )
    )
    db_session.flush()
    since = NOW - timedelta(hours=2)
    assert campaigns.answers_since(db_session, campaign_id=campaign.id, since=since) == (2, 1)
