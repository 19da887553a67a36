"""A progressive or predictive campaign's call on the agent's desk: the pop and what it needs.

The dialler rings the customer first and connects whoever answers to a free agent of the
campaign; the record then passes to that agent
(:func:`hotline.campaigns.service.hand_over`). The desk pops the campaign record as it pops an
inbound call (:func:`calls_of`): the campaign and its script, the record, the customer behind
the dialled number (the inbound screen pop, :func:`hotline.desk.customers.screen_pop`), the
follow-up task and its script questions when the record came from a follow-up list
(:data:`~hotline.desk.followup_calls.FOLLOWUP_TASK`), and the record's earlier attempts. The
agent's disposition goes through the preview's path (``POST
/api/campaigns/records/{id}/result``: the retry rules, the follow-up task, the audit).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from hotline.campaigns import service as campaigns
from hotline.desk.customers import ScreenPop, screen_pop
from hotline.desk.followup_calls import FOLLOWUP_TASK
from hotline.followup import service as followup
from hotline.tickets import service as tickets


@dataclass(frozen=True)
class DialledCall:
    """One connected campaign call an agent holds, with what the desk shows of it."""

    campaign: campaigns.Campaign
    record: campaigns.CampaignRecord
    earlier: list[campaigns.CampaignAttempt]
    """The record's attempts before this call, the first first."""
    pop: ScreenPop
    followup: dict[str, Any] | None
    """The follow-up task (id, ticket number, script, questions) of a follow-up record."""


def _followup_of(session: Session, record: campaigns.CampaignRecord) -> dict[str, Any] | None:
    task_id = (record.data or {}).get(FOLLOWUP_TASK)
    if task_id is None:
        return None
    task = followup.get_task(session, task_id=int(task_id))
    ticket = tickets.get_ticket(session, ticket_id=task.ticket_id)
    return {
        "id": task.id,
        "ticket_number": ticket.number,
        "script": task.script,
        "questions": list(task.questions),
        "state": task.state,
    }


def calls_of(session: Session, *, agent_id: str, masked: bool) -> list[DialledCall]:
    """The dialled calls handed to ``agent_id`` that wait for their disposition, the latest
    first; personal data masked for roles the policy keeps it from (``masked``).

    Example: ``calls_of(session, agent_id="a001", masked=False)[0].campaign.name``.
    """
    found: list[DialledCall] = []
    for record in campaigns.dialled_records(session, agent_id=agent_id):
        found.append(
            DialledCall(
                campaign=campaigns.get_campaign(session, campaign_id=record.campaign_id),
                record=record,
                earlier=[
                    a
                    for a in campaigns.attempts_of(session, record_id=record.id)
                    if a.contact_id != record.contact_id
                ],
                pop=screen_pop(session, calling_number=record.phone, masked=masked),
                followup=_followup_of(session, record),
            )
        )
    return found
