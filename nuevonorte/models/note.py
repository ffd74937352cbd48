"""Curators' internal notes on a story: staff only, never public, gone with a withdrawal."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import Date, ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nuevonorte.models.account import CuratorAccount
from nuevonorte.models.base import Base, today

if TYPE_CHECKING:
    from nuevonorte.models.story import Story


class StoryNote(Base):
    """One note a curator left on a story for the other curators. Deleted with a withdrawal
    (``stories.withdraw``) and with the story row (``ON DELETE CASCADE``)."""

    __tablename__ = "story_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("story.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("curator_account.id", ondelete="SET NULL"))
    written_on: Mapped[date] = mapped_column(Date, default=today)
    body: Mapped[str] = mapped_column(Text)

    author: Mapped[CuratorAccount | None] = relationship()
    story: Mapped[Story] = relationship(back_populates="notes")
