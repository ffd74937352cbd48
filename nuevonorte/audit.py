"""Recording the audit trail. Names objects by public id; never stores content or addresses."""

from __future__ import annotations

from datetime import UTC, datetime, time

from nuevonorte.extensions import db
from nuevonorte.models import ActorKind, AuditEvent, CuratorAccount
from nuevonorte.models.base import today, utcnow


def record(
    action: str,
    object_type: str,
    object_id: str,
    actor: CuratorAccount | None = None,
    actor_kind: ActorKind | None = None,
) -> AuditEvent:
    """Add an audit event for ``action`` on an object; the caller's transaction commits it."""
    kind = actor_kind or (ActorKind.CURATOR if actor is not None else ActorKind.SYSTEM)
    # What a contributor did is kept to the day, as every other date of theirs (M16): the exact
    # time of a submission or a withdrawal can be matched against other records.
    at = datetime.combine(today(), time.min, tzinfo=UTC) if kind == ActorKind.CONTRIBUTOR else utcnow()
    event = AuditEvent(
        at=at,
        action=action,
        object_type=object_type,
        object_id=object_id,
        actor=actor,
        actor_kind=kind,
    )
    db.session.add(event)
    return event
