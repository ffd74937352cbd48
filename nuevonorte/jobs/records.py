"""The ``job`` table: the archive's own account of every background job.

A job is requested inside the transaction that wants it (a curator's press, a new recording);
its id is handed to the queue only **after** that commits (``install``). Whoever runs it first
*claims* it: a conditional update that succeeds for one worker only, and gives it a lease it
renews as it reports progress. A worker killed mid-job stops renewing; once the lease has
passed, ``recover`` queues the job again, and the next claim counts another attempt. The queue
may deliver a job twice (a recovery racing a slow worker): the second claim finds the job held
or finished and does nothing. So jobs are idempotent by construction, whatever the engine does.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from flask import current_app
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import CursorResult, event, or_, select, update
from sqlalchemy.orm import Session

from nuevonorte import audit, consent
from nuevonorte.database import write_intent
from nuevonorte.extensions import db
from nuevonorte.models import (
    ArchiveSetting,
    CuratorAccount,
    Job,
    JobKind,
    JobState,
    MediaFile,
    MediaKind,
    StoryStatus,
)
from nuevonorte.models.base import utcnow
from nuevonorte.models.job import ACTIVE_STATES

log = logging.getLogger(__name__)

#: A job claimed this many times without finishing is given up (a recording that kills its worker).
MAX_ATTEMPTS = 4
_NEW = "nn_jobs_to_enqueue"
AUTO_DRAFTS = "auto_draft_transcripts"


class Refused(Exception):
    """A job that cannot be requested; ``code`` says why."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# --- requesting -----------------------------------------------------------------------------


def active_job(media: MediaFile, kind: JobKind = JobKind.DRAFT_TRANSCRIPT) -> Job | None:
    """The waiting or running job of this kind for ``media``, if any."""
    return db.session.scalar(
        select(Job)
        .where(Job.media_id == media.id, Job.kind == kind, Job.state.in_(ACTIVE_STATES))
        .order_by(Job.id.desc())
    )


def latest_job(media: MediaFile, kind: JobKind = JobKind.DRAFT_TRANSCRIPT) -> Job | None:
    """The newest job of this kind for ``media``, whatever its state."""
    return db.session.scalar(
        select(Job).where(Job.media_id == media.id, Job.kind == kind).order_by(Job.id.desc())
    )


def request_draft(
    media: MediaFile, language: str = "", curator: CuratorAccount | None = None, automatic: bool = False
) -> Job:
    """Ask for a draft transcript of ``media`` (in the caller's transaction); the waiting job
    when there is one. ``Refused``: not a recording, already transcribed, or not readable by
    curators (withdrawn, or kept to the narrator)."""
    if media.kind != MediaKind.AUDIO:
        raise Refused("not_a_recording")
    if media.transcribed:
        raise Refused("already_transcribed")
    if media.story.status == StoryStatus.WITHDRAWN or not consent.curators_may_read(media.story):
        raise Refused("private")
    waiting = active_job(media)
    if waiting is not None:
        return waiting
    language = language if language in ("es", "en") else ""
    return _new(JobKind.DRAFT_TRANSCRIPT, media, curator, automatic=automatic, language=language)


def request_silenced_copy(media: MediaFile, curator: CuratorAccount | None = None) -> Job | None:
    """Ask for the public copy of ``media`` with its withheld seconds silent, when the
    transcript's withheld passages (just flushed in the caller's transaction) need a new one; the
    waiting job when there is one. Until the copy exists the public hears nothing of the
    recording (``consent.public_audio_key``), so asking late is safe, never loud."""
    from nuevonorte import withheld_audio

    if media.kind != MediaKind.AUDIO or withheld_audio.needed(media) is None:
        return None
    waiting = active_job(media, JobKind.SILENCED_COPY)
    if waiting is not None and waiting.state == JobState.QUEUED:
        return waiting  # it reads the ranges when it runs: today's
    return _new(JobKind.SILENCED_COPY, media, curator, automatic=curator is None)


def _new(kind: JobKind, media: MediaFile, curator: CuratorAccount | None, **values: Any) -> Job:
    job = Job(
        kind=kind,
        media_id=media.id,
        requested_by_id=curator.id if curator is not None else None,
        state=JobState.QUEUED,
        attempts=0,
        progress=0,
        reason="",
        created_at=utcnow(),
        **{"language": "", "automatic": False, **values},
    )
    db.session.add(job)
    db.session.flush()
    db.session.info.setdefault(_NEW, {})[job.id] = kind
    audit.record(f"job.requested.{kind.value}", "media", media.public_id, actor=curator)
    return job


