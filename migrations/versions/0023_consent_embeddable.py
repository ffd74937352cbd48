"""consent: "may be embedded on other websites", a new choice (no for every consent given before it
existed: nobody agreed to it)

Revision ID: 0023
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("consent_record") as batch:
        batch.add_column(sa.Column("embeddable", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table("consent_record") as batch:
        batch.drop_column("embeddable")
