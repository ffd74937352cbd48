"""story: an index for the newest public stories (status, published_on, id), so the home page
and the feeds stop after a page instead of reading and sorting every published story

Revision ID: 0025
Revises: 0024
"""

from alembic import op


revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_story_status_published", "story", ["status", "published_on", "id"])


def downgrade():
    op.drop_index("ix_story_status_published", table_name="story")
