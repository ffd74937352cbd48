"""the change feed: every public addition, update and removal of stories and collections is
numbered in commit order (public_record.change_seq, collection_record, change_counter)

Revision ID: 0022
Revises: 0021

Existing rows: every story record that is public today, or that was public and is not now, takes a
number in the order of its record; a story under a running embargo takes one when the embargo ends.
Every published collection takes one after them. A collection unpublished before this version is
not announced (the database does not say it was ever published).
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("public_record") as batch:
        batch.add_column(sa.Column("change_seq", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("public_since_seq", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("listed_public", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.create_unique_constraint("uq_public_record_change_seq", ["change_seq"])
    op.create_index(
        "ix_public_record_due",
        "public_record",
        ["visible_from"],
        sqlite_where=sa.text("listed_public IS 0"),
        postgresql_where=sa.text("listed_public IS false"),
    )
    op.create_table(
        "collection_record",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("collection_id", sa.Integer(), nullable=False, unique=True),
        sa.Column("public_id", sa.String(16), nullable=False, unique=True),
        sa.Column("listed_public", sa.Boolean(), nullable=False),
        sa.Column("datestamp", sa.Date(), nullable=False),
        sa.Column("change_seq", sa.Integer(), nullable=False, unique=True),
        sa.Column("public_since_seq", sa.Integer(), nullable=True),
    )
    op.create_table(
        "change_counter",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("value", sa.Integer(), nullable=False),
    )
    conn = op.get_bind()
    today = datetime.now(UTC).date().isoformat()
    seq = 0
    rows = conn.execute(sa.text("SELECT id, visible_from, was_public FROM public_record ORDER BY id")).all()
    for row_id, visible_from, was_public in rows:
        public = visible_from is not None and str(visible_from)[:10] <= today
        if not (public or was_public):
            continue  # an embargo still running: numbered when it ends
        seq += 1
        conn.execute(
            sa.text(
                "UPDATE public_record SET change_seq = :seq, listed_public = :public, "
                "public_since_seq = :since WHERE id = :id"
            ),
            {"seq": seq, "public": public, "since": seq if public else None, "id": row_id},
        )
    collections = conn.execute(
        sa.text("SELECT id, public_id, published_on FROM collection WHERE status = 'published' ORDER BY id")
    ).all()
    for collection_id, public_id, published_on in collections:
        seq += 1
        conn.execute(
            sa.text(
                "INSERT INTO collection_record (collection_id, public_id, listed_public, datestamp, "
                "change_seq, public_since_seq) VALUES (:cid, :pid, :yes, :day, :seq, :seq)"
            ),
            {
                "cid": collection_id,
                "pid": public_id,
                "yes": True,
                "day": published_on or datetime.now(UTC).date(),
                "seq": seq,
            },
        )
    conn.execute(sa.text("INSERT INTO change_counter (id, value) VALUES (1, :seq)"), {"seq": seq})


def downgrade():
    op.drop_table("change_counter")
    op.drop_table("collection_record")
    op.drop_index("ix_public_record_due", "public_record")
    with op.batch_alter_table("public_record") as batch:
        batch.drop_constraint("uq_public_record_change_seq", type_="unique")
        batch.drop_column("listed_public")
        batch.drop_column("public_since_seq")
        batch.drop_column("change_seq")
