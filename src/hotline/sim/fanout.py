"""Fan-out of independent simulation runs: here, in this process, or on a Dask cluster.

A replication is a pure function of its scenario, seed and replication number (each kind of
randomness has its own stream derived from them, see :mod:`hotline.sim.driver`), and so is
every cell of a what-if sweep. A batch of them is therefore a list of independent tasks
``task -> result`` that may run anywhere, in any order, and still give the same answers. An
:class:`Executor` runs such a batch and returns the results **in the order of the tasks**,
whatever order they finished in, so what is built from them (confidence intervals, tables,
the event log written to Parquet) is the same as for a run in this process:

- :class:`InProcess` (the default) runs the tasks one after the other here;
- :class:`DaskCluster` hands them to a Dask ``distributed`` cluster — a ``LocalCluster`` of
  worker processes it starts itself (``workers=N``), or an existing scheduler at
  ``tcp://host:port`` whose workers run the same Hotline — and gathers them as they complete.

A task function must be importable by name on the workers (a module-level function, as
:func:`replicate_one` is) and its task and result must pickle: the compiled engine's events
pickle by field (:class:`hotline.core.values.Value`), its frozen dataclasses through their
constructors (:func:`hotline.compiled.pickle_by_constructor`, registered when this module is
imported).

>>> from hotline.sim.scenario import scenario_from_dict
>>> scenario = scenario_from_dict({
...     "queues": [{"id": "q", "handle_time": {"constant": 60}}],
...     "agents": [{"group": "g", "count": 1}],
...     "arrivals": [{"queue": "q", "rates_per_hour": [60]}], "interval_s": 600})
>>> run = replicate(scenario, replications=2, seed=7)
>>> [r.replication for r in run.replications], run.contacts > 0
([0, 1], True)
"""

from __future__ import annotations

import contextlib
import copyreg
import gc
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from hotline import compiled
from hotline.core.events import Event
from hotline.sim.driver import Replication, Simulation, SimulationRun
from hotline.sim.scenario import Scenario

if TYPE_CHECKING:
    from distributed import Client, LocalCluster


def _replication_by_columns(replication: Replication) -> tuple[Any, tuple[Any, ...]]:
    """Pickle a replication's event log as columns rather than event by event.

    Event by event, each event pickles as its class and a tuple of its fields, and unpickling
    calls its constructor: for a day of ten thousand contacts that cost the receiving side
    (one process gathering every worker's results) more than the replication took to
    simulate. As eight columns, the receiver unpickles plain lists and builds the events in
    one pass, about twice as fast (``bench/sim_scale.py`` reports what is left). Both sides
    pause the garbage collector while they build: every tuple or event made would count
    towards a collection, and each collection would scan the whole log again (it makes no
    garbage), which cost five times the packing itself on a worker holding a day's log.
    """
    with _collector_paused():
        columns = tuple(zip(*(event._values() for event in replication.events), strict=True))
    return _replication_from_columns, (
        replication.replication,
        replication.seed,
        columns,
        replication.contacts,
        replication.conflicts,
        replication.wall_s,
        replication.cut_at,
    )


