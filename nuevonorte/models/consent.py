"""Consent records: the append-only history of what a contributor allowed."""

from __future__ import annotations

import enum
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nuevonorte.models.base import Base, enum_type, today

if TYPE_CHECKING:
    from nuevonorte.models.story import Story


class Visibility(enum.StrEnum):
    """Who may see a story, widest first."""

    PUBLIC = "public"  # anyone, once a curator publishes it
    CURATORS = "curators"  # workshop curators only
    CONTRIBUTOR = "contributor"  # nobody but the contributor, for now


class Credit(enum.StrEnum):
    """How the contributor is credited, most identifying first."""

    NAME = "name"
    PSEUDONYM = "pseudonym"
    ANONYMOUS = "anonymous"


class GivenBy(enum.StrEnum):
    """Who recorded a consent record: the contributor, or a curator narrowing it."""

    CONTRIBUTOR = "contributor"
    CURATOR = "curator"


class ConsentRecord(Base):
    """One consent decision. Never updated: a change appends a new record, the newest rules."""

    __tablename__ = "consent_record"
    __table_args__ = (
        UniqueConstraint("story_id", "seq"),
        # One story per paper form: two imports of the same sheet at once cannot both write it.
        Index(
            "uq_consent_record_paper_form_ref",
            "paper_form_ref",
            unique=True,
            sqlite_where=text("paper_form_ref != ''"),
            postgresql_where=text("paper_form_ref != ''"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("story.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    visibility: Mapped[Visibility] = mapped_column(enum_type(Visibility))
    credit: Mapped[Credit] = mapped_column(enum_type(Credit))
    # The name or pseudonym as the contributor wrote it; empty when anonymous.
    credit_name: Mapped[str] = mapped_column(String(120), default="")
    voice_public: Mapped[bool] = mapped_column(Boolean)
    photos_public: Mapped[bool] = mapped_column(Boolean)
    in_collections: Mapped[bool] = mapped_column(Boolean)
    embargo_until: Mapped[date | None] = mapped_column(Date)
    # Which consent text the person was shown, and in which language.
    text_version: Mapped[str] = mapped_column(String(32))
    text_language: Mapped[str] = mapped_column(String(8))
    given_by: Mapped[GivenBy] = mapped_column(enum_type(GivenBy))
    # The reference of a paper consent form signed at a workshop (``nuevonorte import``).
    paper_form_ref: Mapped[str] = mapped_column(String(80), default="")
    recorded_on: Mapped[date] = mapped_column(Date, default=today)

    story: Mapped[Story] = relationship(back_populates="consents")
