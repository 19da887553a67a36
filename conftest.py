"""Collection settings for the whole repository (pytest reads this before ``tests/``)."""

from typing import Any

from hotline.compiled import COMPILED_MODULES, source_path

# A compiled module imports as its extension, not as the .py file pytest would collect its
# docstring examples from; tests/unit/test_compiled.py runs those examples on the source.
collect_ignore = [str(source_path(module)) for module in COMPILED_MODULES]


# Tests whose deadlines measure real processes (SIP calls through rtpengine, node takeover,
# kill-and-restart rounds, the desk's latency during a big import): under pytest-xdist each
# group runs one test after another on one worker, so no two of its tests compete for the CPU
# their timers measure. There are two groups, the voice calls and the cluster's faults, so
# that neither waits behind the other: together they were the suite's longest unit.
ONE_AT_A_TIME = {
    "voice": ("tests/e2e/telephony/",),
    "cluster": (
        "tests/integration/live/test_failover_faults.py",
        "tests/integration/live/test_primary_failover.py",  # Patroni's promotion, timed
        "tests/integration/live/test_stop_and_restart.py",
        "tests/integration/live/test_web_node.py",  # an owner killed: a takeover in time
        "tests/integration/live/test_voice_node_failure.py",  # a voice node killed, timed
        "tests/integration/web/test_contact_import_jobs.py",  # desk latency during an import
    ),
}


def one_at_a_time(path: str) -> str | None:
    """The :data:`ONE_AT_A_TIME` group a test file belongs to, if any.

    >>> one_at_a_time("tests/e2e/telephony/test_overload.py"), one_at_a_time("tests/unit/x.py")
    ('voice', None)
    """
    for group, prefixes in ONE_AT_A_TIME.items():
        if path.startswith(prefixes):
            return group
    return None


#: The order the other units start in, after the one-at-a-time groups: modules that start
#: servers, browsers and peers (end to end, integration) before the unit tests, the doctests
#: last, so the last units handed out are short and the workers finish close together.
UNIT_CLASSES = ("tests/e2e/", "tests/integration/", "tests/unit/")


def unit_rank(scope: str, tests: int) -> tuple[int, int, int]:
    """Where a work unit (a module, or a one-at-a-time group) starts among the others: the
    one-at-a-time groups first, in :data:`ONE_AT_A_TIME`'s order (each is the longest unit
    there is: started last, it alone would set the suite's end), then by
    :data:`UNIT_CLASSES`, then the most tests first (pytest-xdist's own order).

    >>> units = {"src/hotline/x.py": 1, "tests/unit/a.py": 40, "tests/e2e/web/b.py": 2,
    ...          "one-at-a-time: cluster": 9, "tests/integration/c.py": 5,
    ...          "one-at-a-time: voice": 25, "tests/e2e/web/d.py": 3}
    >>> ranked = sorted(units, key=lambda scope: unit_rank(scope, units[scope]))
    >>> ranked[:4]
    ['one-at-a-time: voice', 'one-at-a-time: cluster', 'tests/e2e/web/d.py', 'tests/e2e/web/b.py']
    >>> ranked[4:]
    ['tests/integration/c.py', 'tests/unit/a.py', 'src/hotline/x.py']
    """
    groups = [f"one-at-a-time: {group}" for group in ONE_AT_A_TIME]
    if scope in groups:
        return (0, groups.index(scope), 0)
    for rank, prefix in enumerate(UNIT_CLASSES, start=1):
        if scope.startswith(prefix):
            return (rank, 0, -tests)
    return (len(UNIT_CLASSES) + 1, 0, -tests)


def pytest_xdist_make_scheduler(config: Any, log: Any) -> Any:
    """``make test``'s workers get whole units: a test module (its module-scoped servers set
    up once), or all the tests of one :data:`ONE_AT_A_TIME` group together, handed out in
    :func:`unit_rank`'s order.

    pytest-xdist's own ``xdist_group`` marks are not honoured under this pytest (the worker's
    renamed node ids never reach the scheduler), so the grouping is the scheduler's. Its own
    order is by the number of tests alone, which started the cluster's group (nine tests,
    minutes of kills and takeovers) as the 83rd unit of 488, behind scores of quick modules.
    """
    from xdist.scheduler import LoadScopeScheduling

    class ModuleScheduling(LoadScopeScheduling):  # type: ignore[misc]  # xdist is untyped
        ordered = False

        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            group = one_at_a_time(path)
            return path if group is None else f"one-at-a-time: {group}"

        def _assign_work_unit(self, node: Any) -> None:
            # The queue is complete when the first unit is handed out (xdist's schedule()
            # fills it, then assigns): put it in unit_rank's order once, there.
            if not self.ordered:
                units = sorted(self.workqueue.items(), key=lambda u: unit_rank(u[0], len(u[1])))
                self.workqueue.clear()
                self.workqueue.update(units)
                self.ordered = True
            super()._assign_work_unit(node)

    return ModuleScheduling(config, log)
