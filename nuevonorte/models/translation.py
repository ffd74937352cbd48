"""Translations of a story's body, paragraph by paragraph (``nuevonorte.translations``)."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nuevonorte.models.base import Base, enum_type

if TYPE_CHECKING:
    from nuevonorte.models.story import Story


class Provenance(enum.StrEnum):
    """Who made a translation; shown to visitors beside it."""

    NARRATOR = "narrator"  # the narrator wrote it in both languages
    COMMUNITY = "community"  # a volunteer of the workshop
    MACHINE = "machine"  # a machine draft nobody has checked yet
    REVIEWED = "reviewed"  # checked by a curator or a second translator


class ParagraphTranslation(Base):
    """One paragraph of the body in the other language. ``source_digest`` is the hash of the
    paragraph it translates: when the paragraph changes, the translation is stale and not shown."""

    __tablename__ = "paragraph_translation"
    __table_args__ = (UniqueConstraint("story_id", "position", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("story.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    provenance: Mapped[Provenance] = mapped_column(enum_type(Provenance))
    source_digest: Mapped[str] = mapped_column(String(64))

    story: Mapped[Story] = relationship(back_populates="translations")
