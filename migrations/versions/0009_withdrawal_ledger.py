"""the withdrawal ledger's entries this database holds (see the ledger module)

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "ledger_entry",
        sa.Column("entry_id", sa.String(length=32), nullable=False),
        sa.Column("applied_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_ledger_entry")),
    )


def downgrade():
    op.drop_table("ledger_entry")
