"""public records: which stories other archives may learn of, and when each last changed (OAI-PMH
and the change feed announce a story that leaves public view, and never one that was never public)

Revision ID: 0021
Revises: 0020

Existing stories: a story public today gets a record dated the day it was published; one published
under an embargo still running gets one that starts the day the embargo ends. A story that left
public view before this version is not announced as deleted: the database no longer says whether
anyone could see it (a withdrawal clears its day of publication; an embargo may have covered all of
its time), and a story that was never public must never be named.
"""

from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "public_record",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("story_id", sa.Integer(), nullable=False, unique=True),
        sa.Column("public_id", sa.String(16), nullable=False, unique=True),
        sa.Column("visible_from", sa.Date(), nullable=True),
        sa.Column("was_public", sa.Boolean(), nullable=False),
        sa.Column("datestamp", sa.Date(), nullable=False),
    )
    op.create_index("ix_public_record_datestamp", "public_record", ["datestamp"])
    conn = op.get_bind()
    today = datetime.now(UTC).date()
    rows = conn.execute(
        sa.text(
            "SELECT s.id, s.public_id, s.status, s.published_on, c.visibility, c.embargo_until "
            "FROM story s LEFT JOIN consent_record c ON c.id = ("
            "SELECT c2.id FROM consent_record c2 WHERE c2.story_id = s.id ORDER BY c2.seq DESC LIMIT 1) "
            "WHERE s.published_on IS NOT NULL ORDER BY s.published_on, s.id"
        )
    ).all()
    table = sa.table(
        "public_record",
        sa.column("story_id"),
        sa.column("public_id"),
        sa.column("visible_from"),
        sa.column("was_public"),
        sa.column("datestamp"),
    )
    records = []
    for story_id, public_id, status, published_on, visibility, embargo in rows:
        published_on = _day(published_on)
        embargo = _day(embargo)
        if status != "published" or visibility != "public":
            continue  # out of view now: never named (see above)
        visible_from = max(published_on, embargo) if embargo else published_on
        records.append(
            {
                "story_id": story_id,
                "public_id": public_id,
                "visible_from": visible_from,
                "was_public": visible_from <= today,
                "datestamp": published_on,
            }
        )
    if records:
        op.bulk_insert(table, records)


def _day(value):
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def downgrade():
    op.drop_index("ix_public_record_datestamp", "public_record")
    op.drop_table("public_record")
