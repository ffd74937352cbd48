"""Collections: curated, ordered narratives of stories and curatorial text."""

from __future__ import annotations

import enum
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nuevonorte.models.base import Base, PublicIdMixin, enum_type, localized

if TYPE_CHECKING:
    from nuevonorte.models.media import MediaFile
    from nuevonorte.models.partner import Partner, PartnerStory
    from nuevonorte.models.story import Story


class CollectionStatus(enum.StrEnum):
    """A collection is a draft until a curator publishes it."""

    DRAFT = "draft"
    PUBLISHED = "published"


class EntryKind(enum.StrEnum):
    """An entry is a story or a block of curatorial text."""

    STORY = "story"
    TEXT = "text"
    #: A partner archive's story, re-exhibited (decision 0025).
    PARTNER_STORY = "partner_story"


class Collection(PublicIdMixin, Base):
    """A narrative collection (an exhibition) with a bilingual title and introduction."""

    __tablename__ = "collection"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[CollectionStatus] = mapped_column(
        enum_type(CollectionStatus), default=CollectionStatus.DRAFT
    )
    title_es: Mapped[str] = mapped_column(String(300), default="")
    title_en: Mapped[str] = mapped_column(String(300), default="")
    intro_es: Mapped[str] = mapped_column(Text, default="")
    intro_en: Mapped[str] = mapped_column(Text, default="")
    cover_media_id: Mapped[int | None] = mapped_column(ForeignKey("media_file.id", ondelete="SET NULL"))
    published_on: Mapped[date | None] = mapped_column(Date)
    revision: Mapped[int] = mapped_column(Integer, default=1)

    cover: Mapped[MediaFile | None] = relationship()
    entries: Mapped[list[CollectionEntry]] = relationship(
        back_populates="collection",
        order_by="CollectionEntry.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    __mapper_args__ = {"version_id_col": revision}

    def title(self, locale: str) -> str:
        """The title in ``locale``, falling back to the other language."""
        return localized(self.title_es, self.title_en, locale)

    def intro(self, locale: str) -> str:
        """The introduction in ``locale``, falling back to the other language."""
        return localized(self.intro_es, self.intro_en, locale)


class CollectionEntry(Base):
    """One step of a collection: a story with an optional note, or a block of text."""

    __tablename__ = "collection_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    collection_id: Mapped[int] = mapped_column(ForeignKey("collection.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[EntryKind] = mapped_column(enum_type(EntryKind))
    # Stories are never deleted outright (a withdrawal leaves a tombstone row), so an entry
    # keeps pointing at its story and can say it was withdrawn.
    story_id: Mapped[int | None] = mapped_column(ForeignKey("story.id", ondelete="SET NULL"))
    # A partner story is deleted when its origin withdraws it: the entry then says so, naming the
    # partner it came from.
    partner_story_id: Mapped[int | None] = mapped_column(
        ForeignKey("partner_story.id", ondelete="SET NULL"), index=True
    )
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id", ondelete="SET NULL"))
    # A curatorial note beside a story, or the Markdown text of a text entry.
    text_es: Mapped[str] = mapped_column(Text, default="")
    text_en: Mapped[str] = mapped_column(Text, default="")

    collection: Mapped[Collection] = relationship(back_populates="entries")
    story: Mapped[Story | None] = relationship()
    partner_story: Mapped[PartnerStory | None] = relationship()
    partner: Mapped[Partner | None] = relationship()
