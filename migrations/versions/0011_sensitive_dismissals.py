"""sensitive_dismissal: flags of the sensitive-passage assistant a curator chose to keep public

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sensitive_dismissal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("curator_id", sa.Integer(), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["story_id"], ["story.id"], name=op.f("fk_sensitive_dismissal_story_id_story"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["curator_id"],
            ["curator_account.id"],
            name=op.f("fk_sensitive_dismissal_curator_id_curator_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sensitive_dismissal")),
        sa.UniqueConstraint("story_id", "fingerprint", name=op.f("uq_sensitive_dismissal_story_id")),
    )
    op.create_index(op.f("ix_sensitive_dismissal_story_id"), "sensitive_dismissal", ["story_id"])


def downgrade():
    op.drop_index(op.f("ix_sensitive_dismissal_story_id"), table_name="sensitive_dismissal")
    op.drop_table("sensitive_dismissal")
