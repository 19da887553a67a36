"""SMS notices by rule: which occasions are due a text now, and what it says.

An **occasion** is something the customer should hear about before it happens: a
field-service visit's appointment window (``appointment:<ticket>:<start>``; a visit moved to
another time is a new occasion and gets its own reminder) or a follow-up (回访) call
(``follow_up:<task>``). The center's rule (:class:`hotline.config.sms_notices.SmsNoticeRule`)
opens a **window** ``hours_before`` the occasion: from then until the occasion itself the
notice may go out; a refusal that passes (quiet hours, the gateway down) is tried again inside
the window, and once the occasion has come there is nothing left worth saying. Pure: no
clock, no database; :mod:`hotline.live.notice_sweep` gathers the occasions and sends.

>>> from datetime import UTC, datetime
>>> from hotline.config.sms_notices import SmsNoticeRule
>>> rule = SmsNoticeRule(kind="follow_up", hours_before=2, text={"zh-CN": "{due}前回访{number}"})
>>> call = NoticeOccasion("follow_up:3", "follow_up", datetime(2026, 12, 3, 8, tzinfo=UTC), 7,
...                       "T-7", 42)
>>> due(rule, call, now=datetime(2026, 12, 3, 5, tzinfo=UTC)), due(rule, call,
...     now=datetime(2026, 12, 3, 6, tzinfo=UTC))
(False, True)
>>> render(rule, call, language="zh-CN", zone="Asia/Shanghai")
'12-03 16:00前回访T-7'
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hotline.config.sms_notices import NoticeKind, SmsNoticeRule

#: How long a notice the gateway could not take waits for the next try (quiet hours wait
#: for their end instead).
RETRY_AFTER = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class NoticeOccasion:
    """A visit or a call the customer is told about: ``at`` is when it starts (the window's
    start, the call's due time), ``ends`` the end of an appointment window."""

    key: str
    kind: NoticeKind
    at: datetime
    ticket_id: int
    number: str
    customer_id: int | None
    ends: datetime | None = None


def appointment_key(ticket_id: int, start: datetime) -> str:
    """The occasion key of a ticket's visit at ``start`` (a moved visit gets a new one).

    >>> from datetime import UTC
    >>> appointment_key(7, datetime(2026, 12, 3, 1, tzinfo=UTC))
    'appointment:7:1796259600'
    """
    return f"appointment:{ticket_id}:{int(start.timestamp())}"


def window(rule: SmsNoticeRule, occasion: NoticeOccasion) -> tuple[datetime, datetime]:
    """When the notice may go out: from ``hours_before`` the occasion until it starts."""
    return occasion.at - timedelta(hours=rule.hours_before), occasion.at


def due(rule: SmsNoticeRule, occasion: NoticeOccasion, *, now: datetime) -> bool:
    """Whether the notice's window is open at ``now``."""
    opens, closes = window(rule, occasion)
    return opens <= now < closes


def next_try(*, now: datetime, closes: datetime, retry_at: datetime | None) -> datetime | None:
    """When to try a refused notice again (``retry_at``: the quiet hours' end, else a few
    minutes on), or ``None`` when that would be too late: the window closes first.

    >>> from datetime import UTC
    >>> at = datetime(2026, 12, 3, 1, tzinfo=UTC)
    >>> next_try(now=at, closes=at + timedelta(hours=1), retry_at=None) == at + RETRY_AFTER
    True
    >>> next_try(now=at, closes=at + timedelta(hours=1), retry_at=at + timedelta(hours=2))
    """
    at = retry_at if retry_at is not None else now + RETRY_AFTER
    return at if at < closes else None


def render(
    rule: SmsNoticeRule, occasion: NoticeOccasion, *, language: str | None, zone: str
) -> str:
    """The notice's text in the customer's language, times in the center's ``zone``."""
    local = occasion.at.astimezone(ZoneInfo(zone))
    ends = (occasion.ends or occasion.at).astimezone(ZoneInfo(zone))
    return rule.wording(language).format(
        number=occasion.number,
        date=f"{local:%m-%d}",
        start=f"{local:%H:%M}",
        end=f"{ends:%H:%M}",
        due=f"{local:%m-%d %H:%M}",
    )
