"""Search outbox: stories whose index entries must be (re)written.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 10:43:05
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "search_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_outbox")),
    )
    op.create_index(op.f("ix_search_outbox_story_id"), "search_outbox", ["story_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_search_outbox_story_id"), table_name="search_outbox")
    op.drop_table("search_outbox")
