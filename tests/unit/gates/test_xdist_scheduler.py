"""``make test``'s pytest-xdist scheduler (the root conftest): which units the workers get
first, driven through pytest-xdist's own scheduling code with stand-in workers."""

from __future__ import annotations

from types import SimpleNamespace

from conftest import pytest_xdist_make_scheduler

#: A collection in pytest's order: doctests and unit tests first (as ``testpaths`` and the
#: file names put them), the timing-bound groups and the browsers' modules after.
COLLECTION = [
    *(f"tests/unit/wfm/test_erlang.py::test_{i}" for i in range(45)),
    *(f"tests/unit/core/test_calendar.py::test_{i}" for i in range(12)),
    "tests/e2e/telephony/test_one_engine.py::test_desk",
    "tests/e2e/telephony/test_voice_calls.py::test_call",
    "tests/e2e/telephony/test_voice_calls.py::test_hold",
    "tests/e2e/web/test_planning_page.py::test_simulate",
    *(f"tests/integration/web/test_sign_in.py::test_{i}" for i in range(42)),
    "tests/integration/live/test_stop_and_restart.py::test_rounds",
    "tests/integration/live/test_web_node.py::test_takeover",
    "tests/integration/live/test_web_node.py::test_streams",
    "src/hotline/core/ids.py::hotline.core.ids.new_id",
]


class _Worker:
    """What the scheduler uses of a worker: the test indices it is sent, and its shutdown."""

    def __init__(self, name: str) -> None:
        self.gateway = SimpleNamespace(id=name)
        self.shutting_down = False
        self.sent: list[int] = []

    def send_runtest_some(self, indices: list[int]) -> None:
        self.sent.extend(indices)

    def shutdown(self) -> None:
        self.shutting_down = True


def _modules(worker: _Worker) -> list[str]:
    """The modules ``worker`` was sent, in the order it was sent them."""
    paths = [COLLECTION[i].split("::")[0] for i in worker.sent]
    return list(dict.fromkeys(paths))


def test_the_timing_bound_groups_start_first_then_servers_and_browsers_then_unit_tests() -> None:
    config = SimpleNamespace(
        getvalue=lambda name: ["3*popen"] if name == "tx" else None,
        option=SimpleNamespace(loadscopereorder=True),
    )
    scheduler = pytest_xdist_make_scheduler(config, None)
    workers = [_Worker(f"gw{i}") for i in range(3)]
    for worker in workers:
        scheduler.add_node(worker)
        scheduler.add_node_collection(worker, COLLECTION)
    scheduler.schedule()
    # the voice group (both modules, together) and the cluster's group (its two modules
    # together) go to two workers at once; the third starts on the browser's module, and
    # gets the integration module next (each has at most two tests pending, so xdist
    # hands it a second unit); xdist's own order (most tests first) began with test_erlang
    first = {tuple(_modules(worker)) for worker in workers}
    assert first == {
        ("tests/e2e/telephony/test_one_engine.py", "tests/e2e/telephony/test_voice_calls.py"),
        (
            "tests/integration/live/test_stop_and_restart.py",
            "tests/integration/live/test_web_node.py",
        ),
        ("tests/e2e/web/test_planning_page.py", "tests/integration/web/test_sign_in.py"),
    }
    # the unit tests and the doctests wait in the queue, the doctest last
    assert list(scheduler.workqueue) == [
        "tests/unit/wfm/test_erlang.py",
        "tests/unit/core/test_calendar.py",
        "src/hotline/core/ids.py",
    ]
