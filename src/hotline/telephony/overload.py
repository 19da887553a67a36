"""Overload control for incoming calls: admit a new caller only while set-up stays fast.

A voice server past its capacity must not queue every INVITE: each one it takes makes every
caller behind it wait longer for the ``200 OK``, until set-up takes seconds and callers
(and their carriers) give up on calls the server is still working on. Instead, past a bound
it refuses new calls at once with ``503 Service Unavailable`` and a ``Retry-After``
(RFC 3261 §21.5.4, §20.33), so a carrier retries later or routes elsewhere, and the calls it
did accept keep a short set-up.

The bounds look at the set-up path itself:

- the **set-up backlog**: INVITEs received but not yet answered (or refused) — how many
  callers are waiting for their ``200 OK``, and how long the oldest of them has waited;
- the **SIP thread's lag**: how long the new INVITE itself waited between the socket and
  the SIP stack's thread — a stack that reads its datagrams late answers them late too;
- the **media relay**: how slowly the media server (rtpengine) answers (its slowest reply
  of the last second, or its oldest request still unanswered) and how many requests await
  its answer — every set-up needs two of its answers;
- the **driver's lag**: how late the voice driver's event loop runs its timers, i.e. how
  long any new piece of call work waits before it starts.

This module is the policy, and only that: pure functions over a :class:`VoiceLoad` sample,
no clock, no I/O. The SIP adapter asks :func:`admit` for every new INVITE; the server feeds
the count of refused calls to :func:`overload_tick` once a second and logs the ``alarm``
events it returns (``component=sip``, ``state=overload`` then ``recovered`` with the number
refused), which the wallboard shows and reports can count.

>>> bounds = OverloadBounds(max_setup_backlog=10)
>>> admit(VoiceLoad(setup_backlog=3), bounds).admitted
True
>>> decision = admit(VoiceLoad(setup_backlog=10), bounds)
>>> decision.admitted, decision.reason, decision.retry_after_s
(False, 'setup_backlog', 5)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

#: Why a call was refused (the ``reason`` of a refusal and of an overload alarm).
SETUP_BACKLOG = "setup_backlog"
SETUP_AGE = "setup_age"
SIP_LAG = "sip_lag"
MEDIA_DELAY = "media_delay"
MEDIA_PENDING = "media_pending"
LOOP_LAG = "loop_lag"


@dataclass(frozen=True)
class OverloadBounds:
    """Where the server stops taking new calls.

    A new call's set-up is the SIP thread's lag, then the driver's loop lag, then two media
    server replies (offer, answer), then the answer's hop back to the SIP thread: bounds of
    about 100 ms each keep a call admitted just under all of them below the 500 ms goal.
    Measured with ``bench/sip_load.py --rate 100`` on a shared 2-core machine (load average
    12–34): with the backlog, age and lag bounds alone, accepted calls still had set-up p99
    of 1.3–1.9 s, the slow ones coinciding with slow rtpengine replies; with the media-delay
    bound too, accepted calls' p99 was 220 ms (voice server alone) and 212 ms (inside
    ``hotline serve``), a quarter to two fifths of the calls refused.
    """

    #: INVITEs received and not yet answered or refused.
    max_setup_backlog: int = 25
    #: The oldest unanswered INVITE's age, in seconds.
    max_setup_age_s: float = 0.2
    #: How long the new INVITE waited for the SIP stack's thread, in seconds.
    max_sip_lag_s: float = 0.1
    #: How slowly the media server answers, in seconds.
    max_media_delay_s: float = 0.1
    #: Requests to the media server awaiting its reply.
    max_media_pending: int = 50
    #: How late the driver's event loop runs, in seconds.
    max_loop_lag_s: float = 0.1
    #: The ``Retry-After`` a refused caller gets, in seconds.
    retry_after_s: int = 5

    def __post_init__(self) -> None:
        if self.max_setup_backlog < 1 or self.max_media_pending < 1:
            raise ValueError("overload bounds: the backlog and media bounds must be at least 1")
        if min(self.max_setup_age_s, self.max_loop_lag_s, self.max_sip_lag_s) <= 0 or (
            self.max_media_delay_s <= 0
        ):
            raise ValueError("overload bounds: the age and lag bounds must be positive")
        if self.retry_after_s < 1:
            raise ValueError("overload bounds: Retry-After must be at least 1 second")


@dataclass(frozen=True)
class VoiceLoad:
    """One sample of the set-up path's load, taken when an INVITE arrives."""

    setup_backlog: int = 0
    oldest_setup_age_s: float = 0.0
    sip_lag_s: float = 0.0
    media_delay_s: float = 0.0
    media_pending: int = 0
    loop_lag_s: float = 0.0