def _replication_from_columns(
    number: int,
    seed: int,
    columns: tuple[tuple[Any, ...], ...],
    contacts: int,
    conflicts: int,
    wall_s: float,
    cut_at: float | None,
) -> Replication:
    with _collector_paused():
        events = [Event(*fields) for fields in zip(*columns, strict=True)]
    return Replication(number, seed, events, contacts, conflicts, wall_s, cut_at)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """No garbage collection inside (a no-op where it is off already)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


# Tasks carry scenarios of the compiled engine's frozen classes and results carry event logs;
# this module is imported wherever they are pickled or unpickled (here, and on every worker,
# which imports it for its task function).
compiled.pickle_by_constructor()
copyreg.pickle(Replication, _replication_by_columns)

T = TypeVar("T")
R = TypeVar("R")

#: Seconds to wait for an existing scheduler to answer before giving up with a clear error.
CONNECT_TIMEOUT_S = 10.0


class Executor(Protocol):
    """Runs independent tasks and returns their results in the order of the tasks."""

    @property
    def workers(self) -> int:
        """How many tasks may run at once."""
        ...

    @property
    def description(self) -> str:
        """Where the tasks run, in words (for the command's output)."""
        ...

    def map(
        self,
        function: Callable[[T], R],
        tasks: Sequence[T],
        *,
        done: Callable[[int, R], None] | None = None,
    ) -> list[R]:
        """``[function(task) for task in tasks]``; ``done(index, result)`` as each completes."""
        ...


class InProcess:
    """Run the tasks one after the other in this process (the default executor)."""

    workers = 1
    description = "in this process"

    def map(
        self,
        function: Callable[[T], R],
        tasks: Sequence[T],
        *,
        done: Callable[[int, R], None] | None = None,
    ) -> list[R]:
        """Run each task in turn.

        >>> InProcess().map(abs, [-2, 3])
        [2, 3]
        """
        results = []
        for index, task in enumerate(tasks):
            result = function(task)
            results.append(result)
            if done is not None:
                done(index, result)
        return results


class DaskCluster:
    """Run the tasks on a Dask ``distributed`` cluster and gather them in task order.

    Use :meth:`start` for a local cluster of worker processes, :meth:`connect` for an
    existing scheduler; close it (or use it as a context manager) when done.
    """

    def __init__(self, client: Client, address: str, cluster: LocalCluster | None = None) -> None:
        self.client = client
        self.address = address
        self._cluster = cluster

    @classmethod
    def start(cls, workers: int, *, local_directory: str | None = None) -> DaskCluster:
        """Start a ``LocalCluster`` of ``workers`` single-threaded processes on this machine.

        One thread per process: a replication is CPU-bound Python, so threads in one process
        would wait on each other's interpreter lock. The scheduler and workers listen on ports
        the kernel chooses, and no dashboard is started.
        """
        if workers < 1:
            raise ValueError("a cluster needs at least one worker")
        from distributed import Client, LocalCluster

        cluster = LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            scheduler_port=0,
            dashboard_address=None,
            local_directory=local_directory,
            # Dask's own warnings (a worker slow to stop under load, then stopped) are not the
            # command's news; its errors still show.
            silence_logs=logging.ERROR,
        )
        try:
            client = Client(cluster)  # type: ignore[no-untyped-call]
        except BaseException:
            cluster.close()
            raise
        return cls(client, cluster.scheduler_address, cluster)

    @classmethod
    def connect(cls, address: str, *, timeout_s: float = CONNECT_TIMEOUT_S) -> DaskCluster:
        """Use the existing scheduler at ``address`` (``tcp://host:port``).

        Raises :class:`OSError` naming the address when no scheduler answers in time.
        """
        from distributed import Client

        try:
            client = Client(address, timeout=f"{timeout_s}s")  # type: ignore[no-untyped-call]
        except (OSError, TimeoutError) as exc:
            raise OSError(f"no Dask scheduler answered at {address}: {exc}") from exc
        return cls(client, address)

    @property
    def workers(self) -> int:
        """The workers the scheduler knows of now."""
        return len(self.client.scheduler_info().get("workers", {}))

    @property
    def description(self) -> str:
        """Where the tasks run, in words."""
        kind = "a local Dask cluster" if self._cluster is not None else "the Dask scheduler"
        return f"{kind} at {self.address} ({self.workers} workers)"

    def map(
        self,
        function: Callable[[T], R],
        tasks: Sequence[T],
        *,
        done: Callable[[int, R], None] | None = None,
    ) -> list[R]:
        """Submit every task, then gather each result as it completes into its task's place.

        A task that fails raises its error here and the tasks still pending are cancelled.
        """
        from distributed import as_completed

        if not tasks:
            return []
        # pure=False: two equal tasks (the same cell asked twice) still run, each its own.
        futures = self.client.map(function, list(tasks), pure=False)
        position = {future.key: index for index, future in enumerate(futures)}
        results: list[Any] = [None] * len(futures)
        try:
            for future in as_completed(futures):  # type: ignore[no-untyped-call]
                result = future.result()
                index = position[future.key]
                results[index] = result
                if done is not None:
                    done(index, result)
        finally:
            pending = [f for f in futures if not f.done()]  # type: ignore[no-untyped-call]
            self.client.cancel(pending)  # type: ignore[no-untyped-call]
        return results

    def close(self) -> None:
        """Disconnect; a cluster started here is shut down with its worker processes."""
        self.client.close()  # type: ignore[no-untyped-call]
        if self._cluster is not None:
            self._cluster.close()

    def __enter__(self) -> DaskCluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextlib.contextmanager
def open_executor(
    *, workers: int | None = None, scheduler: str | None = None
) -> Iterator[Executor]:
    """The executor a command asked for: a scheduler's, a local cluster's, or this process.

    ``workers`` of 1 or none and no ``scheduler`` run here; both together are refused.
    """
    if scheduler is not None and workers is not None:
        raise ValueError("give either a number of workers or a scheduler address, not both")
    if scheduler is not None:
        with DaskCluster.connect(scheduler) as cluster:
            yield cluster
    elif workers is not None and workers > 1:
        with DaskCluster.start(workers) as cluster:
            yield cluster
    else:
        yield InProcess()


@dataclass(frozen=True)
class ReplicationTask:
    """One replication to run: the scenario, the batch's seed and the replication's number."""

    scenario: Scenario
    seed: int
    replication: int


def replicate_one(task: ReplicationTask) -> Replication:
    """Run one replication (the task function handed to the workers)."""
    return Simulation(task.scenario, seed=task.seed, replication=task.replication).run()


def replicate(
    scenario: Scenario,
    *,
    replications: int,
    seed: int,
    executor: Executor | None = None,
    progress: Callable[[Replication], None] | None = None,
) -> SimulationRun:
    """Run ``replications`` replications of ``scenario`` on ``executor`` (default: here).

    The same seed gives the same replications, in the same order, on any executor, as
    :func:`hotline.sim.driver.simulate` gives them here; ``progress`` sees each as it
    completes.
    """
    if replications < 1:
        raise ValueError("at least one replication is needed")
    tasks = [ReplicationTask(scenario, seed, index) for index in range(replications)]
    run = SimulationRun(scenario=scenario, seed=seed)
    # The logs gathered are kept to the end, and rebuilding each makes many objects: every
    # full collection meanwhile would scan all the logs received before. Each is frozen as it
    # arrives (gc.freeze: the collector skips it from then on), as the driver does with the
    # log it writes; left alone when the caller froze objects itself.
    manage_gc = gc.isenabled() and gc.get_freeze_count() == 0

    def arrived(_index: int, replication: Replication) -> None:
        if manage_gc:
            gc.freeze()
        if progress is not None:
            progress(replication)

    try:
        run.replications = (executor or InProcess()).map(replicate_one, tasks, done=arrived)
    finally:
        if manage_gc:
            gc.unfreeze()
    return run
