"""Running one job, whatever its kind: claim it, keep its lease, do its work, and end it with a
state and a reason. The work of each kind (``drafts``, ``silencing``) raises ``Gone``,
``Failed`` or ``Stopped`` for what it meets; anything else is a failure that may pass, retried
by the queue with a growing delay while retries are left."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from nuevonorte import faults
from nuevonorte.extensions import db
from nuevonorte.jobs import records
from nuevonorte.models import Job, JobKind, JobState

log = logging.getLogger(__name__)

Work = Callable[[int, str, threading.Event], None]


class Gone(Exception):
    """What the job was for is gone or out of reach (withdrawn, kept private): cancelled."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Failed(Exception):
    """A failure that will not pass by trying again (no model, undecodable audio)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Stopped(Exception):
    """The job was cancelled, or taken over by another worker, while it ran: leave it be."""


class Interrupted(Exception):
    """A failure that may pass, handed to the queue to retry; it names only the error's type, so
    that nothing of a recording (a database error quotes its parameters) reaches a log."""


def _works() -> dict[JobKind, Work]:
    from nuevonorte.jobs import drafts, partner_work, silencing

    return {
        JobKind.DRAFT_TRANSCRIPT: drafts.work,
        JobKind.SILENCED_COPY: silencing.work,
        JobKind.PARTNER_HARVEST: partner_work.harvest,
        JobKind.PARTNER_NOTICE: partner_work.notice,
    }


#: One draft at a time per worker process (speech recognition uses every core); the consumer's
#: other thread is for partner archives' harvests and notices, which wait on the network.
_drafting = threading.Semaphore(1)
#: A draft that finds another running is handed back to the queue for this long.
BUSY_DELAY = 5


def run(job_id: int, retries_left: int) -> None:
    """Run one job if it is this worker's to run."""
    job = db.session.get(Job, job_id)
    kind = job.kind if job is not None else None
    db.session.rollback()
    if kind == JobKind.DRAFT_TRANSCRIPT:
        if not _drafting.acquire(blocking=False):
            from nuevonorte.jobs import queue

            queue.enqueue(job_id, kind, delay=BUSY_DELAY)
            return
        try:
            _run(job_id, kind, retries_left)
        finally:
            _drafting.release()
        return
    _run(job_id, kind, retries_left)


def _run(job_id: int, kind: JobKind | None, retries_left: int) -> None:
    token = records.claim(job_id)
    if token is None or kind is None:
        return
    faults.point("job.claimed")
    failure = ""
    try:
        with records.kept_alive(job_id, token) as alive:
            _works()[kind](job_id, token, alive)
        return
    except Gone as gone:
        db.session.rollback()
        records.end(job_id, token, JobState.CANCELLED, gone.reason)
        return
    except Stopped:
        db.session.rollback()
        return
    except Failed as failed:
        db.session.rollback()
        records.end(job_id, token, JobState.FAILED, failed.reason)
        return
    except Exception as error:
        # Only the error's type leaves this block: the bookkeeping below runs outside it, so that
        # an error it meets in turn does not carry this one (and its message) into a log.
        failure = type(error).__name__
    db.session.rollback()
    log.warning("job %d failed (%s); retries left: %d", job_id, failure, retries_left)
    if retries_left > 0:
        records.release(job_id, token)
        raise Interrupted(failure)
    records.end(job_id, token, JobState.FAILED, "error")