@dataclass(frozen=True)
class Admission:
    """The decision for one new call: admitted, or refused with a reason and Retry-After."""

    admitted: bool
    reason: str | None = None
    retry_after_s: int | None = None


ADMITTED = Admission(admitted=True)


def admit(load: VoiceLoad, bounds: OverloadBounds) -> Admission:
    """Admit a new call, or refuse it when any bound is reached (the first one reached names
    the reason).

    >>> b = OverloadBounds()
    >>> admit(VoiceLoad(setup_backlog=1, oldest_setup_age_s=0.3), b).reason
    'setup_age'
    >>> admit(VoiceLoad(loop_lag_s=0.5), b).reason
    'loop_lag'
    >>> admit(VoiceLoad(sip_lag_s=0.5), b).reason
    'sip_lag'
    """
    if load.setup_backlog >= bounds.max_setup_backlog:
        reason = SETUP_BACKLOG
    elif load.setup_backlog > 0 and load.oldest_setup_age_s >= bounds.max_setup_age_s:
        reason = SETUP_AGE
    elif load.sip_lag_s >= bounds.max_sip_lag_s:
        reason = SIP_LAG
    elif load.media_delay_s >= bounds.max_media_delay_s:
        reason = MEDIA_DELAY
    elif load.media_pending >= bounds.max_media_pending:
        reason = MEDIA_PENDING
    elif load.loop_lag_s >= bounds.max_loop_lag_s:
        reason = LOOP_LAG
    else:
        return ADMITTED
    return Admission(admitted=False, reason=reason, retry_after_s=bounds.retry_after_s)


@dataclass(frozen=True)
class OverloadState:
    """Whether the server is refusing calls now, and how many it refused.

    ``refused_total`` counts since the server started, ``refused_in_episode`` since this
    overload began; ``quiet_ticks`` counts the ticks without a refusal while overloaded.
    """

    overloaded: bool = False
    since: float | None = None
    refused_total: int = 0
    refused_in_episode: int = 0
    reason: str | None = None
    quiet_ticks: int = 0

    def as_dict(self) -> dict[str, Any]:
        """What the wallboard shows: ``{overloaded, since, refused_total, refused_now, reason}``."""
        return {
            "overloaded": self.overloaded,
            "since": self.since,
            "refused_total": self.refused_total,
            "refused_now": self.refused_in_episode,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class OverloadAlarm:
    """An ``alarm`` event to log: ``state`` is ``overload`` (raised) or ``recovered``."""

    state: str
    refused: int
    reason: str | None

    def data(self) -> dict[str, Any]:
        """The event's ``data``: component, state, calls refused, reason."""
        return {
            "component": "sip",
            "state": self.state,
            "refused": self.refused,
            "reason": self.reason,
        }


#: Ticks without a refusal before an overload is over (so one quiet second does not flap).
RECOVERY_TICKS = 3


def overload_tick(
    state: OverloadState, *, at: float, refused: int, reason: str | None
) -> tuple[OverloadState, OverloadAlarm | None]:
    """Fold the calls refused since the last tick (about a second) into the state.

    The first refusal raises an overload alarm; after :data:`RECOVERY_TICKS` ticks without
    one, a ``recovered`` alarm says how many calls the overload refused in all.

    >>> s, alarm = overload_tick(OverloadState(), at=10.0, refused=4, reason="setup_age")
    >>> alarm.state, s.refused_total
    ('overload', 4)
    >>> for t in (11.0, 12.0, 13.0):
    ...     s, alarm = overload_tick(s, at=t, refused=0, reason=None)
    >>> alarm.state, alarm.refused, s.overloaded
    ('recovered', 4, False)
    """
    if refused > 0:
        total = state.refused_total + refused
        if not state.overloaded:
            new = OverloadState(
                overloaded=True,
                since=at,
                refused_total=total,
                refused_in_episode=refused,
                reason=reason,
            )
            return new, OverloadAlarm("overload", refused, reason)
        return (
            replace(
                state,
                refused_total=total,
                refused_in_episode=state.refused_in_episode + refused,
                reason=reason or state.reason,
                quiet_ticks=0,
            ),
            None,
        )
    if not state.overloaded:
        return state, None
    if state.quiet_ticks + 1 < RECOVERY_TICKS:
        return replace(state, quiet_ticks=state.quiet_ticks + 1), None
    alarm = OverloadAlarm("recovered", state.refused_in_episode, state.reason)
    return OverloadState(refused_total=state.refused_total), alarm
