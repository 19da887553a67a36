"""Administration: the center's queues, skills, agents, teams, hours, codes, users and roles.

Every edit of the center is an edit of its configuration text, checked by exactly the rules
of ``hotline config validate`` (:func:`hotline.config.validate.check_text`) before it is
kept; a refused edit comes back with each problem's line and field. A kept edit is written to
``<home>/center.yaml``, audited, and takes effect when the server next starts (the live
engine keeps routing with the configuration it started with until then).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.config.center import WEEKDAYS
from hotline.config.validate import check_text
from hotline.identity import audit
from hotline.identity.roles import ALL_ROLES
from hotline.store.models.core import User
from hotline.web.auth import CurrentUser, db_session, require_roles
from hotline.web.pages import page_context, render
from hotline.web.pages.live import page_texts

router = APIRouter(include_in_schema=False)

ADMINS = ("admin", "manager")
SAVED_NAME = "center.yaml"


def center_text(request: Request) -> tuple[str, str]:
    """The configuration text being edited and where it came from."""
    settings = request.app.state.settings
    saved = Path(settings.home) / SAVED_NAME
    if saved.exists():
        return saved.read_text(encoding="utf-8"), str(saved)
    if settings.center_config and Path(settings.center_config).exists():
        path = Path(settings.center_config)
        return path.read_text(encoding="utf-8"), str(path)
    center = request.app.state.center
    if center is None:
        return "", ""
    data = center.model_dump(mode="json", exclude_defaults=True)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100), "running"


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
    context.update(
        center=request.app.state.center,
        users=users,
        roles=ALL_ROLES,
        weekdays=WEEKDAYS,
        config_text=text,
        config_origin=origin,
        can_save=user.has("admin"),
        texts=page_texts(request, context["lang"]),
    )
    return render(request, "admin.html", context)


class CenterText(BaseModel):
    """A whole center configuration, as YAML."""

    text: str = Field(max_length=2_000_000)


def _problems(result: Any) -> list[dict[str, Any]]:
    return [
        {"line": p.line, "field": p.field, "problem": p.rule, "level": level}
        for level, problems in (("error", result.errors), ("warning", result.warnings))
        for p in problems
    ]


@router.post("/admin/center")
def save_center(
    body: CenterText,
    request: Request,
    user: CurrentUser = Depends(require_roles("admin")),
    session: Session = Depends(db_session, scope="function"),
) -> JSONResponse:
    """Check the configuration text with the validator's rules; keep it only when valid."""
    result = check_text(body.text, file=SAVED_NAME)
    if not result.ok:
        return JSONResponse(
            {"error": "invalid_request", "saved": False, "problems": _problems(result)},
            status_code=422,
        )
    path = Path(request.app.state.settings.home) / SAVED_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body.text, encoding="utf-8")
    assert result.config is not None
    audit.record(
        session,
        actor=user.username,
        action="center.save",
        target=str(path),
        detail={
            "queues": len(result.config.queues),
            "agents": len(result.config.agents),
            "warnings": len(result.warnings),
        },
    )
    return JSONResponse(
        {"saved": True, "path": str(path), "problems": _problems(result), "restart": True}
    )
