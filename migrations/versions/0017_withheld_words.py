"""withheld words: passages withheld inside a paragraph of a story's body or its translation,
rather than the whole paragraph

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("story") as batch:
        batch.add_column(sa.Column("withheld_words", sa.Text(), nullable=False, server_default=""))


def downgrade():
    with op.batch_alter_table("story") as batch:
        batch.drop_column("withheld_words")
