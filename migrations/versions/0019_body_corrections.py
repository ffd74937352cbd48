"""body corrections: a curator's correction of a story's text, shown and indexed instead of
the text as told, which stays for the narrator and the curators

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("story") as batch:
        batch.add_column(sa.Column("body_corrected", sa.Text(), nullable=False, server_default=""))


def downgrade():
    with op.batch_alter_table("story") as batch:
        batch.drop_column("body_corrected")
