"""The center file an administrator edits, and how a checked new version takes effect.

Every change of the center — the admin page's YAML editor and structured forms, a skill
granted by passing a course — is a new version of the configuration text, checked by exactly
the rules of ``hotline config validate`` (:func:`hotline.config.validate.check_text`), written
to ``<home>/center.yaml``, audited, and handed to the running live driver, which switches to
it queue by queue and agent by agent, each when it holds no contact
(:meth:`hotline.live.driver.LiveDriver.reconfigure`). This module is that one path.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import yaml
from fastapi import Request
from sqlalchemy.orm import Session

from hotline.config.validate import check_text
from hotline.core.documents import load_yaml
from hotline.core.errors import Conflict
from hotline.identity import audit
from hotline.live import saved_center
from hotline.people.training import granted
from hotline.store import partitions

SAVED_NAME = "center.yaml"


def center_text(request: Request) -> tuple[str, str]:
    """The configuration text being edited and where it came from: on a web node the one the
    partition's owner last took up (from the log, whichever node saved it)."""
    settings = request.app.state.settings
    taken = getattr(request.app.state, "center_text", None)
    if taken is not None:
        return taken, "owner"
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


def problems_of(result: Any) -> list[dict[str, Any]]:
    """A check's errors and warnings as the pages and the API show them."""
    return [
        {"line": p.line, "field": p.field, "problem": p.rule, "level": level}
        for level, problems in (("error", result.errors), ("warning", result.warnings))
        for p in problems
    ]


def apply_live(request: Request, result: Any) -> dict[str, Any]:
    """Hand a saved configuration to the running live driver (each queue and agent switches
    at its own safe point: when it holds no contact).

    Without a live driver (tests, an app built without one) the file is only saved: a server
    starting in the same home (``hotline serve``, ``hotline demo``) loads it.
    """
    driver = getattr(request.app.state, "live", None)
    if driver is None and _web_node(request) is not None:
        # in the inbox (write_checked): the owner takes it up, then every web node
        return {"restart": False, "pending": True}
    if driver is None or result.config is None:
        return {"restart": True, "pending": False}
    driver.reconfigure(result.config)
    return {"restart": False, **driver.apply_status()}


def write_checked(
    request: Request,
    session: Session,
    *,
    text: str,
    actor: str,
    action: str,
    target: str,
    detail: dict[str, Any],
) -> Path:
    """Write a configuration text that passed the check to ``<home>/center.yaml`` and audit
    it (``action`` on ``target``, in the caller's transaction); the caller hands it to the
    live driver (:func:`apply_live`). On a web node without the engine the text also goes
    into the partition's inbox in that transaction, for the owner to take up and every web
    node after it (:mod:`hotline.live.saved_center`)."""
    path = Path(request.app.state.settings.home) / SAVED_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    audit.record(session, actor=actor, action=action, target=target, detail=detail)
    partition = _web_node(request)
    if partition is not None:
        partitions.accept(
            session,
            partition=partition,
            kind=saved_center.INBOX_KIND,
            payload=saved_center.payload(text, by=actor),
            at=time.time(),
        )
        # the admin page's status: pending until the log shows the owner took it up
        request.app.state.saved_version = saved_center.version_of(text)
    return path


def _web_node(request: Request) -> str | None:
    """The partition of a web node without the engine (``None`` with a driver in process)."""
    if getattr(request.app.state, "live", None) is not None:
        return None
    return getattr(request.app.state, "partition", None)


def grant_skill(
    request: Request,
    session: Session,
    *,
    actor: str,
    agent_id: str,
    skill: str,
    proficiency: int,
    detail: dict[str, Any],
) -> bool:
    """Raise ``agent_id``'s ``skill`` to ``proficiency`` in the center file (never lower it),
    by the path of every center edit: checked, written, audited as ``center.edit.skill``,
    handed to the live driver. False when the agent already held it at that level.
    ``Conflict`` when the agent is not in the file or the changed file would not pass."""
    text, _ = center_text(request)
    data = load_yaml(text, source=SAVED_NAME) if text else None
    agents = data.get("agents") if isinstance(data, dict) else None
    entry = next(
        (a for a in agents or [] if isinstance(a, dict) and str(a.get("id")) == agent_id), None
    )
    if entry is None:
        raise Conflict(f"agent {agent_id} is not in the center configuration: no skill to grant")
    skills = {str(k): int(v) for k, v in (entry.get("skills") or {}).items()}
    changed = granted(skills, skill=skill, proficiency=proficiency)
    if changed is None:
        return False
    entry["skills"] = changed
    new_text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
    result = check_text(new_text, file=SAVED_NAME)
    if not result.ok:
        first = result.errors[0]
        raise Conflict(f"granting {skill} {proficiency} to {agent_id} breaks the center: {first}")
    write_checked(
        request,
        session,
        text=new_text,
        actor=actor,
        action="center.edit.skill",
        target=agent_id,
        detail={"skill": skill, "proficiency": proficiency, "skills": changed, **detail},
    )
    apply_live(request, result)
    return True
