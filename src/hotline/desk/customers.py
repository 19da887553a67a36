"""Customer-centred work across CRM and tickets: the screen pop, merging two customers, undo.

When a call arrives the agent's desktop shows who is calling (:func:`screen_pop`): CRM finds
the customer(s) behind the calling number, their products and last contacts
(:func:`hotline.crm.service.lookup_number`), and the tickets domain adds their open tickets
(:func:`hotline.tickets.service.open_tickets_of`). A merge of two customer records moves the
tickets with the phones, products and contacts, and an undo moves them all back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from hotline.crm import service as crm
from hotline.tickets import service as tickets

# The other domains' rows that follow a customer through a merge.
FOLLOWING = (tickets.CUSTOMER_TICKETS,)


@dataclass
class ScreenPop:
    """What the agent's desktop shows when a call arrives."""

    calling_number: str
    e164: str | None
    customers: list[dict[str, Any]] = field(default_factory=list)
    products: list[dict[str, Any]] = field(default_factory=list)
    last_contacts: list[dict[str, Any]] = field(default_factory=list)
    open_tickets: list[dict[str, Any]] = field(default_factory=list)


def screen_pop(
    session: Session,
    *,
    calling_number: str,
    default_area_code: str | None = None,
    contacts: int = 5,
    masked: bool = False,
    chat: bool = False,
) -> ScreenPop:
    """Look up a calling number (or a chat's e-mail address): customer(s), their products,
    last contacts and open tickets.

    Several customers can share a number (a family landline); all are returned, newest
    contact first in each list. Example::

        pop = screen_pop(session, calling_number="+86 138 1234 5678")
        pop.customers[0]["name"]

    A chat or a WeChat follower (``chat``), and an e-mail (an address), is looked up by its
    channel identity first (:func:`hotline.crm.service.lookup_identity`): the customer an
    agent linked it to, then those on file. The last contacts are on every channel.
    """
    if chat or "@" in calling_number or calling_number.startswith(crm.WECHAT_PREFIX):
        # a chat, a WeChat follower or an e-mail's sender: the customer its identity was
        # linked to, then those on file with the address or number
        found = crm.lookup_identity(
            session,
            key=calling_number,
            default_area_code=default_area_code,
            contacts=contacts,
            masked=masked,
        )
    else:
        found = crm.lookup_number(
            session,
            calling_number=calling_number,
            default_area_code=default_area_code,
            contacts=contacts,
            masked=masked,
        )
    return ScreenPop(
        calling_number=found.calling_number,
        e164=found.e164,
        customers=found.customers,
        products=found.products,
        last_contacts=found.last_contacts,
        open_tickets=tickets.open_tickets_of(session, customer_ids=found.customer_ids),
    )


def merge_customers(
    session: Session, *, survivor_id: int, merged_id: int, actor: str
) -> crm.CustomerMerge:
    """Merge ``merged_id`` into ``survivor_id`` with its tickets, keeping all history."""
    return crm.merge_customers(
        session,
        survivor_id=survivor_id,
        merged_id=merged_id,
        actor=actor,
        following=FOLLOWING,
    )


def undo_merge(session: Session, *, merge_id: int, actor: str) -> crm.CustomerMerge:
    """Move everything a merge moved, tickets included, back and revive the merged customer."""
    return crm.undo_merge(session, merge_id=merge_id, actor=actor, following=FOLLOWING)
