"""The story: the unit a person contributes."""

from __future__ import annotations

import enum
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nuevonorte.models.base import Base, PublicIdMixin, enum_type, localized, today
from nuevonorte.models.vocabulary import Place, Theme, story_place, story_theme

if TYPE_CHECKING:
    from nuevonorte.models.account import Contributor, CuratorAccount
    from nuevonorte.models.consent import ConsentRecord
    from nuevonorte.models.media import MediaFile
    from nuevonorte.models.note import StoryNote
    from nuevonorte.models.translation import ParagraphTranslation


class StoryStatus(enum.StrEnum):
    """Where a story is in its life. Only ``nuevonorte.consent`` decides what is public."""

    SUBMITTED = "submitted"  # arrived, waiting for (or back in) review
    PUBLISHED = "published"  # a curator published it; consent still decides visibility
    PRIVATE = "private"  # reviewed and kept private, or unpublished
    REJECTED = "rejected"  # not for the archive
    WITHDRAWN = "withdrawn"  # a tombstone: content and files deleted


def title_field(language: str) -> str:
    """The field a contributor's own title goes in: ``title_en`` when they tell the story in
    English, ``title_es`` for Spanish and every other language (curators translate)."""
    return "title_en" if language == "en" else "title_es"


class Story(PublicIdMixin, Base):
    """A story: original text, bilingual description, media and a consent history."""

    __tablename__ = "story"
    # The newest public stories (the home page, feeds) are read in this order, stopping after a
    # page: without the index every published story was read and sorted on every request.
    __table_args__ = (Index("ix_story_status_published", "status", "published_on", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contributor_id: Mapped[int | None] = mapped_column(
        ForeignKey("contributor.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[StoryStatus] = mapped_column(
        enum_type(StoryStatus), default=StoryStatus.SUBMITTED, index=True
    )
    # The language the person told the story in: "es", "en" or another BCP 47 code.
    original_language: Mapped[str] = mapped_column(String(16), default="es")
    body: Mapped[str] = mapped_column(Text, default="")  # as the narrator told it, never edited
    # A curator's correction of ``body`` (nuevonorte.corrections), "" for none: what the archive
    # shows and indexes; the narrator and curators still read ``body`` as told.
    body_corrected: Mapped[str] = mapped_column(Text, default="")
    title_es: Mapped[str] = mapped_column(String(300), default="")
    title_en: Mapped[str] = mapped_column(String(300), default="")
    summary_es: Mapped[str] = mapped_column(Text, default="")
    summary_en: Mapped[str] = mapped_column(Text, default="")
    # Codes from nuevonorte.content_warnings, comma-separated ("detention,violence").
    content_warnings: Mapped[str] = mapped_column(String(200), default="")
    # Indexes (0-based, comma-separated) of paragraphs of ``body`` a curator withheld from the
    # public; see consent.public_paragraphs. Paragraphs are separated by blank lines.
    restricted_paragraphs: Mapped[str] = mapped_column(String(500), default="")
    # Words withheld inside a paragraph (nuevonorte.withheld_words): JSON, "" for none.
    withheld_words: Mapped[str] = mapped_column(Text, default="")
    period_start: Mapped[int | None] = mapped_column(Integer)
    period_end: Mapped[int | None] = mapped_column(Integer)
    # Coarse dates only: a day is enough for the archive and reveals less (docs/security.md M16).
    submitted_on: Mapped[date] = mapped_column(Date, default=today)
    published_on: Mapped[date | None] = mapped_column(Date)
    withdrawn_on: Mapped[date | None] = mapped_column(Date)
    # Optimistic locking: a second curator saving a stale copy gets StaleDataError.
    revision: Mapped[int] = mapped_column(Integer, default=1)
    # The curator who took the story on from the queue, if anyone did.
    assigned_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("curator_account.id", ondelete="SET NULL"), index=True
    )
    # Why a curator returned, kept private or rejected the story, in words for its narrator
    # (shown in "my stories"); empty when there is nothing to say.
    note_to_narrator: Mapped[str] = mapped_column(Text, default="")
    # The consent record (``ConsentRecord.seq``) a curator last decided on; a newer one that is
    # wider is what the review page shows as newly exposed (``curation.newly_exposed``).
    reviewed_consent_seq: Mapped[int | None] = mapped_column(Integer)

    contributor: Mapped[Contributor | None] = relationship(back_populates="stories")
    consents: Mapped[list[ConsentRecord]] = relationship(
        back_populates="story",
        order_by="ConsentRecord.seq",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    media: Mapped[list[MediaFile]] = relationship(
        back_populates="story",
        order_by="MediaFile.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    notes: Mapped[list[StoryNote]] = relationship(
        back_populates="story",
        order_by="StoryNote.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    translations: Mapped[list[ParagraphTranslation]] = relationship(
        back_populates="story",
        order_by="[ParagraphTranslation.language, ParagraphTranslation.position]",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    assigned_to: Mapped[CuratorAccount | None] = relationship()
    themes: Mapped[list[Theme]] = relationship(secondary=story_theme)
    places: Mapped[list[Place]] = relationship(secondary=story_place)

    __mapper_args__ = {"version_id_col": revision}

    @property
    def current_consent(self) -> ConsentRecord | None:
        """The newest consent record, which rules; None for a tombstone."""
        return self.consents[-1] if self.consents else None

    @property
    def sent_title(self) -> str:
        """The title in the field the contributor's own title went in (``title_field``)."""
        value: str = getattr(self, title_field(self.original_language))
        return value

    def title(self, locale: str) -> str:
        """The title in ``locale``, or in the other language when not yet translated."""
        return localized(self.title_es, self.title_en, locale)

    def summary(self, locale: str) -> str:
        """The summary in ``locale``, or in the other language when not yet translated."""
        return localized(self.summary_es, self.summary_en, locale)

    def paragraphs(self) -> list[str]:
        """The body as the archive shows it (a curator's correction, else as told), split into
        paragraphs at blank lines: what withheld paragraphs and words, translations and the
        consent rule count from."""
        return split_paragraphs(self.body_corrected or self.body)

    def told_paragraphs(self) -> list[str]:
        """The body as its narrator told it (what they read in "my stories")."""
        return split_paragraphs(self.body)

    @property
    def corrected(self) -> bool:
        """Whether a curator's correction is what the archive shows."""
        return bool(self.body_corrected)

    def restricted_indexes(self) -> set[int]:
        """Indexes of paragraphs withheld from the public."""
        return {int(i) for i in self.restricted_paragraphs.split(",") if i.strip().isdigit()}

    def warning_codes(self) -> list[str]:
        """The content warning codes set on this story."""
        return [c for c in self.content_warnings.split(",") if c]


def split_paragraphs(text: str) -> list[str]:
    """``text`` split into paragraphs at blank lines, each stripped, empty ones dropped."""
    return [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
