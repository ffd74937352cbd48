"""English short ids for themes and places (English URLs), filled from their English names

Revision ID: 0008
Revises: 0007
"""

import re
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TABLES = ("theme", "place")


def _slugify(text):
    # The same rule as the models' slugify at the time of writing (a migration never imports
    # the application): ASCII letters and digits joined by dashes, at most 80 characters.
    plain = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")[:80].rstrip("-")


def _english_slugs(rows):
    """An English short id per term id: its English name made a slug, else its Spanish id;
    a second term with the same one gets "-2", "-3"... (in id order, so the result is fixed)."""
    taken, result = set(), {}
    for term_id, slug, name_en in sorted(rows):
        base = _slugify(name_en) or slug
        candidate, n = base, 2
        while candidate in taken:
            suffix = f"-{n}"
            candidate, n = base[: 80 - len(suffix)] + suffix, n + 1
        taken.add(candidate)
        result[term_id] = candidate
    return result


def upgrade():
    connection = op.get_bind()
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("slug_en", sa.String(length=80), nullable=True))
        terms = sa.table(
            table, sa.column("id", sa.Integer), sa.column("slug", sa.String), sa.column("name_en", sa.String),
            sa.column("slug_en", sa.String),
        )
        rows = connection.execute(sa.select(terms.c.id, terms.c.slug, terms.c.name_en)).all()
        for term_id, slug_en in _english_slugs([tuple(row) for row in rows]).items():
            connection.execute(sa.update(terms).where(terms.c.id == term_id).values(slug_en=slug_en))
        with op.batch_alter_table(table) as batch:
            batch.alter_column("slug_en", existing_type=sa.String(length=80), nullable=False)
            batch.create_unique_constraint(batch.f(f"uq_{table}_slug_en"), ["slug_en"])


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(batch.f(f"uq_{table}_slug_en"), type_="unique")
            batch.drop_column("slug_en")
