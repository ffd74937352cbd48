"""paragraph translations: the story body translated paragraph by paragraph, each with its
provenance and a hash of the paragraph it translates

Revision ID: 0015
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "paragraph_translation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("provenance", sa.String(length=24), nullable=False),
        sa.Column("source_digest", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["story_id"], ["story.id"], name=op.f("fk_paragraph_translation_story_id_story"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paragraph_translation")),
        sa.UniqueConstraint("story_id", "position", "language", name=op.f("uq_paragraph_translation_story_id")),
    )
    op.create_index(op.f("ix_paragraph_translation_story_id"), "paragraph_translation", ["story_id"])


def downgrade():
    op.drop_index(op.f("ix_paragraph_translation_story_id"), table_name="paragraph_translation")
    op.drop_table("paragraph_translation")
