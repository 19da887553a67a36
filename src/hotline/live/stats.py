"""The live driver's counters: what a health page or a test reads of the running engine."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class DriverStats:
    """Counters a health page or test reads."""

    jobs: int = 0
    conflicts: int = 0
    events: int = 0
    events_written: int = 0
    write_failures: int = 0
    events_dropped: int = 0
    snapshots: int = 0
    #: Contacts found in progress on start or stop and closed as ``interrupted``.
    recovered: int = 0
    started_at: float = 0.0
    last_write_s: list[float] = field(default_factory=list)
