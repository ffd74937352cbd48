"""Server-side staff sessions and sign-in failures (for throttling), shared by all workers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nuevonorte.models.account import CuratorAccount
from nuevonorte.models.base import Base, UTCDateTime, utcnow


class StaffSession(Base):
    """One signed-in browser. The cookie holds a random token; only its hash is stored.

    Deleting the row ends the session everywhere: a replayed cookie becomes anonymous.
    """

    __tablename__ = "staff_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("curator_account.id", ondelete="CASCADE"), index=True)
    # The account's session_version at sign-in; a password or role change bumps it.
    session_version: Mapped[int] = mapped_column(Integer)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    account: Mapped[CuratorAccount] = relationship()


class SignInFailure(Base):
    """A failed sign-in, keyed by a keyed hash of the email typed (never an address)."""

    __tablename__ = "sign_in_failure"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
