"""Every table's model; importing this package registers them all on ``Base.metadata``."""

from hotline.store.models.core import AuditEntry, ContactEventRow, User

__all__ = ["AuditEntry", "ContactEventRow", "User"]
