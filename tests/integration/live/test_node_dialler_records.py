"""Two voice nodes' diallers on one campaign, and a node lost mid-call, on real PostgreSQL.

Two diallers claiming at the same moment never get the same record (``claim_next`` locks
what it scans and skips what another claimer holds: without that both would read the record
waiting and both write their claim). The records a lost node's calls held are kept as
``failed`` attempts once (the retry rules bring them back; none stays held — a new owner
gives back what a lost node held if the owner that wrote the loss died first), and a new owner
finds the agents lent to voice nodes from the log (``lent_to``); a node starting folds the
callers already waiting into its floor.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from hotline.campaigns import service as campaigns
from hotline.core.events import Event, EventKind
from hotline.live.dialler_lends import (
    DiallerLends,
    give_back_lost_records,
    give_back_records,
    holder_prefix,
)
from hotline.live.failover_drill import fresh_database
from hotline.live.log_floor import LogFloor
from hotline.store import event_log, voice_nodes
from hotline.store.db import make_engine, make_session_factory
from hotline.store.models.campaigns import CampaignAttempt, CampaignRecord
from hotline.store.models.voice_nodes import VoiceNodeRow
from hotline.telephony.node_dialler import OwnerLending, seed_floor
from tests.conftest import postgres_url


class _Outbox:
    node = "voice-a"
    presence = type("Presence", (), {"node_id": "run-a"})


ALWAYS = {"weekdays": "00:00-23:59", "saturday": "00:00-23:59", "sunday": "00:00-23:59"}


def test_two_nodes_claim_apart_a_lost_nodes_records_come_back_and_lends_are_seeded() -> None:
    url = postgres_url()
    if not url:
        pytest.skip("no PostgreSQL test server (HOTLINE_TEST_POSTGRES_URL); `make test` starts one")
    with fresh_database(url) as database_url:
        engine = make_engine(database_url)
        factory = make_session_factory(engine)
        try:
            now = datetime.now(UTC)
            with factory() as session:
                campaign = campaigns.create_campaign(
                    session,
                    name="installs",
                    kind="follow_up",
                    mode="progressive",
                    actor="boss",
                    calling_hours=ALWAYS,
                    agents=["a001"],
                )
                campaigns.import_list_csv(
                    session,
                    campaign_id=campaign.id,
                    text="phone\n13800000001\n13800000002\n13800000003\n",
                    file="list.csv",
                    actor="boss",
                )
                campaigns.set_state(session, campaign_id=campaign.id, state="running", actor="boss")
                session.commit()
                campaign_id = campaign.id
            node_a, node_b = holder_prefix("run-a"), holder_prefix("run-b")

            # Node A claims and has not committed yet when node B claims.
            first = factory()
            mine = campaigns.claim_next(
                first, campaign_id=campaign_id, agent_id=f"{node_a}:d-1", now=now
            )
            assert mine is not None

            def claim_on_b() -> int | None:
                with factory() as session:
                    record = campaigns.claim_next(
                        session, campaign_id=campaign_id, agent_id=f"{node_b}:d-2", now=now
                    )
                    session.commit()
                    return None if record is None else int(record.id)

            with ThreadPoolExecutor(1) as pool:
                theirs = pool.submit(claim_on_b)
                # without the skip, B would wait for A's row lock and then claim it too
                other = theirs.result(timeout=10)
                first.commit()
            first.close()
            assert other is not None and other != mine.id, "one record, one claimer"

            # Node B is lost with its call: the record comes back as a failed attempt, once.
            assert give_back_records(factory, "run-b") == [other]
            assert give_back_records(factory, "run-b") == []
            with factory() as session:
                attempts = session.scalars(
                    select(CampaignAttempt).where(CampaignAttempt.record_id == other)
                ).all()
                assert [(a.result, a.answered, a.connected) for a in attempts] == [
                    ("failed", False, False)
                ]
                records = {
                    r.id: (r.status, r.held_by)
                    for r in session.scalars(
                        select(CampaignRecord).where(CampaignRecord.campaign_id == campaign_id)
                    )
                }
            assert records[other] == ("waiting", None)  # the retry rules bring it back
            assert records[mine.id] == ("dialling", f"{node_a}:d-1")  # node A's, untouched

            # Node A was declared lost by an owner that died before giving its records back:
            # the next owner does at its start; a one-process dialler's record is left alone.
            with factory() as session:
                alone = campaigns.claim_next(
                    session, campaign_id=campaign_id, agent_id="dialler:d-9", now=now
                )
                session.commit()
                assert alone is not None
            voice_nodes.register(
                factory, node_id="run-a", name="voice-a", partition="hefei", sip="x", ttl_s=3.0
            )
            with factory() as session:
                session.execute(
                    update(VoiceNodeRow).where(VoiceNodeRow.id == "run-a").values(lost_at=1.0)
                )
                session.commit()
            assert give_back_lost_records(factory) == [mine.id]
            assert give_back_lost_records(factory) == []
            with factory() as session:
                assert session.get(CampaignRecord, alone.id).held_by == "dialler:d-9"  # type: ignore[union-attr]

            # A new owner seeds its lends from the log: the last agent_state's lent_to.
            with factory() as session:
                event_log.append(
                    session,
                    [
                        Event(1, 1.0, EventKind.AGENT_STATE, agent_id="a001", data={
                            "state": "not_ready", "reason": "outbound", "lent_to": "run-a"}),
                        Event(2, 1.0, EventKind.AGENT_STATE, agent_id="a002", data={
                            "state": "not_ready", "reason": "outbound", "lent_to": "run-b"}),
                        Event(3, 2.0, EventKind.AGENT_STATE, agent_id="a002", data={
                            "state": "not_ready", "reason": "outbound"}),
                    ],
                )  # fmt: skip
                session.commit()
            lends = DiallerLends()
            lends.seed(factory, ["a001", "a002"])
            assert lends.to == {"a001": "run-a"}, "a002's hold is no node's any more"

            # A voice node starting while a caller waits folds the log's open work into its
            # floor (up to where its log tail starts): the caller counts for a lent agent.
            with factory() as session:
                event_log.append(
                    session,
                    [
                        Event(4, 3.0, EventKind.QUEUED, "v-1", queue="repair"),
                        Event(5, 3.0, EventKind.QUEUED, "v-2", queue="repair"),
                        Event(6, 4.0, EventKind.FINISHED, "v-2", data={"outcome": "abandoned"}),
                        Event(7, 5.0, EventKind.QUEUED, "v-3", queue="repair"),
                    ],
                )
                session.commit()
            floor = LogFloor({"repair": ["a001"]})
            assert seed_floor(floor, factory, upto=6) > 0
            assert floor.waiting_contacts("repair") == ["v-1"]  # v-2 left, v-3 after the tail
            lending = OwnerLending(_Outbox(), floor=floor)  # type: ignore[arg-type]
            assert lending.waiting_for("a001") == 1 and lending.waiting_for("a002") == 0
        finally:
            engine.dispose()
