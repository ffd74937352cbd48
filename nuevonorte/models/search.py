"""The search outbox: stories whose index entries must be (re)written."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer
from sqlalchemy.orm import Mapped, mapped_column

from nuevonorte.models.base import Base, UTCDateTime, utcnow


class SearchOutbox(Base):
    """One story to re-index. Written in the same transaction as the change, deleted once
    the indexes hold it, so a failed or interrupted index update is repaired, never lost."""

    __tablename__ = "search_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    # No foreign key: the story may be deleted, and its index entries must still go.
    story_id: Mapped[int] = mapped_column(Integer, index=True)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
