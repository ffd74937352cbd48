"""media_fixity: the day each stored file of a media row was last re-hashed (the fixity command)

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    # No row for existing files: they count as never verified and go first in the rotation.
    op.create_table(
        "media_fixity",
        sa.Column("media_id", sa.Integer(), nullable=False),
        sa.Column("storage_key", sa.String(length=80), nullable=False),
        sa.Column("verified_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["media_id"], ["media_file.id"], name=op.f("fk_media_fixity_media_id_media_file"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("media_id", "storage_key", name=op.f("pk_media_fixity")),
    )


def downgrade():
    op.drop_table("media_fixity")
