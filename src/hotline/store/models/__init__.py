"""Every table's model; importing this package registers them all on ``Base.metadata``."""

from hotline.store.models import (
    campaigns,
    chat,
    cluster,
    crm,
    email,
    followup,
    health,
    imports,
    kb,
    notifications,
    people,
    quality,
    reports,
    sms,
    surveys,
    telephony,
    tickets,
    voice_nodes,
    voice_requests,
    wechat,
    wfm,
)
from hotline.store.models.core import AuditEntry, ContactEventRow, User
from hotline.store.models.identity import AuthSession, LoginFailures
from hotline.store.models.metrics import ContactRecordRow

__all__ = [
    "AuditEntry",
    "AuthSession",
    "ContactEventRow",
    "ContactRecordRow",
    "LoginFailures",
    "User",
    "campaigns",
    "chat",
    "cluster",
    "crm",
    "email",
    "followup",
    "health",
    "imports",
    "kb",
    "notifications",
    "people",
    "quality",
    "registered_tables",
    "reports",
    "sms",
    "surveys",
    "telephony",
    "tickets",
    "voice_nodes",
    "voice_requests",
    "wechat",
    "wfm",
]


def registered_tables() -> set[str]:
    """The names of every table the models define (all modules above are imported)."""
    from hotline.store.db import Base

    return set(Base.metadata.tables)
