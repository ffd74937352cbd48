"""jobs: background work (draft transcripts) and the state admins see; transcripts made by speech
recognition are marked as machine drafts until a curator reviews them; archive settings

Revision ID: 0024
Revises: 0023
"""

import sqlalchemy as sa
from alembic import op


revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "job",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("media_id", sa.Integer(), sa.ForeignKey("media_file.id", ondelete="SET NULL"), nullable=True),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column(
            "requested_by_id",
            sa.Integer(),
            sa.ForeignKey("curator_account.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("automatic", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("claim", sa.String(32), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_job_state", "job", ["state"])
    op.create_index("ix_job_media_id", "job", ["media_id"])
    op.create_table(
        "archive_setting",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("value", sa.String(200), nullable=False),
    )
    with op.batch_alter_table("transcript") as batch:
        batch.add_column(sa.Column("machine_draft", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table("transcript") as batch:
        batch.drop_column("machine_draft")
    op.drop_table("archive_setting")
    op.drop_index("ix_job_media_id", "job")
    op.drop_index("ix_job_state", "job")
    op.drop_table("job")
