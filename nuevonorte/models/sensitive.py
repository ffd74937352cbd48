"""A curator's decision to keep a flagged passage public (``nuevonorte.sensitive``)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nuevonorte.models.account import CuratorAccount
from nuevonorte.models.base import Base, today


class SensitiveDismissal(Base):
    """One flag a curator dismissed: a keyed hash of the story, the passage, the rule and the
    words that fired it, never the words. Deleted with a withdrawal (``sensitive.forget``) and
    with the story row (``ON DELETE CASCADE``)."""

    __tablename__ = "sensitive_dismissal"
    __table_args__ = (UniqueConstraint("story_id", "fingerprint"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("story.id", ondelete="CASCADE"), index=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    curator_id: Mapped[int | None] = mapped_column(ForeignKey("curator_account.id", ondelete="SET NULL"))
    decided_on: Mapped[date] = mapped_column(Date, default=today)

    curator: Mapped[CuratorAccount | None] = relationship()
