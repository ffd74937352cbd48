"""spent proof-of-work challenges (random ids until they expire, no addresses)

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "spent_challenge",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("expires", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spent_challenge")),
    )
    with op.batch_alter_table("spent_challenge") as batch:
        batch.create_index(batch.f("ix_spent_challenge_expires"), ["expires"], unique=False)


def downgrade():
    with op.batch_alter_table("spent_challenge") as batch:
        batch.drop_index(batch.f("ix_spent_challenge_expires"))
    op.drop_table("spent_challenge")
