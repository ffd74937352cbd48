"""contributor sessions on the server; submissions (one story per sent form, sealed receipt)

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "contributor_session",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("contributor_id", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contributor_id"],
            ["contributor.id"],
            name=op.f("fk_contributor_session_contributor_id_contributor"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_contributor_session")),
    )
    op.create_index(
        op.f("ix_contributor_session_contributor_id"), "contributor_session", ["contributor_id"], unique=False
    )
    op.create_table(
        "submission",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=True),
        sa.Column("sealed_code", sa.LargeBinary(length=512), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["story_id"], ["story.id"], name=op.f("fk_submission_story_id_story"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_submission")),
    )
    op.create_index(op.f("ix_submission_story_id"), "submission", ["story_id"], unique=False)
    op.create_index(op.f("ix_submission_created_at"), "submission", ["created_at"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_submission_created_at"), table_name="submission")
    op.drop_index(op.f("ix_submission_story_id"), table_name="submission")
    op.drop_table("submission")
    op.drop_index(op.f("ix_contributor_session_contributor_id"), table_name="contributor_session")
    op.drop_table("contributor_session")
