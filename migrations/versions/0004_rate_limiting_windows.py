"""rate limiting windows (global counters, no addresses)

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "rate_window",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("window", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", "window", name=op.f("pk_rate_window")),
    )


def downgrade():
    op.drop_table("rate_window")
