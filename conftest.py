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


def pytest_xdist_make_scheduler(config: Any, log: Any) -> Any:
    """``make test``'s workers get whole units: a test module (its module-scoped servers set
    up once), or all the tests of one :data:`ONE_AT_A_TIME` group together.

    pytest-xdist's own ``xdist_group`` marks are not honoured under this pytest (the worker's
    renamed node ids never reach the scheduler), so the grouping is the scheduler's.
    """
    from xdist.scheduler import LoadScopeScheduling

    class ModuleScheduling(LoadScopeScheduling):  # type: ignore[misc]  # xdist is untyped
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            group = one_at_a_time(path)
            return path if group is None else f"one-at-a-time: {group}"

    return ModuleScheduling(config, log)
