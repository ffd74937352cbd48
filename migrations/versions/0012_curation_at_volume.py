"""curation at volume: assignment, a note to the narrator, the consent last reviewed, internal
notes, the paper consent form of an imported story, and the (hashed) forms of withdrawn ones

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("story") as batch:
        batch.add_column(sa.Column("assigned_to_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("note_to_narrator", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("reviewed_consent_seq", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_story_assigned_to_id_curator_account"),
            "curator_account",
            ["assigned_to_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index(batch.f("ix_story_assigned_to_id"), ["assigned_to_id"])
    with op.batch_alter_table("consent_record") as batch:
        batch.add_column(sa.Column("paper_form_ref", sa.String(length=80), nullable=False, server_default=""))
    op.create_index(
        "uq_consent_record_paper_form_ref",
        "consent_record",
        ["paper_form_ref"],
        unique=True,
        sqlite_where=sa.text("paper_form_ref != ''"),
        postgresql_where=sa.text("paper_form_ref != ''"),
    )
    op.create_table(
        "withdrawn_paper_form",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_withdrawn_paper_form")),
        sa.UniqueConstraint("digest", name=op.f("uq_withdrawn_paper_form_digest")),
    )
    op.create_table(
        "story_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("written_on", sa.Date(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["story_id"], ["story.id"], name=op.f("fk_story_note_story_id_story"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["curator_account.id"],
            name=op.f("fk_story_note_author_id_curator_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_story_note")),
    )
    op.create_index(op.f("ix_story_note_story_id"), "story_note", ["story_id"])


def downgrade():
    op.drop_index(op.f("ix_story_note_story_id"), table_name="story_note")
    op.drop_table("story_note")
    op.drop_table("withdrawn_paper_form")
    op.drop_index("uq_consent_record_paper_form_ref", table_name="consent_record")
    with op.batch_alter_table("consent_record") as batch:
        batch.drop_column("paper_form_ref")
    with op.batch_alter_table("story") as batch:
        batch.drop_index(batch.f("ix_story_assigned_to_id"))
        batch.drop_constraint(batch.f("fk_story_assigned_to_id_curator_account"), type_="foreignkey")
        batch.drop_column("reviewed_consent_seq")
        batch.drop_column("note_to_narrator")
        batch.drop_column("assigned_to_id")
