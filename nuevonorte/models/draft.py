"""What a staff member typed into a story's form when their session had already expired."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nuevonorte.models.base import Base, UTCDateTime, utcnow


class CuratorDraft(Base):
    """The fields of one form post, kept for the account that sent it until they save it,
    discard it, or it gets old (``nuevonorte.drafts``). Deleted with a withdrawal, when the
    narrator keeps the story to themselves, and with the story or account row (CASCADE)."""

    __tablename__ = "curator_draft"
    __table_args__ = (UniqueConstraint("account_id", "page"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("curator_account.id", ondelete="CASCADE"), index=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("story.id", ondelete="CASCADE"), index=True)
    # The form's own page (its GET address), where the draft is offered again.
    page: Mapped[str] = mapped_column(String(300))
    # The fields as JSON: a list of [name, value] pairs (a field may repeat), no CSRF token.
    fields: Mapped[str] = mapped_column(Text)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
