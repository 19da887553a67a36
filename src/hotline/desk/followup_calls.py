"""Follow-up (回访) calls as campaigns: the due follow-ups become a campaign's list, and each
call's result goes back to the task and its ticket.

The 回访 group's plan is "system predictive dialling and due-date reminders": the follow-ups
the rules made (:mod:`hotline.followup`) are dialled by a campaign (:mod:`hotline.campaigns`)
in preview, progressive or predictive mode. The two domains stay independent; this module,
above both, does the composing:

- :func:`add_due_followups` puts the open tasks due by a time on a campaign's list, the most
  urgent first (:func:`hotline.followup.service.due_tasks`'s order), each record carrying its
  task and ticket (``followup_task``, ``ticket`` in the record's data, shown on the desk card);
- :func:`result_to_followup` carries a call's result back: a call that did not reach the
  customer (busy, no answer, failed, abandoned by the dialler) is one not-reached attempt of
  the task (:func:`hotline.followup.service.record_not_reached`: after the rule's last attempt
  the task ends ``unreached`` and the ticket's verification says so). A call that reached the
  customer leaves the task open for the answers the agent records on the workbench
  (``/followup``), which verify, reopen or complain about the ticket.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from hotline.campaigns import service as campaigns
from hotline.followup import service as followup

#: The record data keys linking a campaign record to its follow-up task and ticket.
FOLLOWUP_TASK, TICKET = "followup_task", "ticket"
#: Campaign results that did not reach the customer: one not-reached attempt of the task.
NOT_REACHED = frozenset({"busy", "no_answer", "failed", "abandoned"})


def add_due_followups(
    session: Session, *, campaign_id: int, until: datetime, actor: str
) -> dict[str, int]:
    """Put the open follow-ups due by ``until`` on the campaign's list, the most urgent first.

    Returns the list's counts (``added``, ``blocked``, ``already_listed``) and ``no_phone``
    (tasks whose customer has no number to call: they stay on the workbench).
    Example: ``add_due_followups(session, campaign_id=4, until=friday, actor="boss")``.
    """
    due = followup.due_tasks(session, until=until)
    rows = [
        campaigns.ListRow(
            line=0,
            phone=task.phone,
            customer_id=task.customer_id,
            data={
                FOLLOWUP_TASK: str(task.task_id),
                TICKET: str(task.ticket_id),
                "priority": task.priority,
                "due_at": task.due_at.isoformat(),
            },
        )
        for task in due
        if task.phone
    ]
    counts = campaigns.add_list(
        session,
        campaign_id=campaign_id,
        rows=rows,
        source=f"followup:due by {until.isoformat()}",
        actor=actor,
        action="campaign.list_followup",
        detail={"until": until.isoformat(), "due": len(due)},
    )
    return {**counts, "no_phone": len(due) - len(rows)}


def result_to_followup(
    session: Session, *, record: campaigns.CampaignRecord, result: str, actor: str, now: datetime
) -> int | None:
    """Carry a campaign call's result to the follow-up task its record came from; returns the
    task's id when the result counted as one of its attempts (``None`` otherwise: not a
    follow-up record, a result that reached the customer, or a task no longer open)."""
    task_id = (record.data or {}).get(FOLLOWUP_TASK)
    if task_id is None or result not in NOT_REACHED:
        return None
    task = followup.get_task(session, task_id=int(task_id))
    if not followup.is_open(task):
        return None
    followup.record_not_reached(
        session,
        task_id=task.id,
        actor=actor,
        note=f"campaign {record.campaign_id}: {result}",
        now=now,
    )
    return task.id
