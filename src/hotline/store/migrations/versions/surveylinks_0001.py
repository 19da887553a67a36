"""Survey links sent by rule: the customer each went to and the occasion it followed.

``occasion`` (``ticket:<id>``, ``contact:<id>``) is unique, so the sweep can never send two
links about the same resolved ticket or finished contact, even when two sweeps race or one
crashes between recording a link and sending it; ``customer_id`` lets it keep a customer to
one invitation every so many days. Links sent by hand leave both empty.

Revision ID: surveylinks_0001
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

revision = "surveylinks_0001"
down_revision = "0001_foundation"
branch_labels = ("surveylinks",)
# The survey_invitations table is the surveys branch's.
depends_on = ("surveys_0001",)


def upgrade() -> None:
    with op.batch_alter_table("survey_invitations") as batch:
        batch.add_column(sa.Column("customer_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("occasion", sa.String(80), nullable=True))
        batch.create_index("ix_survey_invitations_customer", ["customer_id", "created_at"])
        batch.create_unique_constraint("uq_survey_invitations_occasion", ["occasion"])


def downgrade() -> None:
    with op.batch_alter_table("survey_invitations") as batch:
        batch.drop_constraint("uq_survey_invitations_occasion", type_="unique")
        batch.drop_index("ix_survey_invitations_customer")
        batch.drop_column("occasion")
        batch.drop_column("customer_id")
