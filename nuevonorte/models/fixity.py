"""When each stored file of a media row was last re-hashed by ``nuevonorte fixity``."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from nuevonorte.models.base import Base


class MediaFixity(Base):
    """The day one stored file of a media row last had the content its key names.

    One row per (media row, storage key): the original and each derivative are verified on their
    own. No row means never verified. Deleting the media row deletes these (``ON DELETE CASCADE``),
    so a withdrawal leaves nothing here. A day, not a time: stored dates are coarse (docs/security.md
    M16), and the first check of a new file follows its upload.
    """

    __tablename__ = "media_fixity"

    media_id: Mapped[int] = mapped_column(ForeignKey("media_file.id", ondelete="CASCADE"), primary_key=True)
    storage_key: Mapped[str] = mapped_column(String(80), primary_key=True)
    verified_on: Mapped[date] = mapped_column(Date)
