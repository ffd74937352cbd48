"""Curator accounts and contributor identities."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, Date, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nuevonorte.models.base import Base, UTCDateTime, enum_type, today, utcnow

if TYPE_CHECKING:
    from nuevonorte.models.story import Story


class Role(enum.StrEnum):
    """What a staff account may do."""

    CURATOR = "curator"
    ADMIN = "admin"
    # A volunteer who translates: reads what curators read, edits translations, and nothing
    # else (no publishing, no consent, no notes); ``curate.auth.TRANSLATOR_MAY``.
    TRANSLATOR = "translator"


class CuratorAccount(Base):
    """A member of the workshop staff who reviews and publishes."""

    __tablename__ = "curator_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_type(Role), default=Role.CURATOR)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on password or role change: sessions carrying an older value stop working.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Contributor(Base):
    """A contributor, known only by the hash of their receipt code. No account, no contact."""

    __tablename__ = "contributor"

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_hash: Mapped[bytes] = mapped_column(LargeBinary(64), unique=True)
    created_on: Mapped[date] = mapped_column(Date, default=today)

    stories: Mapped[list[Story]] = relationship(back_populates="contributor")
