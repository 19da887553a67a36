"""A contact's timeline as segments a recording player marks: IVR, queue, talk, hold, transfer.

The contact event log already says when a caller entered the IVR, queued, was answered, put
on hold and resumed, transferred, and hung up. A QA specialist listening to a recording
wants those moments on the seek bar: skip the hold music, jump to the transfer. Offsets are
seconds from the start of the recording (negative: before the recording began, e.g. the
IVR); a segment still open when the log ends runs to the last event.

Pure: no I/O.

>>> events = [(0.0, "arrived"), (5.0, "queued"), (20.0, "answered"), (50.0, "held"),
...           (70.0, "resumed"), (90.0, "transferred"), (120.0, "disconnected")]
>>> [(s.kind, s.start_s, s.end_s) for s in timeline(events, recording_start=20.0)]
... # doctest: +NORMALIZE_WHITESPACE
[('ivr', -20.0, -15.0), ('queue', -15.0, 0.0), ('talk', 0.0, 30.0), ('hold', 30.0, 50.0),
 ('talk', 50.0, 100.0), ('transfer', 70.0, 70.0)]
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Segment:
    """One stretch of a contact: ``kind`` from ``start_s`` to ``end_s`` (recording time)."""

    kind: str
    start_s: float
    end_s: float


def timeline(events: Iterable[tuple[float, str]], *, recording_start: float) -> list[Segment]:
    """Segments from ``(at, kind)`` events of one contact (epoch seconds, event kinds)."""
    ordered = sorted(events, key=lambda e: e[0])
    segments: list[Segment] = []
    marks: list[Segment] = []
    open_kind: str | None = None
    open_at = 0.0

    def close(at: float) -> None:
        nonlocal open_kind
        if open_kind is not None and at > open_at:
            segments.append(Segment(open_kind, open_at - recording_start, at - recording_start))
        open_kind = None

    def start(kind: str, at: float) -> None:
        nonlocal open_kind, open_at
        close(at)
        open_kind, open_at = kind, at

    last = ordered[-1][0] if ordered else recording_start
    for at, kind in ordered:
        if kind == "arrived":
            start("ivr", at)
        elif kind == "queued":
            start("queue", at)
        elif kind == "answered":
            start("talk", at)
        elif kind == "held":
            start("hold", at)
        elif kind == "resumed":
            start("talk", at)
        elif kind in ("transferred", "consult_started"):
            offset = at - recording_start
            marks.append(
                Segment("transfer" if kind == "transferred" else "consult", offset, offset)
            )
        elif kind in ("abandoned", "disconnected", "finished"):
            close(at)
    close(last)
    return segments + marks
