"""Administration: the center's queues, skills, agents, teams, hours, codes, users and roles.

Every edit of the center is an edit of its configuration text, checked by exactly the rules
of ``hotline config validate`` (:func:`hotline.config.validate.check_text`) before it is
kept; a refused edit comes back with each problem's line and field. A kept edit is written to
``<home>/center.yaml``, audited, and handed to the running live driver, which switches to it
queue by queue and agent by agent, each when it holds no contact
(:meth:`hotline.live.driver.LiveDriver.reconfigure`). After a
restart the server routes with the file it is started with (``hotline serve --center``).
Besides the YAML editor, structured forms change a queue's targets and wrap-up, an agent's
team and skills, and a calendar's hours and holidays; each writes a new configuration checked
by the same rules.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.config.bot import BotSettings
from hotline.config.validate import check_text
from hotline.core.calendar import WEEKDAYS
from hotline.core.documents import load_yaml
from hotline.core.errors import NotFound
from hotline.identity.roles import ALL_ROLES
from hotline.store.models.core import User
from hotline.web.api.responses import Number, ResponseModel
from hotline.web.auth import CurrentUser, db_session, require_roles
from hotline.web.center_file import SAVED_NAME, center_text, write_checked
from hotline.web.center_file import apply_live as _apply
from hotline.web.center_file import problems_of as _problems
from hotline.web.pages.live import page_texts
from hotline.web.pages.rendering import page_context, render

router = APIRouter(include_in_schema=False)

ADMINS = ("admin", "manager")


@router.get("/admin", response_class=HTMLResponse)
def admin_page(
    request: Request,
    user: CurrentUser = Depends(require_roles(*ADMINS)),
    session: Session = Depends(db_session, scope="function"),
) -> HTMLResponse:
    """Every part of the center configuration, the users, and the configuration editor."""
    text, origin = center_text(request)
    users = session.scalars(select(User).order_by(User.username)).all()
    context = page_context(request, user)
    # Show the configuration as saved (it may not be routing yet: see the apply status).
    shown = check_text(text, file=SAVED_NAME).config if text else None
    center = shown or request.app.state.center
    context.update(
        center=center,
        users=users,
        roles=ALL_ROLES,
        weekdays=WEEKDAYS,
        config_text=text,
        config_origin=origin,
        can_save=user.has("admin"),
        live=getattr(request.app.state, "live", None) is not None,
        # The bot's form shows the settings in the file, or the defaults it would start with.
        bot=(center.bot if center is not None else None) or BotSettings(),
        texts=page_texts(request, context["lang"]),
    )
    return render(request, "admin.html", context)


class CenterText(BaseModel):
    """A whole center configuration, as YAML."""

    text: str = Field(max_length=2_000_000)


class CenterProblemOut(ResponseModel):
    """A problem in the edited configuration: line, field, rule, ``error`` or ``warning``;
    after a structured edit also the form ``input`` it concerns (``null``: elsewhere)."""

    line: int | None
    field: str | None
    problem: str
    level: str
    input: str | None = None


class WaitingPieceOut(ResponseModel):
    """A queue or agent whose new configuration waits, and why: the contact holding it up
    (``contact``, ``stage``, ``agent``), the queue still overflowing to it
    (``overflow_from``), or ``stage: quiet`` for engine-wide settings."""

    kind: str
    id: str
    reason: str
    contact: str | None = None
    stage: str
    agent: str | None = None
    overflow_from: str | None = None


class SavedOnlyStatusOut(ResponseModel):
    """No live driver runs here: a saved configuration takes effect at the next start, or,
    on a web node (``owner``), once the partition's owner has taken it up (``pending``
    until this node's last save is in force here)."""

    live: Literal[False]
    pending: bool
    applied_at: Number | None
    saved: bool
    owner: bool = False


class LiveApplyStatusOut(ResponseModel):
    """The live driver's progress with a saved configuration: what still waits, and why."""

    live: Literal[True]
    saved: bool
    pending: bool
    applied_at: Number | None
    waiting: list[WaitingPieceOut]
    whole: list[str]


#: Whether a saved configuration still waits to take effect.
ApplyStatusOut = Annotated[SavedOnlyStatusOut | LiveApplyStatusOut, Field(discriminator="live")]


