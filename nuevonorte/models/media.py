"""Media files (images and audio) attached to a story."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nuevonorte.models.base import Base, PublicIdMixin, enum_type

if TYPE_CHECKING:
    from nuevonorte.models.story import Story
    from nuevonorte.models.transcript import Transcript


class MediaKind(enum.StrEnum):
    """What a media file is; each kind follows its own consent choice."""

    IMAGE = "image"
    AUDIO = "audio"


#: The DCMI type of each kind of file (Dublin Core ``dc:type``: exports and OAI-PMH).
DCMI_TYPE = {MediaKind.IMAGE: "StillImage", MediaKind.AUDIO: "Sound"}


class MediaFile(PublicIdMixin, Base):
    """A cleaned media file. Its bytes live in storage under ``storage_key``, named by hash."""

    __tablename__ = "media_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("story.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[MediaKind] = mapped_column(enum_type(MediaKind))
    mime_type: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(80), index=True)
    checksum: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    # Image derivatives, also stored by hash.
    display_key: Mapped[str | None] = mapped_column(String(80))
    thumbnail_key: Mapped[str | None] = mapped_column(String(80))
    # The copy of a recording the public hears while passages are withheld (their seconds
    # silent), and a digest of the withheld ranges it was made for: a copy made for other
    # ranges is never served (consent.public_audio_key).
    public_audio_key: Mapped[str | None] = mapped_column(String(80))
    public_audio_for: Mapped[str | None] = mapped_column(String(64))
    alt_es: Mapped[str] = mapped_column(Text, default="")
    alt_en: Mapped[str] = mapped_column(Text, default="")

    story: Mapped[Story] = relationship(back_populates="media")
    transcript: Mapped[Transcript | None] = relationship(
        back_populates="media", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def transcribed(self) -> bool:
        """Whether the recording has passages (a transcript holding only parts has none)."""
        return self.transcript is not None and bool(self.transcript.cues)

    def storage_keys(self) -> list[str]:
        """Every stored file that belongs to this media: original and derivatives."""
        keys = (self.storage_key, self.display_key, self.thumbnail_key, self.public_audio_key)
        return [k for k in keys if k]


#: Every column that names a stored file; a file no row names in any of them is an orphan.
KEY_COLUMNS = (
    MediaFile.storage_key,
    MediaFile.display_key,
    MediaFile.thumbnail_key,
    MediaFile.public_audio_key,
)
