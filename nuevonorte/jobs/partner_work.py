"""The partner jobs: a harvest of a partner archive, and a withdrawal notice to one
(``nuevonorte.partners``). A harvest that cannot reach its partner ends with the reason and is
not retried (the next periodic harvest is the retry); a notice that cannot be delivered is
retried by the queue with a growing delay, and the partner's own harvest is the fallback."""

from __future__ import annotations

import logging
import threading

from nuevonorte.database import write_transaction
from nuevonorte.extensions import db
from nuevonorte.jobs import records
from nuevonorte.jobs.runner import Failed, Stopped
from nuevonorte.models import JobState, Partner
from nuevonorte.models.base import utcnow
from nuevonorte.partners import client, notices
from nuevonorte.partners import harvest as harvesting

log = logging.getLogger(__name__)


def _partner_id(job_id: int, token: str) -> int:
    job = records.held(job_id, token)
    if job is None:
        raise Stopped
    partner_id = job.partner_id
    db.session.rollback()
    if partner_id is None:
        raise Failed("partner_gone")
    return partner_id


def _note(partner_id: int, **values: object) -> None:
    """Write down on the partner what this job met (``last_error``, ``last_attempt_at``)."""
    with write_transaction():
        partner = db.session.get(Partner, partner_id)
        if partner is not None:
            for name, value in values.items():
                setattr(partner, name, value)
        db.session.commit()


def harvest(job_id: int, token: str, alive: threading.Event) -> None:
    partner_id = _partner_id(job_id, token)
    partner = db.session.get(Partner, partner_id)
    wants_subscription = partner is not None and partner.harvested and notices.subscription_due(partner)
    db.session.rollback()
    _note(partner_id, last_attempt_at=utcnow())
    refused = False
    if wants_subscription:
        try:
            notices.subscribe(partner_id)
        except client.Unreachable:
            refused = True
    try:
        harvesting.harvest(partner_id)
    except client.Unreachable as unreachable:
        log.warning("partner %d: harvest stopped (%s)", partner_id, unreachable.code)
        _note(partner_id, last_error=unreachable.code)
        raise Failed(unreachable.code) from None
    if not alive.is_set():
        raise Stopped
    if refused:
        _note(partner_id, last_error="not_subscribed")
    records.end(job_id, token, JobState.DONE)


def notice(job_id: int, token: str, alive: threading.Event) -> None:
    partner_id = _partner_id(job_id, token)
    try:
        notices.push(partner_id)
    except client.Unreachable as unreachable:
        log.warning("partner %d: notice not delivered (%s)", partner_id, unreachable.code)
        _note(partner_id, last_error="push_failed")
        raise  # retried by the queue with a growing delay
    records.end(job_id, token, JobState.DONE)