class CenterSavedOut(ResponseModel):
    """A kept (or, with ``save`` false, only checked) configuration: where it was written,
    its warnings, and how it takes effect: at once piece by piece on the running driver
    (``pending``, ``waiting``, ``whole``) or at the next start (``restart``). A check alone
    answers ``ok`` and the new ``text``."""

    saved: bool
    ok: bool | None = None
    path: str | None = None
    problems: list[CenterProblemOut]
    text: str | None = None
    restart: bool | None = None
    pending: bool | None = None
    applied_at: Number | None = None
    waiting: list[WaitingPieceOut] | None = None
    whole: list[str] | None = None


# Fields an answer does not have stay out of it (``response_model_exclude_unset``).
@router.post("/admin/center", response_model=CenterSavedOut, response_model_exclude_unset=True)
def save_center(
    body: CenterText,
    request: Request,
    user: CurrentUser = Depends(require_roles("admin")),
    session: Session = Depends(db_session, scope="function"),
) -> CenterSavedOut | JSONResponse:
    """Check the configuration text with the validator's rules; keep it only when valid."""
    result = check_text(body.text, file=SAVED_NAME)
    if not result.ok:
        return JSONResponse(
            {"error": "invalid_request", "saved": False, "problems": _problems(result)},
            status_code=422,
        )
    assert result.config is not None
    path = write_checked(
        request,
        session,
        text=body.text,
        actor=user.username,
        action="center.save",
        target=str(Path(request.app.state.settings.home) / SAVED_NAME),
        detail={
            "queues": len(result.config.queues),
            "agents": len(result.config.agents),
            "warnings": len(result.warnings),
        },
    )
    return CenterSavedOut.model_validate(
        {"saved": True, "path": str(path), "problems": _problems(result), **_apply(request, result)}
    )


@router.get("/admin/center/status", response_model=ApplyStatusOut)
def apply_status(
    request: Request, _: CurrentUser = Depends(require_roles(*ADMINS))
) -> SavedOnlyStatusOut | LiveApplyStatusOut:
    """Whether a saved configuration still waits to take effect: which queues and agents, why.

    ``waiting`` lists each piece not yet applied with the contact that holds it up
    (``contact``, ``stage``, ``agent``), for the page to word in the reader's language.
    """
    driver = getattr(request.app.state, "live", None)
    saved = (Path(request.app.state.settings.home) / SAVED_NAME).exists()
    tail = getattr(request.app.state, "log_tail", None)
    if driver is None and tail is not None:
        # a web node: the owner takes a save up, then this node from the log
        mine = getattr(request.app.state, "saved_version", None)
        pending = mine is not None and mine != tail.center_version
        return SavedOnlyStatusOut(
            live=False, pending=pending, applied_at=None, saved=saved, owner=True
        )
    if driver is None:
        return SavedOnlyStatusOut(live=False, pending=False, applied_at=None, saved=saved)
    return LiveApplyStatusOut.model_validate(
        {"live": True, "saved": saved, **driver.apply_status()}
    )


class QueueEdit(BaseModel):
    """A queue's service-level target and wrap-up time."""

    kind: Literal["queue"]
    id: str
    service_level: float
    threshold_s: float
    wrap_up_s: float


class AgentEdit(BaseModel):
    """An agent's team and skills with their proficiency (skill id → level)."""

    kind: Literal["agent"]
    id: str
    team: str | None = None
    skills: dict[str, int]


class Holiday(BaseModel):
    """One holiday: closed, or open for the hours given."""

    date: str
    name: str = ""
    hours: list[str] = Field(default_factory=list)


class HoursEdit(BaseModel):
    """A business-hours calendar: opening hours per weekday and the holidays."""

    kind: Literal["hours"]
    id: str
    hours: dict[str, list[str]]
    holidays: list[Holiday] = Field(default_factory=list)


class BotEdit(BaseModel):
    """The first-line bot: the chat queues it talks first on, its confidence threshold, the
    words that hand over to an agent, and the failed turns before it hands over itself."""

    kind: Literal["bot"]
    id: Literal["bot"] = "bot"
    queues: list[str]
    threshold: float
    handover_words: list[str]
    max_failed_turns: int


Edit = QueueEdit | AgentEdit | HoursEdit | BotEdit


