"""Replications and a what-if sweep fanned out on a real Dask cluster give the local answers.

One ``LocalCluster`` of two worker *processes* (spawned, so each imports the compiled engine
afresh) serves the module; every result is compared with the same batch run in this process
for the same seed — event by event for replications, figure by figure for a sweep's cells.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator

import pytest
from distributed.protocol.serialize import deserialize, serialize

from hotline.sim.fanout import (
    DaskCluster,
    InProcess,
    ReplicationTask,
    open_executor,
    replicate,
    replicate_one,
)
from hotline.sim.scenario import Scenario, scenario_from_dict
from hotline.sim.sweep import CellTask, Grid, RoutingVariant, measure_cell, sweep


def small_scenario(intervals: int = 2) -> Scenario:
    """Two queues with skills, an overflow and impatient callers: half-hours at ten agents."""
    return scenario_from_dict(
        {
            "start": "2026-03-02T08:00:00",
            "interval_s": 1800,
            "queues": [
                {
                    "id": "repair",
                    "requirements": ["repair >= 1"],
                    "handle_time": {"exponential": 200},
                    "patience": {"exponential": 120},
                    "overflow_after_s": 40,
                    "overflow_to": "general",
                },
                {"id": "general", "handle_time": {"exponential": 150}},
            ],
            "agents": [
                {"group": "repair", "count": 6, "skills": {"repair": 2}},
                {"group": "general", "count": 4},
            ],
            "arrivals": [
                {"queue": "repair", "rates_per_hour": [90, 110][:intervals]},
                {"queue": "general", "rates_per_hour": [60, 70][:intervals]},
            ],
        }
    )


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaskCluster]:
    folder = tmp_path_factory.mktemp("dask")
    with DaskCluster.start(2, local_directory=str(folder)) as started:
        yield started


def test_the_tasks_and_their_results_cross_to_a_worker_and_back_unchanged():
    scenario = small_scenario()
    task = ReplicationTask(scenario, 5, 1)
    replication = replicate_one(task)
    for value in (task, replication, replicate_one):
        # The plain pickle a worker's process boundary needs, and Dask's own serializer.
        assert pickle.loads(pickle.dumps(value)) == value
        header, frames = serialize(value)
        assert deserialize(header, frames) == value
    assert replication.events and replication.contacts > 0


def test_replications_on_two_worker_processes_equal_the_local_run(cluster):
    scenario = small_scenario()
    seen: list[int] = []
    local = replicate(scenario, replications=4, seed=11)
    fanned = replicate(
        scenario,
        replications=4,
        seed=11,
        executor=cluster,
        progress=lambda r: seen.append(r.replication),
    )
    assert cluster.workers == 2
    assert sorted(seen) == [0, 1, 2, 3]  # each reported as it completed, in any order
    assert [r.replication for r in fanned.replications] == [0, 1, 2, 3]
    for mine, theirs in zip(local.replications, fanned.replications, strict=True):
        assert (theirs.seed, theirs.contacts, theirs.conflicts, theirs.cut_at) == (
            mine.seed,
            mine.contacts,
            mine.conflicts,
            mine.cut_at,
        )
        assert theirs.events == mine.events
    # Different seeds do give different callers (the comparison above could fail).
    other = replicate(scenario, replications=1, seed=12, executor=cluster)
    assert other.replications[0].events != local.replications[0].events


def test_a_sweep_on_the_cluster_equals_the_local_sweep_cell_by_cell(cluster):
    grid = Grid(
        small_scenario(intervals=1),
        staffing=(0.8, 1.2),
        routing=(
            RoutingVariant("no overflow", overflow=False),
            RoutingVariant("callback", callback_after_s=30),
        ),
        volume=(1.3,),
        replications=2,
        seed=4,
    )
    local = sweep(grid)
    fanned = sweep(grid, executor=cluster)
    assert len(fanned.cells) == 4
    assert fanned.figures == local.figures
    assert fanned.table().equals(local.table())
    table = local.table()
    # More agents answer more of the same callers within the threshold.
    low = table.filter(table["staffing"] == 0.8)
    high = table.filter(table["staffing"] == 1.2)
    assert float(high["service_level"].mean()) > float(low["service_level"].mean())  # type: ignore[arg-type]


def test_an_existing_scheduler_is_used_by_its_address(cluster):
    address = cluster.address
    assert address.startswith("tcp://127.0.0.1:")
    scenario = small_scenario()
    with open_executor(scheduler=address) as executor:
        assert executor.workers == 2
        assert "the Dask scheduler at tcp://" in executor.description
        task = CellTask(0, scenario, 3, 0)
        assert executor.map(measure_cell, [task]) == InProcess().map(measure_cell, [task])


def test_a_failing_task_raises_its_error_here(cluster):
    with pytest.raises(ZeroDivisionError):
        cluster.map(divide_one_by, [1, 0, 2])


def divide_one_by(value: int) -> float:
    return 1 / value


def test_no_scheduler_at_the_address_is_a_clear_error(unused_tcp_port: int):
    with pytest.raises(
        OSError, match=f"no Dask scheduler answered at tcp://127.0.0.1:{unused_tcp_port}"
    ):
        DaskCluster.connect(f"tcp://127.0.0.1:{unused_tcp_port}", timeout_s=1)


def test_workers_and_a_scheduler_together_are_refused():
    with (
        pytest.raises(ValueError, match="not both"),
        open_executor(workers=2, scheduler="tcp://127.0.0.1:1"),
    ):
        pass


@pytest.fixture
def unused_tcp_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_sweep_command_on_a_scheduler_writes_the_table_it_writes_alone(cluster, tmp_path):
    from typer.testing import CliRunner

    from hotline.cli.main import app
    from tests.unit.cli.test_simulate_sweep import write

    grid = write(tmp_path, "scenario: scenario.yaml\nreplications: 2\nstaffing: [0.5, 1.0]\n")
    runner = CliRunner()
    alone = runner.invoke(app, ["simulate-sweep", str(grid), "--csv", str(tmp_path / "a.csv")])
    fanned = runner.invoke(
        app,
        [
            "simulate-sweep",
            str(grid),
            "--csv",
            str(tmp_path / "b.csv"),
            "--scheduler",
            cluster.address,
        ],
    )
    assert alone.exit_code == 0, alone.output
    assert fanned.exit_code == 0, fanned.output
    assert f"Running on the Dask scheduler at {cluster.address} (2 workers)" in fanned.output
    assert (tmp_path / "b.csv").read_text() == (tmp_path / "a.csv").read_text()
