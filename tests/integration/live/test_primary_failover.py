"""Proof by faults (issue #20): kill -9 the PostgreSQL primary; the standby takes over.

A real etcd and two Patroni-managed PostgreSQL members on 127.0.0.1
(:mod:`hotline.store.pg_cluster`), synchronous replication. ``hotline init`` and a
``hotline node`` run against the multi-host URL; simulated callers and agents work through the
partition inbox until every contact is finished. Then the primary's postmaster is killed with
SIGKILL: Patroni promotes the synchronous standby, a write through the same URL commits on it,
every row committed before the kill is there, the node outlives the switch and routes a
contact accepted after it, and the old primary rejoins as a standby.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from hotline.config.validate import load_center
from hotline.core.events import EventKind
from hotline.live.failover_drill import Drill, kill_primary, wait_settled
from hotline.store.db import make_engine, make_session_factory, sqlalchemy_url
from hotline.store.models.core import ContactEventRow
from hotline.store.pg_cluster import PostgresCluster, missing_programs, wait_for

SAMPLE = Path(__file__).resolve().parents[3] / "src/hotline/config/samples/appliance_center.yaml"
#: Patroni checks its PostgreSQL every second (loop_wait 1) and fails over at once on a crash
#: (primary_start_timeout 0): about 2 s on a quiet machine; the limit leaves room for a
#: machine shared with the rest of the suite.
PROMOTE_LIMIT_S = 15.0


def test_kill_9_the_primary_and_the_synchronous_standby_takes_over(tmp_path: Path) -> None:
    absent = missing_programs()
    if absent:
        if os.environ.get("HOTLINE_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"not installed: {absent} (scripts/system-deps.sh replication)")
        pytest.skip(f"not installed: {', '.join(absent)} (scripts/system-deps.sh replication)")
    center = load_center(SAMPLE)
    partition = center.sites[0].id
    with PostgresCluster(synchronous=True) as cluster:
        admin = create_engine(sqlalchemy_url(cluster.url("postgres")), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("CREATE DATABASE hotline"))
        admin.dispose()
        url = cluster.url("hotline")  # libpq's spelling: hotline@127.0.0.1:p1,127.0.0.1:p2/…
        home = tmp_path
        env = {
            **os.environ,
            "HOTLINE_DATABASE_URL": url,
            "HOTLINE_HOME": str(home),
            "HOTLINE_ADMIN_PASSWORD": "Standby-site-drill-2026",
        }
        engine = make_engine(url)
        drill = Drill(
            session_factory=make_session_factory(engine),
            database_url=url,
            home=home,
            center=center,
            partition=partition,
            queue="installation",
            lease_s=1.5,
        )
        try:
            # The node starts beside `hotline init` (both import the whole product): it
            # stands by until the schema exists, then takes the lease.
            node = drill.start_node()
            init = subprocess.run(
                [sys.executable, "-m", "hotline.cli.main", "init"],
                env=env,
                check=False,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert init.returncode == 0, init.stderr
            drill.owner(timeout_s=60)
            drill.start_load(rate=10.0, handle_s=0.3)
            arrivals, desks = drill.arrivals, drill.desks
            assert arrivals is not None and desks is not None
            wait_for(lambda: len(arrivals.accepted) >= 10, timeout_s=30, what="10 callers")
            drill.stop_load()
            settled = wait_settled(drill.session_factory, partition=partition, timeout_s=30)
            assert settled.sound and settled.accepted >= 10, settled
            desks.stop()

            # Callers go on being accepted as it dies (10 a second: the 28 agents, ringing
            # unanswered now, leave room for the probe's offer).
            killed = kill_primary(
                cluster,
                drill.session_factory,
                partition=partition,
                queue="installation",
                callers_per_s=10.0,
            )
            assert killed.lost == 0, killed  # synchronous: nothing committed is lost
            assert killed.acknowledged >= 5, killed
            assert killed.committed > settled.accepted, killed  # inbox rows and log events
            assert killed.promoted != killed.killed, killed
            assert killed.promote_s < PROMOTE_LIMIT_S, killed

            # The node lost its database under it, stood by, and routes again on the new
            # primary: the contact accepted after the switch is offered to an agent.
            def offered() -> bool:
                with drill.session_factory() as session:
                    return (
                        session.scalar(
                            select(ContactEventRow.id).where(
                                ContactEventRow.contact_id == killed.probe,
                                ContactEventRow.kind == EventKind.OFFERED.value,
                            )
                        )
                        is not None
                    )

            wait_for(offered, timeout_s=30, what="the probe offered", describe=drill.describe)
            assert node.process.poll() is None, drill.describe()
            stepped = [x for x in node.said("stepped_down") if "database" in str(x.get("why"))]
            owned = node.said("owner")
            assert stepped and len(owned) >= 2, drill.describe()

            # The old primary, restarted by its Patroni, follows the new one.
            cluster.wait_streaming(timeout_s=60)
            old = next(m for m in cluster.members if m.name == killed.killed)
            assert old.role() == "replica"
        finally:
            drill.close()
            engine.dispose()
