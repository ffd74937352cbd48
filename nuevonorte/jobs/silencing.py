"""The silenced-copy job: the public copy of a recording with its withheld seconds silent
(decision 0005), made by the worker instead of in the curator's request, where re-encoding a
three-hour interview would hold the page (and a web worker) for minutes.

Until the copy exists the public hears nothing of the recording (``consent.public_audio_key``
serves only a copy made for exactly today's withheld ranges), so a job that waits, fails or dies
never lets a withheld second be heard. ``withheld_audio.make`` is idempotent: it reads today's
ranges when it runs, records the copy only if they are still the same, and does nothing when the
copy is already there; a job run twice, or after a crash, makes at most what is needed.
"""

from __future__ import annotations

import threading

from sqlalchemy import select

from nuevonorte import withheld_audio
from nuevonorte.extensions import db
from nuevonorte.jobs import records
from nuevonorte.jobs.runner import Failed, Gone, Stopped
from nuevonorte.media.errors import MediaRejected
from nuevonorte.models import JobState, MediaFile


def work(job_id: int, token: str, alive: threading.Event) -> None:
    """Make the copy the recording needs now (if any), then end the job."""
    job = records.held(job_id, token)
    if job is None:
        raise Stopped
    media = db.session.get(MediaFile, job.media_id) if job.media_id is not None else None
    if media is None:
        raise Gone("recording_gone")
    public_id = media.public_id
    db.session.rollback()  # nothing is held while the sandbox encodes
    # The ranges can change while the copy is made (a curator saves again and finds this job
    # already running): ``make`` then records nothing, and the copy for today's ranges is made
    # on the next turn, until none is needed.
    for _turn in range(MAX_TURNS):
        try:
            made = withheld_audio.make(public_id)
        except MediaRejected:
            raise Failed("not_silenced") from None
        if not alive.is_set():
            raise Stopped
        if not made and not _still_needed(public_id):
            break
    records.end(job_id, token, JobState.DONE)


#: Rounds of "ranges changed meanwhile" before the job ends (a later save asks again).
MAX_TURNS = 5


def _still_needed(public_id: str) -> bool:
    media = db.session.scalar(select(MediaFile).where(MediaFile.public_id == public_id))
    needed = media is not None and withheld_audio.needed(media) is not None
    db.session.rollback()
    return needed
