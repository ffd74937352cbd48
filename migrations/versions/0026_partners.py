"""partners: other archives whose public stories this one re-exhibits (read, never copied: their
files stay on the origin), the subscriptions to each other's withdrawal notices, collection
entries that show a partner's story, and jobs that work with a partner

Revision ID: 0026
Revises: 0025
"""

import sqlalchemy as sa
from alembic import op


revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "partner",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("url", sa.String(300), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("protocol", sa.String(16), nullable=False),
        sa.Column("harvested", sa.Boolean(), nullable=False),
        sa.Column("cursor", sa.String(40), nullable=False),
        sa.Column("epoch", sa.String(40), nullable=False),
        sa.Column("notice_seq", sa.Integer(), nullable=False),
        sa.Column("key_in", sa.String(64), nullable=False),
        sa.Column("subscribed", sa.Boolean(), nullable=False),
        sa.Column("subscribed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("key_out", sa.String(64), nullable=False),
        sa.Column("pushed_seq", sa.Integer(), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(40), nullable=False),
        sa.Column("expired", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("url", name="uq_partner_url"),
    )
    op.create_table(
        "partner_story",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("public_id", sa.String(16), nullable=False),
        sa.Column(
            "partner_id", sa.Integer(), sa.ForeignKey("partner.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("remote_id", sa.String(80), nullable=False),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("title_es", sa.String(300), nullable=False),
        sa.Column("title_en", sa.String(300), nullable=False),
        sa.Column("summary_es", sa.Text(), nullable=False),
        sa.Column("summary_en", sa.Text(), nullable=False),
        sa.Column("credit", sa.String(300), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.Column("paragraphs", sa.JSON(), nullable=False),
        sa.Column("translation", sa.JSON(), nullable=False),
        sa.Column("themes", sa.JSON(), nullable=False),
        sa.Column("places", sa.JSON(), nullable=False),
        sa.Column("images", sa.JSON(), nullable=False),
        sa.Column("recordings", sa.JSON(), nullable=False),
        sa.Column("content_warnings", sa.JSON(), nullable=False),
        sa.Column("in_collections", sa.Boolean(), nullable=False),
        sa.Column("stale", sa.Boolean(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("public_id", name="uq_partner_story_public_id"),
        sa.UniqueConstraint("partner_id", "remote_id", name="uq_partner_story_partner_id"),
    )
    op.create_index("ix_partner_story_partner_id", "partner_story", ["partner_id"])
    with op.batch_alter_table("collection_entry") as batch:
        batch.add_column(sa.Column("partner_story_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("partner_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_collection_entry_partner_story_id_partner_story",
            "partner_story",
            ["partner_story_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_foreign_key(
            "fk_collection_entry_partner_id_partner", "partner", ["partner_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_index("ix_collection_entry_partner_story_id", ["partner_story_id"])
    with op.batch_alter_table("job") as batch:
        batch.add_column(sa.Column("partner_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_job_partner_id_partner", "partner", ["partner_id"], ["id"], ondelete="CASCADE")
        batch.create_index("ix_job_partner_id", ["partner_id"])


def downgrade():
    with op.batch_alter_table("job") as batch:
        batch.drop_index("ix_job_partner_id")
        batch.drop_constraint("fk_job_partner_id_partner", type_="foreignkey")
        batch.drop_column("partner_id")
    with op.batch_alter_table("collection_entry") as batch:
        batch.drop_index("ix_collection_entry_partner_story_id")
        batch.drop_constraint("fk_collection_entry_partner_id_partner", type_="foreignkey")
        batch.drop_constraint("fk_collection_entry_partner_story_id_partner_story", type_="foreignkey")
        batch.drop_column("partner_id")
        batch.drop_column("partner_story_id")
    op.drop_index("ix_partner_story_partner_id", "partner_story")
    op.drop_table("partner_story")
    op.drop_table("partner")
