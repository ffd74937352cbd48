"""curator drafts: what a staff member typed into a story's form after their session expired,
kept for them to restore after signing in again

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "curator_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("page", sa.String(length=300), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["curator_account.id"],
            name=op.f("fk_curator_draft_account_id_curator_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["story_id"], ["story.id"], name=op.f("fk_curator_draft_story_id_story"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_curator_draft")),
        sa.UniqueConstraint("account_id", "page", name=op.f("uq_curator_draft_account_id")),
    )
    op.create_index(op.f("ix_curator_draft_account_id"), "curator_draft", ["account_id"])
    op.create_index(op.f("ix_curator_draft_story_id"), "curator_draft", ["story_id"])


def downgrade():
    op.drop_index(op.f("ix_curator_draft_story_id"), table_name="curator_draft")
    op.drop_index(op.f("ix_curator_draft_account_id"), table_name="curator_draft")
    op.drop_table("curator_draft")