def request_partner_job(session: Session, kind: JobKind, partner_id: int) -> Job:
    """Ask for a harvest of, or a notice to, a partner archive (in ``session``'s transaction);
    the waiting one when there is one: a job reads the partner's state when it runs. Either way
    it is handed to the queue after the commit, to run now: a waiting one may be a failed notice
    whose retry is minutes away, and a withdrawal made since must not wait for it (the later
    delivery finds the job done and does nothing)."""
    waiting = session.scalar(
        select(Job).where(Job.partner_id == partner_id, Job.kind == kind, Job.state == JobState.QUEUED)
    )
    if waiting is not None:
        session.info.setdefault(_NEW, {})[waiting.id] = kind
        return waiting
    job = Job(
        kind=kind,
        partner_id=partner_id,
        state=JobState.QUEUED,
        attempts=0,
        progress=0,
        reason="",
        language="",
        automatic=True,
        created_at=utcnow(),
    )
    session.add(job)
    session.flush()
    session.info.setdefault(_NEW, {})[job.id] = kind
    return job


def retry(job: Job, curator: CuratorAccount) -> Job:
    """Ask again for a failed or cancelled job's work (a new job; the old one stays as it was)."""
    if job.partner_id is not None:
        return request_partner_job(db.session(), job.kind, job.partner_id)
    media = db.session.get(MediaFile, job.media_id) if job.media_id is not None else None
    if media is None:
        raise Refused("recording_gone")
    if job.kind == JobKind.SILENCED_COPY:
        again = request_silenced_copy(media, curator)
        if again is None:
            raise Refused("not_needed")
        return again
    return request_draft(media, job.language, curator)


