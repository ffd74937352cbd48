"""The public copy of a recording with withheld passages: the same recording, their seconds
silent (docs/security.md T05).

The copy is made in the sandbox by the background worker (``jobs.silencing``, asked for in the
transaction that changed the withheld passages), outside any transaction (a long recording takes
seconds to encode and must not hold SQLite's write lock), and recorded with a digest of the
ranges it silenced. Until then the public hears nothing: ``consent.public_audio_key`` serves only
a copy made for exactly today's withheld ranges. A copy that no longer matches is deleted in the
same transaction that changed the ranges; a worker killed before the copy is recorded runs its
job again once the lease passes, and ``nuevonorte check --repair`` makes any copy still lacking.
The original stays stored for curators.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from nuevonorte import audit, consent, database, faults, stories
from nuevonorte.extensions import db
from nuevonorte.media.ingest import silenced_copy
from nuevonorte.models import MediaFile, MediaKind, Transcript


@dataclass(frozen=True)
class Job:
    """A silenced copy to make: of which stored recording, silencing what."""

    original: str
    ranges: tuple[tuple[int, int], ...]
    digest: str


def forget_stale(media: MediaFile) -> None:
    """After a recording's withheld passages changed (before the commit): drop a silenced copy
    made for other ranges, so that it is never served and its file goes with the commit."""
    ranges = consent.withheld_ranges(media)
    current = consent.ranges_digest(ranges) if ranges else None
    if media.public_audio_for == current:
        return
    old = media.public_audio_key
    media.public_audio_key = media.public_audio_for = None
    db.session.flush()
    if old:
        stories.delete_unreferenced([old])


def state(media: MediaFile) -> str:
    """What the public hears of a recording, for the curator: ``whole`` (nothing withheld),
    ``silenced`` (the copy with withheld seconds silent), ``untimed`` (a withheld passage has
    no times: nothing) or ``lacking`` (the copy is not made yet: nothing)."""
    ranges = consent.withheld_ranges(media)
    if ranges is None:
        return "untimed"
    if not ranges:
        return "whole"
    return "lacking" if needed(media) else "silenced"


def needed(media: MediaFile) -> Job | None:
    """The copy ``media`` lacks, if any: only recordings with timed withheld passages need one."""
    if media.kind != MediaKind.AUDIO:
        return None
    ranges = consent.withheld_ranges(media)
    if not ranges:
        return None
    digest = consent.ranges_digest(ranges)
    if media.public_audio_key and media.public_audio_for == digest:
        return None
    return Job(media.storage_key, ranges, digest)


def make(public_id: str) -> bool:
    """Make the silenced copy of one recording if it lacks one; commit; True when made.

    Call it after the transaction that changed the transcript has committed. The read ends
    before the sandbox runs; the copy is recorded only if the ranges are still the same then
    (otherwise the new file goes with the rollback and whoever changed them makes theirs).
    Raises MediaRejected when the recording could not be written again (it then stays silent).
    """
    with database.reading():
        job = _job(public_id)
        db.session.commit()
    if job is None:
        return False
    key = silenced_copy(job.original, job.ranges)
    faults.point("withheld_audio.stored")
    with database.write_intent():
        media = _load(public_id, lock=True)  # a withdrawal meanwhile: waited for, then gone
        if media is None or needed(media) != job:
            db.session.rollback()
            return False
        old = media.public_audio_key
        media.public_audio_key, media.public_audio_for = key, job.digest
        db.session.flush()
        if old and old != key:
            stories.delete_unreferenced([old])
        # An event, so that cached public pages offer the recording again (public/page_cache.py).
        audit.record("media.silenced_copy_made", "media", public_id)
        db.session.commit()
    return True


def lacking() -> list[str]:
    """Public ids of recordings whose withheld passages have no matching silenced copy yet."""
    with database.reading():
        rows = db.session.scalars(
            select(MediaFile)
            .where(MediaFile.kind == MediaKind.AUDIO)
            .options(selectinload(MediaFile.transcript).selectinload(Transcript.cues))
            .order_by(MediaFile.id)
        ).all()
        found = [media.public_id for media in rows if needed(media) is not None]
        db.session.commit()
    return found


def _job(public_id: str) -> Job | None:
    media = _load(public_id)
    return needed(media) if media is not None else None


def _load(public_id: str, lock: bool = False) -> MediaFile | None:
    query = select(MediaFile).where(MediaFile.public_id == public_id)
    return db.session.scalar(query.with_for_update() if lock else query)
