"""Transcripts: time-coded text of an audio file, cue by cue."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nuevonorte.models.base import Base

if TYPE_CHECKING:
    from nuevonorte.models.media import MediaFile


class Transcript(Base):
    """The transcript of one audio file, in the story's language."""

    __tablename__ = "transcript"

    id: Mapped[int] = mapped_column(primary_key=True)
    media_id: Mapped[int] = mapped_column(ForeignKey("media_file.id", ondelete="CASCADE"), unique=True)
    language: Mapped[str] = mapped_column(String(16))
    translation_language: Mapped[str | None] = mapped_column(String(16))
    #: Made by speech recognition on this machine and not yet reviewed by a curator: never
    #: public (``consent.transcript_is_public``) until a curator marks it reviewed.
    machine_draft: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    media: Mapped[MediaFile] = relationship(back_populates="transcript")
    cues: Mapped[list[Cue]] = relationship(
        back_populates="transcript",
        order_by="Cue.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    segments: Mapped[list[TranscriptSegment]] = relationship(
        back_populates="transcript",
        order_by="(TranscriptSegment.start_ms, TranscriptSegment.id)",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class Cue(Base):
    """One timed passage. A restricted cue is never shown, indexed or exported publicly."""

    __tablename__ = "cue"

    id: Mapped[int] = mapped_column(primary_key=True)
    transcript_id: Mapped[int] = mapped_column(ForeignKey("transcript.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    start_ms: Mapped[int] = mapped_column(Integer)
    end_ms: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    translation: Mapped[str] = mapped_column(Text, default="")
    restricted: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Who speaks ("Rosa", "Interviewer"). It can name a person, so the public sees it only as
    #: ``consent.public_speakers`` allows, and it is never indexed.
    speaker: Mapped[str] = mapped_column(String(80), default="", server_default="")
    #: Words withheld inside the cue and inside its translation (``withheld_words.of_cue``):
    #: the public reads markers in their place and hears the cue's seconds silent.
    withheld_words: Mapped[str] = mapped_column(Text, default="", server_default="")

    transcript: Mapped[Transcript] = relationship(back_populates="cues")


class TranscriptSegment(Base):
    """An OHMS-style index point of a recording: from ``start_ms``, a titled part with its
    keywords and synopsis in both languages. Shown publicly as ``consent.public_segments``
    allows; never indexed."""

    __tablename__ = "transcript_segment"

    id: Mapped[int] = mapped_column(primary_key=True)
    transcript_id: Mapped[int] = mapped_column(ForeignKey("transcript.id", ondelete="CASCADE"), index=True)
    start_ms: Mapped[int] = mapped_column(Integer)
    title_es: Mapped[str] = mapped_column(String(200), default="")
    title_en: Mapped[str] = mapped_column(String(200), default="")
    keywords_es: Mapped[str] = mapped_column(String(500), default="")
    keywords_en: Mapped[str] = mapped_column(String(500), default="")
    synopsis_es: Mapped[str] = mapped_column(Text, default="")
    synopsis_en: Mapped[str] = mapped_column(Text, default="")

    transcript: Mapped[Transcript] = relationship(back_populates="segments")
