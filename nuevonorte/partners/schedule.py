"""Periodic partner work, driven by ``nuevonorte worker`` (and ``worker --drain`` from cron):
a harvest of each partner whose last one is older than ``PARTNER_HARVEST_SECONDS``, and the
fail-closed expiry of partners whose stories have gone unconfirmed too long."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, select

from nuevonorte.database import write_transaction
from nuevonorte.extensions import db
from nuevonorte.models import Job, JobKind, Partner
from nuevonorte.models.base import utcnow
from nuevonorte.models.job import ACTIVE_STATES
from nuevonorte.partners import holdings, shown
from nuevonorte.search import sync


def tick() -> int:
    """Expire what must be hidden, then ask for the harvests that are due; returns how many."""
    expire_stale()
    return request_due_harvests()


#: How often a listening worker looks for due harvests: each partner is then harvested within a
#: second of its due time, so a withdrawal never pushed is gone within one interval (plus the
#: harvest itself). The look is one indexed read of a small table.
TICK_SECONDS = 1.0


def interval() -> float:
    """How often ``tick`` runs in a listening worker."""
    return TICK_SECONDS


def request_due_harvests() -> int:
    from nuevonorte.jobs import records

    due_before = utcnow() - timedelta(seconds=int(current_app.config["PARTNER_HARVEST_SECONDS"]))
    busy = select(Job.partner_id).where(Job.kind == JobKind.PARTNER_HARVEST, Job.state.in_(ACTIVE_STATES))
    query = select(Partner.id).where(
        Partner.harvested.is_(True),
        or_(Partner.last_attempt_at.is_(None), Partner.last_attempt_at <= due_before),
        Partner.id.not_in(busy.where(Job.partner_id.is_not(None))),
    )
    due = db.session.scalars(query).all()
    db.session.rollback()
    if not due:
        return 0
    with write_transaction():
        for partner_id in due:
            records.request_partner_job(db.session(), JobKind.PARTNER_HARVEST, partner_id)
        db.session.commit()
    return len(due)


def expire_stale() -> int:
    """Hide the stories of every partner not confirmed in time (fail closed); returns how many
    partners were expired now."""
    candidates = [
        p.id
        for p in db.session.scalars(
            select(Partner).where(Partner.harvested.is_(True), Partner.expired.is_(False))
        )
        if not shown.partner_is_fresh(p)
    ]
    db.session.rollback()  # a write only for a partner that is due to expire
    expired = []
    for partner_id in candidates:
        with write_transaction():
            partner = db.session.get(Partner, partner_id)
            if partner is not None and holdings.expire(partner):
                expired.append(partner_id)
            db.session.commit()
    if expired:
        sync.follow_now()  # their stories' entries were logged with the expiry
    db.session.rollback()
    return len(expired)
