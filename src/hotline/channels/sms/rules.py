"""When a center may text a customer: quiet hours, and what an SMS may be sent for.

Customers are not texted at night: between ``start`` and ``end`` in the customer's time zone
(by default 21:00–08:00 China time) :func:`quiet_refusal` says why not and when to try again;
the caller keeps the message for then or drops it. A window that does not cross midnight
(e.g. 12:00–14:00, the lunch rest) works the same way.

>>> from datetime import datetime, timezone
>>> quiet_refusal(datetime(2026, 12, 3, 14, 0, tzinfo=timezone.utc), QuietHours())  # 22:00 CST
'quiet hours 21:00–08:00 (Asia/Shanghai): send after 08:00'
>>> quiet_refusal(datetime(2026, 12, 3, 2, 0, tzinfo=timezone.utc), QuietHours()) is None
True
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

#: What an SMS is for; reports and audits tell them apart (``conversation``: an agent's reply
#: to a customer who texted the center; ``verification``: a one-time code a chat visitor
#: asked for to prove the number is theirs).
PURPOSES = ("survey", "appointment_reminder", "follow_up", "notice", "conversation", "verification")

#: A customer's whole message asking to be texted no more: the words Chinese operators ask
#: senders to honour ("回复TD退订") and the English ones. Compared without case or spaces.
STOP_WORDS = frozenset({"STOP", "UNSUBSCRIBE", "退订", "TD", "T", "取消订阅"})


@dataclass(frozen=True, slots=True)
class QuietHours:
    """The hours no SMS goes out, in the customer's time zone."""

    start: time = time(21, 0)
    end: time = time(8, 0)
    zone: str = "Asia/Shanghai"


def quiet_refusal(now: datetime, hours: QuietHours) -> str | None:
    """Why no SMS may go out at ``now`` (timezone-aware), or ``None`` when one may."""
    local = now.astimezone(ZoneInfo(hours.zone)).time()
    if hours.start <= hours.end:
        quiet = hours.start <= local < hours.end
    else:
        quiet = local >= hours.start or local < hours.end
    if not quiet:
        return None
    return (
        f"quiet hours {hours.start:%H:%M}–{hours.end:%H:%M} ({hours.zone}): "
        f"send after {hours.end:%H:%M}"
    )


def quiet_until(now: datetime, hours: QuietHours) -> datetime | None:
    """When the quiet hours ``now`` falls in end (``None`` when it is not quiet at ``now``).

    >>> from datetime import timezone
    >>> quiet_until(datetime(2026, 12, 3, 14, 0, tzinfo=timezone.utc), QuietHours()).isoformat()
    '2026-12-04T08:00:00+08:00'
    >>> quiet_until(datetime(2026, 12, 3, 23, 0, tzinfo=timezone.utc), QuietHours()).isoformat()
    '2026-12-04T08:00:00+08:00'
    """
    if quiet_refusal(now, hours) is None:
        return None
    local = now.astimezone(ZoneInfo(hours.zone))
    end = local.replace(hour=hours.end.hour, minute=hours.end.minute, second=0, microsecond=0)
    return end if end > local else end + timedelta(days=1)


def stop_request(text: str) -> bool:
    """Whether a customer's SMS asks to be texted no more (the whole message a stop word).

    >>> [stop_request(t) for t in ("STOP", " 退订 ", "td", "please stop calling me")]
    [True, True, True, False]
    """
    return "".join(text.split()).upper() in STOP_WORDS
