"""search log: the outbox grown into a numbered log, so that every machine's own index follows
it from its own position (entries waiting in the outbox are carried over, unnumbered)

Revision ID: 0027
Revises: 0026
"""

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "search_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=True),
        sa.Column("story_id", sa.Integer(), nullable=True),
        sa.Column("partner_story_id", sa.Integer(), nullable=True),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_log")),
    )
    op.create_index(op.f("ix_search_log_seq"), "search_log", ["seq"], unique=True)
    # Search asks which of a page's stories changed past its index's position (``follow.stale``).
    op.create_index(op.f("ix_search_log_story_id"), "search_log", ["story_id"], unique=False)
    op.create_index(op.f("ix_search_log_partner_story_id"), "search_log", ["partner_story_id"], unique=False)
    op.create_table(
        "search_log_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("numbered", sa.Integer(), nullable=False),
        sa.Column("pruned_below", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_log_state")),
    )
    op.execute("INSERT INTO search_log_state (id, numbered, pruned_below) VALUES (1, 0, 0)")
    op.execute(
        "INSERT INTO search_log (story_id, queued_at) SELECT story_id, queued_at FROM search_outbox ORDER BY id"
    )
    op.drop_index(op.f("ix_search_outbox_story_id"), table_name="search_outbox")
    op.drop_table("search_outbox")


def downgrade():
    op.create_table(
        "search_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_outbox")),
    )
    op.create_index(op.f("ix_search_outbox_story_id"), "search_outbox", ["story_id"], unique=False)
    op.execute(
        "INSERT INTO search_outbox (story_id, queued_at) SELECT story_id, queued_at FROM search_log "
        "WHERE story_id IS NOT NULL AND seq IS NULL ORDER BY id"
    )
    op.drop_table("search_log_state")
    op.drop_index(op.f("ix_search_log_partner_story_id"), table_name="search_log")
    op.drop_index(op.f("ix_search_log_story_id"), table_name="search_log")
    op.drop_index(op.f("ix_search_log_seq"), table_name="search_log")
    op.drop_table("search_log")
