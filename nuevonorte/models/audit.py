"""The audit trail: who did what to which object and when — never content or addresses."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nuevonorte.models.account import CuratorAccount
from nuevonorte.models.base import Base, UTCDateTime, enum_type, utcnow


class ActorKind(enum.StrEnum):
    """Who acted."""

    CURATOR = "curator"
    CONTRIBUTOR = "contributor"
    SYSTEM = "system"


class AuditEvent(Base):
    """One state change. Outlives the object it names (a withdrawal leaves only this)."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_kind: Mapped[ActorKind] = mapped_column(enum_type(ActorKind))
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("curator_account.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(32), index=True)

    actor: Mapped[CuratorAccount | None] = relationship()
