"""Collection settings for the whole repository (pytest reads this before ``tests/``)."""

from typing import Any

from hotline.compiled import COMPILED_MODULES, source_path

# A compiled module imports as its extension, not as the .py file pytest would collect its
# docstring examples from; tests/unit/test_compiled.py runs those examples on the source.
collect_ignore = [str(source_path(module)) for module in COMPILED_MODULES]


# Tests whose deadlines measure real processes (SIP calls through rtpengine, node takeover,
# kill-and-restart rounds, the desk's latency during a big import): under pytest-xdist they
# run one after another on one worker, so no two of them compete for the CPU their timers
# measure.
ONE_AT_A_TIME = (
    "tests/e2e/telephony/",
    "tests/integration/live/test_failover_faults.py",
    "tests/integration/live/test_primary_failover.py",  # Patroni's promotion, timed
    "tests/integration/live/test_stop_and_restart.py",
    "tests/integration/live/test_web_node.py",  # an owner killed: a takeover in time
    "tests/integration/web/test_contact_import_jobs.py",  # desk latency during a big import
)


def pytest_xdist_make_scheduler(config: Any, log: Any) -> Any:
    """``make test``'s workers get whole units: a test module (its module-scoped servers set
    up once), or all the :data:`ONE_AT_A_TIME` tests together.

    pytest-xdist's own ``xdist_group`` marks are not honoured under this pytest (the worker's
    renamed node ids never reach the scheduler), so the grouping is the scheduler's.
    """
    from xdist.scheduler import LoadScopeScheduling

    class ModuleScheduling(LoadScopeScheduling):  # type: ignore[misc]  # xdist is untyped
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return "one-at-a-time" if path.startswith(ONE_AT_A_TIME) else path

    return ModuleScheduling(config, log)
