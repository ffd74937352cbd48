"""silenced public copy of recordings with withheld passages

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("media_file") as batch:
        batch.add_column(sa.Column("public_audio_key", sa.String(length=80), nullable=True))
        batch.add_column(sa.Column("public_audio_for", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("media_file") as batch:
        batch.drop_column("public_audio_for")
        batch.drop_column("public_audio_key")
