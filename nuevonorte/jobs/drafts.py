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
from sqlalchemy.exc import SQLAlchemyError

from nuevonorte import consent, faults, transcripts
from nuevonorte.database import write_intent
from nuevonorte.extensions import db
from nuevonorte.jobs import records
from nuevonorte.jobs.runner import Failed, Gone, Stopped
from nuevonorte.models import JobState, MediaFile, Story, StoryStatus
from nuevonorte.storage import get_storage
from nuevonorte.transcribe import draft as draft_module
from nuevonorte.transcribe.draft import AudioUnreadable, Draft, Settings, transcribe
from nuevonorte.transcribe.model import ModelUnavailable

log = logging.getLogger(__name__)

#: Progress is written (and the lease renewed) at most this often.
REPORT_SECONDS = 2.0


@dataclass(frozen=True)
class _Work:
    storage_key: str
    language: str


def work(job_id: int, token: str, alive: threading.Event) -> None:
    """Draft the recording's transcript and save it, or raise what stopped it."""
    try:
        draft = _transcribe(job_id, token, _what_to_do(job_id, token), alive)
    except ModelUnavailable as refused:
        log.error("draft transcripts: the speech model is unavailable: %s", refused)
        raise Failed(refused.code) from None
    except AudioUnreadable:
        raise Failed("audio_unreadable") from None
    except draft_module.Stopped:
        raise Stopped from None
    _save(job_id, token, draft)


def _readable(media: MediaFile | None) -> MediaFile:
    """``media`` if a draft may still be made of it; ``Gone`` otherwise."""
    if media is None or media.story.status == StoryStatus.WITHDRAWN:
        raise Gone("recording_gone")
    if not consent.curators_may_read(media.story):
        raise Gone("private")
    if media.transcribed:
        raise Gone("already_transcribed")
    return media


def _what_to_do(job_id: int, token: str) -> _Work:
    job = records.held(job_id, token)
    if job is None:
        raise Stopped
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
        try:
            renewed = records.renew(job_id, token, percent)
        except SQLAlchemyError:  # the database busy for a moment: the lease is kept by its thread
            db.session.rollback()
            return alive.is_set()
        if first:
            faults.point("job.hearing")
        return renewed

    try:
        audio = get_storage().open(work.storage_key)
    except OSError as error:
        raise AudioUnreadable from error
    with audio:
        return transcribe(audio, work.language, Settings.of(current_app.config), progress)


def _save(job_id: int, token: str, draft: Draft) -> None:
    with write_intent():
        job = records.held(job_id, token, lock=True)
        if job is None:
            db.session.rollback()
            raise Stopped
        # Locked in the order a withdrawal or a narrowing takes them: job, recording, story.
        query = select(MediaFile).where(MediaFile.id == job.media_id).with_for_update()
        media = db.session.scalar(query) if job.media_id is not None else None
        if media is not None:
            db.session.execute(select(Story.id).where(Story.id == media.story_id).with_for_update()).all()
        media = _readable(media)
        if not draft.passages:
            records.finish(job, JobState.DONE, "no_speech")
        else:
            transcripts.save_machine_draft(media, draft.passages, draft.language)
            records.finish(job, JobState.DONE, "")
        faults.point("job.saving")
        db.session.commit()
    faults.point("job.saved")
