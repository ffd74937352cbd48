"""term counts: how many public stories each theme and place names, kept as stories change, so the
lists of themes and places read a few rows instead of counting every public story on each visit

Revision ID: 0028
Revises: 0027

Existing stories are counted as the consent rule shows them: published, under a newest consent
that says public; a story whose embargo has not ended is counted from the day it ends.
"""

from collections import Counter
from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

LINKS = (("theme", "story_theme", "theme_id"), ("place", "story_place", "place_id"))


def upgrade():
    op.create_table(
        "counted_term",
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("term_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("story_id", "kind", "term_id", name=op.f("pk_counted_term")),
    )
    # A term's page: its rows in page order, read a page at a time.
    op.create_index("ix_counted_term_page", "counted_term", ["kind", "term_id", "published_on", "story_id"])
    op.create_table(
        "term_count",
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("term_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("stories", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "term_id", "day", name=op.f("pk_term_count")),
    )
    conn = op.get_bind()
    today = datetime.now(UTC).date()
    counted, counts = [], Counter()
    for kind, link, column in LINKS:
        rows = conn.execute(
            sa.text(
                f"SELECT l.story_id, l.{column}, c.embargo_until, s.published_on FROM {link} l "  # noqa: S608 (constants)
                "JOIN story s ON s.id = l.story_id "
                "JOIN consent_record c ON c.id = ("
                "SELECT c2.id FROM consent_record c2 WHERE c2.story_id = s.id ORDER BY c2.seq DESC LIMIT 1) "
                "WHERE s.status = 'published' AND c.visibility = 'public' ORDER BY l.story_id"
            )
        ).all()
        for story_id, term_id, embargo, published_on in rows:
            embargo = _day(embargo)
            day = embargo if embargo is not None and embargo > today else date.min
            published_on = _day(published_on) or date.min
            counted.append(
                {"story_id": story_id, "kind": kind, "term_id": term_id, "day": day, "published_on": published_on}
            )
            counts[(kind, term_id, day)] += 1
    if counted:
        op.bulk_insert(_table("counted_term", "story_id", "kind", "term_id", "day", "published_on"), counted)
    if counts:
        op.bulk_insert(
            _table("term_count", "kind", "term_id", "day", "stories"),
            [{"kind": k, "term_id": t, "day": d, "stories": n} for (k, t, d), n in sorted(counts.items())],
        )


def _table(name, *columns):
    return sa.table(name, *(sa.column(c, sa.Date() if c in ("day", "published_on") else None) for c in columns))


def _day(value):
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def downgrade():
    op.drop_table("term_count")
    op.drop_index("ix_counted_term_page", table_name="counted_term")
    op.drop_table("counted_term")
