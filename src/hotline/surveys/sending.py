"""When a survey link goes out on its own, and how: the ``surveys.send`` rule's decisions.

After a resolved ticket or a finished voice/chat contact the center asks the customer how it
went (满意度回访) — but not at once (the engineer may still be at the door), not twice about
the same thing, not every week to the same person, and never by SMS to a number on a
do-not-call list. This module decides, for one such occasion, whether to wait, to skip or to
send, and on which carrier; :func:`hotline.surveys.service.send_due_links` gathers the
occasions and carries the decisions out. Pure: no clock, no database.

>>> from datetime import UTC, datetime
>>> from hotline.config.surveys import SurveySendRule
>>> rule = SurveySendRule(after_tickets=["repair"], base_url="https://cc.example.com")
>>> at = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)
>>> occasion = Occasion("ticket:7", "ticket", "repair", at, 42, email="c@example.com")
>>> decide(rule, occasion, now=at, sms_gateway=False, mailbox=True).action
'wait'
>>> decide(rule, occasion, now=at.replace(hour=3), sms_gateway=False, mailbox=True).action
'email'

A link whose SMS was refused for a while is tried again (:func:`next_try`) with growing waits
and a bounded number of attempts; :func:`hotline.surveys.service.send_due_links` keeps count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from hotline.config.surveys import SurveySendRule

Action = Literal["wait", "skip", "email", "sms"]
OccasionKind = Literal["ticket", "contact"]


@dataclass(frozen=True)
class Occasion:
    """Something a survey may follow: a resolved ticket or a finished contact.

    ``key`` names it once and for all (``ticket:<id>``, ``contact:<id>``: the sweep sends at
    most one link per key); ``what`` is the ticket's type or the contact's channel; ``ended``
    when it was resolved or ended. ``last_invited`` is when the customer was last sent a link,
    ``answered_in_channel`` whether they already answered the survey in the contact itself,
    ``do_not_call`` whether their mobile number is on a do-not-call list.
    """

    key: str
    kind: OccasionKind
    what: str
    ended: datetime
    customer_id: int | None
    email: str | None = None
    mobile: str | None = None
    last_invited: datetime | None = None
    answered_in_channel: bool = False
    do_not_call: bool = False


@dataclass(frozen=True)
class Decision:
    """What to do about an occasion now, and why (the reason a sweep reports)."""

    action: Action
    reason: str = ""


def triggered(rule: SurveySendRule, occasion: Occasion) -> bool:
    """Whether the rule asks for a survey after this kind of ticket or contact at all."""
    if occasion.kind == "ticket":
        return occasion.what in rule.after_tickets
    return occasion.what in rule.after_contacts


def decide(
    rule: SurveySendRule, occasion: Occasion, *, now: datetime, sms_gateway: bool, mailbox: bool
) -> Decision:
    """Wait, skip or send (and by what) for ``occasion`` at ``now``.

    ``sms_gateway`` and ``mailbox`` say whether the center can send an SMS or an e-mail at
    all. E-mail comes first (it costs nothing and reaches no one's phone at night); SMS only
    to a mobile number that no do-not-call list holds.
    """
    if not triggered(rule, occasion):
        return Decision("skip", f"the rule sends nothing after a {occasion.kind} {occasion.what}")
    if occasion.customer_id is None:
        return Decision("skip", "no known customer")
    if occasion.answered_in_channel:
        return Decision("skip", "answered the survey in the contact itself")
    if now < occasion.ended + timedelta(minutes=rule.wait_minutes):
        return Decision("wait", f"{rule.wait_minutes} minutes after it ended")
    if occasion.last_invited is not None and now < occasion.last_invited + timedelta(
        days=rule.once_per_days
    ):
        return Decision("skip", f"invited in the last {rule.once_per_days} days")
    if occasion.email and mailbox:
        return Decision("email")
    if occasion.mobile and sms_gateway:
        if occasion.do_not_call:
            return Decision("skip", "the mobile number is on a do-not-call list")
        return Decision("sms")
    return Decision("skip", "no e-mail address or mobile number the center can reach")


def next_try(
    rule: SurveySendRule, *, attempts: int, now: datetime, not_before: datetime | None = None
) -> datetime | None:
    """When to try a link's SMS again after ``attempts`` tries, or ``None``: give up.

    The waits grow threefold (``retry_minutes``, then three times that, …); ``not_before``
    (the end of the quiet hours) puts the next try no earlier than that.

    >>> from datetime import UTC
    >>> rule = SurveySendRule(after_tickets=["repair"], base_url="https://cc.example.com",
    ...                       sms_attempts=3, retry_minutes=5)
    >>> at = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)
    >>> [next_try(rule, attempts=n, now=at) for n in (1, 2)] == [
    ...     at + timedelta(minutes=5), at + timedelta(minutes=15)]
    True
    >>> next_try(rule, attempts=3, now=at) is None
    True
    """
    if attempts >= rule.sms_attempts:
        return None
    at = now + timedelta(minutes=rule.retry_minutes * 3 ** (attempts - 1))
    return max(at, not_before) if not_before is not None else at
