"""Survey links by SMS tried again: where each link's SMS stands, how often it was tried.

``sms_state`` is ``sending`` while an attempt is out (committed before the SMS leaves, so a
crash never lets a later sweep text the link twice), ``pending`` with ``sms_next_try_at``
after a refusal that passes (the gateway down, quiet hours), ``sent``, or ``failed`` with
``sms_reason`` once the attempts are spent or the refusal is final (a do-not-call list).
Links by e-mail or by hand, and those sent before this revision, leave it empty.

Revision ID: surveyretry_0001
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

from hotline.store.db import UTCDateTime

revision = "surveyretry_0001"
down_revision = "0001_foundation"
branch_labels = ("surveyretry",)
# The survey_invitations table is the surveys branch's; its occasion column surveylinks'.
depends_on = ("surveylinks_0001",)


def upgrade() -> None:
    with op.batch_alter_table("survey_invitations") as batch:
        batch.add_column(sa.Column("sms_state", sa.String(16), nullable=True))
        batch.add_column(
            sa.Column("sms_attempts", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("sms_next_try_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("sms_reason", sa.String(255), nullable=True))
        batch.create_index("ix_survey_invitations_sms_retry", ["sms_state", "sms_next_try_at"])


def downgrade() -> None:
    with op.batch_alter_table("survey_invitations") as batch:
        batch.drop_index("ix_survey_invitations_sms_retry")
        batch.drop_column("sms_reason")
        batch.drop_column("sms_next_try_at")
        batch.drop_column("sms_attempts")
        batch.drop_column("sms_state")