def cancel_for_media(
    media_ids: Iterable[int], reason: str = "recording_gone", kinds: Iterable[JobKind] = tuple(JobKind)
) -> None:
    """Cancel every waiting or running job of these recordings, in the caller's transaction (a
    withdrawal): a running worker sees it at its next report and stops; what it made is never
    saved (``drafts`` re-checks under lock before it writes)."""
    ids = sorted(media_ids)
    if not ids:
        return
    # Rows locked in one order (by id) first, as recovery does, so the two never deadlock.
    db.session.execute(select(Job.id).where(Job.media_id.in_(ids)).order_by(Job.id).with_for_update()).all()
    db.session.execute(
        update(Job)
        .where(Job.media_id.in_(ids), Job.kind.in_(list(kinds)), Job.state.in_(ACTIVE_STATES))
        .values(state=JobState.CANCELLED, reason=reason, claim=None, lease_until=None, finished_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if reason == "recording_gone":  # the recording goes: keep nothing of it (its language)
        db.session.execute(
            update(Job)
            .where(Job.media_id.in_(ids))
            .values(language="")
            .execution_options(synchronize_session=False)
        )


# --- running --------------------------------------------------------------------------------


def _lease() -> timedelta:
    return timedelta(seconds=int(current_app.config["JOB_LEASE_SECONDS"]))


def claim(job_id: int) -> str | None:
    """Take the job for this worker: its claim token, or None when it is not this worker's to
    run (finished, cancelled, or held by a worker whose lease is still running)."""
    now = utcnow()
    token = secrets.token_hex(16)
    with write_intent():
        job = db.session.get(Job, job_id)
        if job is None:
            db.session.rollback()
            return None
        if job.state == JobState.RUNNING and job.lease_until is not None and job.lease_until > now:
            db.session.rollback()
            return None
        if job.state not in ACTIVE_STATES:
            db.session.rollback()
            return None
        if job.attempts >= MAX_ATTEMPTS:
            finish(job, JobState.FAILED, "too_many_attempts")
            db.session.commit()
            return None
        taken: CursorResult[Any] = db.session.execute(  # type: ignore[assignment]
            update(Job)
            .where(
                Job.id == job_id,
                Job.attempts == job.attempts,  # nobody claimed it since it was read
                or_(Job.state == JobState.QUEUED, Job.lease_until.is_(None), Job.lease_until <= now),
            )
            .values(
                state=JobState.RUNNING,
                claim=token,
                lease_until=now + _lease(),
                attempts=Job.attempts + 1,
                started_at=now,
                progress=0,
                reason="",
            )
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
    return token if taken.rowcount == 1 else None


def renew(job_id: int, token: str, progress: int | None = None) -> bool:
    """Extend the lease (and report ``progress``, a percentage); False when the job is no longer
    this worker's (cancelled by a withdrawal, or reclaimed after the lease passed): then stop."""
    values: dict[str, Any] = {"lease_until": utcnow() + _lease()}
    if progress is not None:
        values["progress"] = progress
    with write_intent():
        renewed: CursorResult[Any] = db.session.execute(  # type: ignore[assignment]
            update(Job)
            .where(Job.id == job_id, Job.claim == token, Job.state == JobState.RUNNING)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
    return bool(renewed.rowcount == 1)


@contextmanager
def kept_alive(job_id: int, token: str) -> Iterator[threading.Event]:
    """While the block runs, renew the job's lease every third of it from a thread of its own,
    whatever the work is doing (loading a large model, hearing a long passage): a lease proves the
    worker is alive, not that it progresses. The event is cleared once the job is no longer this
    worker's (cancelled, or taken over): the work should stop."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    alive, done = threading.Event(), threading.Event()
    alive.set()
    interval = _lease().total_seconds() / 3

    def beat() -> None:
        while not done.wait(interval):
            try:
                with app.app_context():
                    if not renew(job_id, token):
                        alive.clear()
                        return
            except Exception as error:  # a busy database: the next beat tries again
                log.warning("job %d: lease not renewed this time (%s)", job_id, type(error).__name__)

    thread = threading.Thread(target=beat, name=f"job-{job_id}-lease", daemon=True)
    thread.start()
    try:
        yield alive
    finally:
        done.set()
        thread.join()


def held(job_id: int, token: str, lock: bool = False) -> Job | None:
    """The job, if this worker still holds it (in the caller's transaction; ``lock`` takes its
    row lock on PostgreSQL until commit)."""
    query = select(Job).where(Job.id == job_id, Job.claim == token, Job.state == JobState.RUNNING)
    if lock:
        query = query.with_for_update()
    return db.session.scalar(query)


def end(job_id: int, token: str, state: JobState, reason: str = "") -> None:
    """Finish a job this worker holds, in its own transaction."""
    with write_intent():
        job = held(job_id, token, lock=True)
        if job is not None:
            finish(job, state, reason)
        db.session.commit()


def release(job_id: int, token: str) -> None:
    """Hand a job back to the queue after a failure that will be retried."""
    with write_intent():
        job = held(job_id, token, lock=True)
        if job is not None:
            job.state, job.claim, job.lease_until, job.reason = JobState.QUEUED, None, None, "interrupted"
        db.session.commit()


def finish(job: Job, state: JobState, reason: str) -> None:
    job.state = state
    job.reason = reason
    job.claim = None
    job.lease_until = None
    job.finished_at = utcnow()
    if state == JobState.DONE:
        job.progress = 100


# --- recovery -------------------------------------------------------------------------------


def recover(queued: Callable[[], set[int]], enqueue: Callable[[int, JobKind], None]) -> int:
    """Put back in the queue every job that should be there and is not: a running job whose
    lease has passed (its worker died), and a waiting job the queue does not hold (its commit
    happened, its hand-over to the queue did not). ``queued`` reads the ids the queue holds.
    Returns how many were handed over."""
    now = utcnow()
    dead = (Job.state == JobState.RUNNING, or_(Job.lease_until.is_(None), Job.lease_until < now))
    with write_intent():
        # Rows locked in id order first, as a withdrawal's cancellation does: never a deadlock.
        db.session.execute(select(Job.id).where(*dead).order_by(Job.id).with_for_update()).all()
        db.session.execute(
            update(Job)
            .where(*dead)
            .values(state=JobState.QUEUED, claim=None, lease_until=None, reason="interrupted")
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
    rows = db.session.execute(select(Job.id, Job.kind).where(Job.state == JobState.QUEUED)).all()
    waiting = {job_id: kind for job_id, kind in rows}
    db.session.rollback()
    missing = sorted(set(waiting) - queued())
    for job_id in missing:
        enqueue(job_id, waiting[job_id])
    return len(missing)


# --- hand-over after commit ------------------------------------------------------------------


def install() -> None:
    """Hand new jobs to the queue after their transaction commits (idempotent)."""
    for name, fn in (("after_commit", _after_commit), ("after_rollback", _after_rollback)):
        if not event.contains(FlaskSession, name, fn):
            event.listen(FlaskSession, name, fn)


def _after_commit(session: Session) -> None:
    new = session.info.pop(_NEW, None)
    if not new:
        return
    from nuevonorte.jobs import queue

    for job_id, kind in sorted(new.items()):
        try:
            queue.enqueue(job_id, kind)
        except Exception as error:  # the job is committed: recovery hands it over later
            log.warning("job %d waits for recovery: the queue refused it (%s)", job_id, type(error).__name__)


def _after_rollback(session: Session) -> None:
    session.info.pop(_NEW, None)


# --- the admin's setting ----------------------------------------------------------------------


def auto_drafts() -> bool:
    """Whether every new recording gets a draft transcript without anyone asking."""
    setting = db.session.get(ArchiveSetting, AUTO_DRAFTS)
    return setting is not None and setting.value == "on"


def set_auto_drafts(on: bool, curator: CuratorAccount) -> None:
    setting = db.session.get(ArchiveSetting, AUTO_DRAFTS)
    if setting is None:
        setting = ArchiveSetting(name=AUTO_DRAFTS, value="")
        db.session.add(setting)
    setting.value = "on" if on else "off"
    audit.record("settings.auto_drafts_" + setting.value, "setting", AUTO_DRAFTS, actor=curator)


def model_installed() -> bool:
    """Whether a speech model is there to be used (a cheap look; it is verified when loaded)."""
    from nuevonorte.transcribe.draft import Settings
    from nuevonorte.transcribe.model import installed

    settings = Settings.of(current_app.config)
    return installed(settings.model_dir, settings.hash_list)


def drafts_for_new_recordings(media: MediaFile) -> None:
    """Request a draft of a recording just attached, when an admin made drafts automatic and a
    model is installed (in the caller's transaction: the job commits with the recording)."""
    if not auto_drafts() or not model_installed() or not consent.curators_may_read(media.story):
        return  # a story its narrator keeps to themselves is never drafted
    request_draft(media, automatic=True)
