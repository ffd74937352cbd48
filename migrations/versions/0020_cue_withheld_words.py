"""withheld words in a transcript passage: the words a curator hides inside one cue, and
inside its translation, without hiding the whole cue

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("cue") as batch:
        batch.add_column(sa.Column("withheld_words", sa.Text(), nullable=False, server_default=""))


def downgrade():
    with op.batch_alter_table("cue") as batch:
        batch.drop_column("withheld_words")
