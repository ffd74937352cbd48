"""transcript speakers and segments: who speaks in each cue, and OHMS-style index points
(a titled part of a recording with keywords and a synopsis in both languages)

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("cue") as batch:
        batch.add_column(sa.Column("speaker", sa.String(length=80), server_default="", nullable=False))
    op.create_table(
        "transcript_segment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transcript_id", sa.Integer(), nullable=False),
        sa.Column("start_ms", sa.Integer(), nullable=False),
        sa.Column("title_es", sa.String(length=200), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=False),
        sa.Column("keywords_es", sa.String(length=500), nullable=False),
        sa.Column("keywords_en", sa.String(length=500), nullable=False),
        sa.Column("synopsis_es", sa.Text(), nullable=False),
        sa.Column("synopsis_en", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["transcript_id"],
            ["transcript.id"],
            name=op.f("fk_transcript_segment_transcript_id_transcript"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transcript_segment")),
    )
    op.create_index(op.f("ix_transcript_segment_transcript_id"), "transcript_segment", ["transcript_id"])


def downgrade():
    op.drop_index(op.f("ix_transcript_segment_transcript_id"), table_name="transcript_segment")
    op.drop_table("transcript_segment")
    with op.batch_alter_table("cue") as batch:
        batch.drop_column("speaker")
