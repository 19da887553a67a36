"""Which ticket an inbound e-mail belongs to.

A reply carries the Message-IDs it answers (``In-Reply-To``, ``References``): when one of
them is a message we sent or received on a ticket, that ticket wins; mail clients keep these
headers even when the customer rewrites the subject. A customer who writes a fresh message
about the same case usually keeps the ticket number we put in the subject (``[#…]``): that
comes second. Anything else opens a new ticket.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

#: The tag :func:`hotline.channels.email.headers.tag_subject` writes; ticket numbers are the
#: opening day and a sequence (``20261203000042``), so 14 digits or more.
SUBJECT_TAG = re.compile(r"\[#(\d{14,20})\]")


@dataclass(frozen=True)
class ThreadDecision:
    """The ticket a message goes to (``None``: a new one) and the rule that decided."""

    ticket_id: int | None
    by: Literal["references", "subject", "new"]


def ticket_number_in(subject: str) -> str | None:
    """The ticket number tagged in a subject, if any (the last tag: replies prepend).

    >>> ticket_number_in("Re: 热水器不加热 [#20261203000042]")
    '20261203000042'
    """
    found = SUBJECT_TAG.findall(subject)
    return found[-1] if found else None


def thread(
    *,
    referenced: Sequence[str],
    known: Mapping[str, int],
    subject_number: str | None,
    numbers: Mapping[str, int],
) -> ThreadDecision:
    """Decide the ticket of a message.

    ``referenced``: the Message-IDs it answers, nearest first; ``known``: those of them we
    have on a ticket (id → ticket id); ``subject_number``: the ticket number in its subject;
    ``numbers``: that number's ticket, when it exists.

    >>> thread(referenced=["<r@x>"], known={"<r@x>": 7}, subject_number=None, numbers={})
    ThreadDecision(ticket_id=7, by='references')
    """
    for message_id in referenced:
        if message_id in known:
            return ThreadDecision(known[message_id], "references")
    if subject_number is not None and subject_number in numbers:
        return ThreadDecision(numbers[subject_number], "subject")
    return ThreadDecision(None, "new")
