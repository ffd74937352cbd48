"""What a contributor's device holds on the server: a sign-in, and a receipt not yet written down.

Both are keyed by the hash of a random token the device holds (in the signed session cookie
or in the contribution form); neither stores a receipt code in plain form.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nuevonorte.models.base import Base, UTCDateTime, utcnow
from nuevonorte.models.story import Story


class ContributorSession(Base):
    """One device signed in to "my stories". Deleting the row ends the session everywhere:
    a copy of the cookie made before "forget me" finds nothing."""

    __tablename__ = "contributor_session"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    contributor_id: Mapped[int] = mapped_column(ForeignKey("contributor.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Submission(Base):
    """One sent contribution form, by the hash of the token the form carried.

    A second POST of the same form finds it and makes no second story. ``sealed_code`` is the
    new receipt code encrypted with a key derived from the token (which the server does not
    keep), so that the receipt page can be reloaded; it is erased once the person says they
    wrote the code down, or after ``receipts.RECEIPT_SHOWN_FOR``.
    """

    __tablename__ = "submission"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    story_id: Mapped[int | None] = mapped_column(ForeignKey("story.id", ondelete="CASCADE"), index=True)
    sealed_code: Mapped[bytes | None] = mapped_column(LargeBinary(512), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    story: Mapped[Story | None] = relationship()
