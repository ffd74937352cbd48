"""The draft-transcript job: a recording in, a machine draft of its transcript out.

Three steps, none holding the database while the recording is heard:

1. read what to do in a short transaction (the stored file's key, the language asked for) and
   end it;
2. transcribe in memory, reporting progress and renewing the lease; a withdrawal meanwhile
   cancels the job and the next report stops the work;
3. save in one write transaction that first locks the job and the recording and checks again
   that this worker still holds the job, the recording still exists and curators may still read
   it, and that nobody wrote a transcript meanwhile. Otherwise nothing is written.

Nothing of the recording or its words is written anywhere but the transcript tables: not the
queue (ids only), not the job row (a reason code), not the log (exception types only).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from nuevonorte import consent, faults, transcripts
from nuevonorte.database import write_intent
from nuevonorte.extensions import db
from nuevonorte.jobs import records
from nuevonorte.models import JobKind, JobState, MediaFile, StoryStatus
from nuevonorte.storage import get_storage
from nuevonorte.transcribe.draft import AudioUnreadable, Draft, Settings, Stopped, transcribe
from nuevonorte.transcribe.model import ModelUnavailable

log = logging.getLogger(__name__)

#: Progress is written (and the lease renewed) at most this often.
REPORT_SECONDS = 2.0


class Interrupted(Exception):
    """A failure that may pass, handed to the queue to retry; it names only the error's type, so
    that nothing of a recording (a database error quotes its parameters) reaches a log."""


class _Gone(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class _Work:
    storage_key: str
    language: str


def settings() -> Settings:
    config = current_app.config
    return Settings(
        config["TRANSCRIBE_MODEL_DIR"], config["TRANSCRIBE_MODEL_SHA256"], config["TRANSCRIBE_THREADS"]
    )


def run(job_id: int, retries_left: int) -> None:
    """Run one job if it is this worker's to run; a failure that may pass is raised for the
    queue to retry while ``retries_left``, and otherwise ends the job as failed."""
    token = records.claim(job_id)
    if token is None:
        return
    faults.point("job.claimed")
    try:
        with records.kept_alive(job_id, token) as alive:
            work = _what_to_do(job_id, token)
            draft = _transcribe(job_id, token, work, alive)
            _save(job_id, token, draft)
    except _Gone as gone:
        db.session.rollback()
        records.end(job_id, token, JobState.CANCELLED, gone.reason)
    except Stopped:
        db.session.rollback()
        return  # cancelled meanwhile (its row says why) or taken over by another worker
    except ModelUnavailable as refused:
        db.session.rollback()
        log.error("draft transcripts: the speech model is unavailable: %s", refused)
        records.end(job_id, token, JobState.FAILED, refused.code)
    except AudioUnreadable:
        db.session.rollback()
        records.end(job_id, token, JobState.FAILED, "audio_unreadable")
    except Exception as error:
        db.session.rollback()
        log.warning("job %d failed (%s); retries left: %d", job_id, type(error).__name__, retries_left)
        if retries_left > 0:
            records.release(job_id, token)
            raise Interrupted(type(error).__name__) from None
        records.end(job_id, token, JobState.FAILED, "error")


def _readable(media: MediaFile | None) -> MediaFile:
    """``media`` if a draft may still be made of it; ``_Gone`` otherwise."""
    if media is None or media.story.status == StoryStatus.WITHDRAWN:
        raise _Gone("recording_gone")
    if not consent.curators_may_read(media.story):
        raise _Gone("private")
    if media.transcript is not None:
        raise _Gone("already_transcribed")
    return media


def _what_to_do(job_id: int, token: str) -> _Work:
    job = records.held(job_id, token)
    if job is None:
        raise Stopped
    if job.kind != JobKind.DRAFT_TRANSCRIPT:
        raise _Gone("error")
    media = _readable(db.session.get(MediaFile, job.media_id) if job.media_id is not None else None)
    work = _Work(media.storage_key, job.language)
    db.session.rollback()  # end the read: nothing is held while the recording is heard
    return work


def _transcribe(job_id: int, token: str, work: _Work, alive: threading.Event) -> Draft:
    last = 0.0

    def progress(percent: int) -> bool:
        nonlocal last
        now = time.monotonic()
        if now - last < REPORT_SECONDS:
            return alive.is_set()
        first = last == 0.0
        last = now
        renewed = records.renew(job_id, token, percent)
        if first:
            faults.point("job.hearing")
        return renewed

    try:
        audio = get_storage().open(work.storage_key)
    except OSError as error:
        raise AudioUnreadable from error
    with audio:
        return transcribe(audio, work.language, settings(), progress)


def _save(job_id: int, token: str, draft: Draft) -> None:
    with write_intent():
        job = records.held(job_id, token, lock=True)
        if job is None:
            db.session.rollback()
            raise Stopped
        query = select(MediaFile).where(MediaFile.id == job.media_id).with_for_update()
        media = _readable(db.session.scalar(query) if job.media_id is not None else None)
        if not draft.passages:
            records.finish(job, JobState.DONE, "no_speech")
        else:
            transcripts.save_machine_draft(media, draft.passages, draft.language)
            records.finish(job, JobState.DONE, "")
        faults.point("job.saving")
        db.session.commit()
    faults.point("job.saved")