class StructuredEdit(BaseModel):
    """One structured edit of the center; ``save`` false only checks it."""

    edit: Edit = Field(discriminator="kind")
    save: bool = True


def _entry(data: dict[str, Any], section: str, entry_id: str) -> tuple[int, dict[str, Any]]:
    for index, entry in enumerate(data.get(section) or []):
        if isinstance(entry, dict) and str(entry.get("id")) == entry_id:
            return index, entry
    raise NotFound(f"no {section[:-1]} {entry_id!r} in the configuration")


def _apply_edit(data: dict[str, Any], edit: Edit) -> str:
    """Change ``data`` (the parsed configuration) in place; return the edited entry's path."""
    if isinstance(edit, BotEdit):
        bot = dict(data.get("bot") or {})
        bot.update(edit.model_dump(exclude={"kind", "id"}))
        data["bot"] = bot
        return "bot"
    if isinstance(edit, QueueEdit):
        index, queue = _entry(data, "queues", edit.id)
        target = dict(queue.get("target") or {})
        target.update(service_level=edit.service_level, threshold_s=edit.threshold_s)
        queue["target"] = target
        queue["wrap_up_s"] = edit.wrap_up_s
        return f"queues[{index}]"
    if isinstance(edit, AgentEdit):
        index, agent = _entry(data, "agents", edit.id)
        agent["skills"] = dict(edit.skills)
        if edit.team:
            agent["team"] = edit.team
        else:
            agent.pop("team", None)
        return f"agents[{index}]"
    index, calendar = _entry(data, "calendars", edit.id)
    calendar["hours"] = {day: list(edit.hours.get(day, [])) for day in WEEKDAYS}
    holidays = []
    for holiday in edit.holidays:
        entry: dict[str, Any] = {"date": holiday.date, "name": holiday.name}
        if holiday.hours:
            entry["hours"] = list(holiday.hours)
        holidays.append(entry)
    calendar["holidays"] = holidays
    return f"calendars[{index}]"


def _form_field(field: str | None, prefix: str) -> str | None:
    """The form input a validator problem belongs to (``queues[1].target.threshold_s`` →
    ``threshold_s``), or ``None`` when the problem is elsewhere in the configuration."""
    if not field or not (field == prefix or field.startswith(prefix + ".")):
        return None
    parts = [re.sub(r"\[\d+\]$", "", part) for part in field[len(prefix) + 1 :].split(".")]
    if len(parts) > 1 and parts[0] in ("target", "hours"):
        return parts[1]
    return parts[0] or None


@router.post("/admin/center/edit", response_model=CenterSavedOut, response_model_exclude_unset=True)
def edit_center(
    body: StructuredEdit,
    request: Request,
    user: CurrentUser = Depends(require_roles("admin")),
    session: Session = Depends(db_session, scope="function"),
) -> CenterSavedOut | JSONResponse:
    """Make one structured edit, check the whole new configuration like ``hotline config
    validate``, and keep it only when valid; each problem names the form field it concerns.

    The edit is applied to the parsed configuration and written back as YAML, so comments in
    the file are not kept (the YAML editor keeps them).
    """
    text, _ = center_text(request)
    data = load_yaml(text, source=SAVED_NAME) if text else None
    if not isinstance(data, dict):
        return JSONResponse({"error": "not_found", "message": "no configuration"}, 404)
    try:
        prefix = _apply_edit(data, body.edit)
    except NotFound as missing:
        return JSONResponse({"error": "not_found", "message": str(missing)}, 404)
    new_text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
    result = check_text(new_text, file=SAVED_NAME)
    problems = [{**p, "input": _form_field(p["field"], prefix)} for p in _problems(result)]
    if not result.ok:
        return JSONResponse(
            {"error": "invalid_request", "saved": False, "problems": problems}, status_code=422
        )
    if not body.save:
        return CenterSavedOut.model_validate(
            {"saved": False, "ok": True, "problems": problems, "text": new_text}
        )
    path = write_checked(
        request,
        session,
        text=new_text,
        actor=user.username,
        action=f"center.edit.{body.edit.kind}",
        target=body.edit.id,
        detail=body.edit.model_dump(mode="json"),
    )
    return CenterSavedOut.model_validate(
        {"saved": True, "path": str(path), "problems": problems, **_apply(request, result)}
    )
