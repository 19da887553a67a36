"""Customer search by pinyin: each customer's name in pinyin, filled for existing customers.

The import staging table carries it too, so imported customers arrive with it. Existing
customers get theirs here, in batches of 5,000 (a million customers take about a minute).

Revision ID: customersearch_0001
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

from hotline.crm.matching import pinyin_key

revision = "customersearch_0001"
down_revision = "0001_foundation"
branch_labels = ("customersearch",)
# The customers table is the service desk's; the staging table the imports'.
depends_on = ("servicedesk_0001", "imports_0001")

BATCH = 5_000


def upgrade() -> None:
    for table in ("customers", "import_staged_customers"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("name_pinyin", sa.String(512), nullable=False, server_default="")
            )
    bind = op.get_bind()
    customers = sa.table("customers", sa.column("id", sa.Integer()), sa.column("name", sa.String()))
    update = sa.text("UPDATE customers SET name_pinyin = :key WHERE id = :id")
    last = 0
    while True:
        rows = bind.execute(
            sa.select(customers.c.id, customers.c.name)
            .where(customers.c.id > last)
            .order_by(customers.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        bind.execute(update, [{"id": i, "key": pinyin_key(name)} for i, name in rows])
        last = rows[-1][0]
    op.create_index(op.f("ix_customers_name_pinyin"), "customers", ["name_pinyin"])


def downgrade() -> None:
    op.drop_index(op.f("ix_customers_name_pinyin"), table_name="customers")
    for table in ("customers", "import_staged_customers"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("name_pinyin")
