"""Fixity on a rotation (``nuevonorte fixity``): re-hash a share of the stored media files each
run, oldest verification first, so that every file is read within ``fixity_period_days``.

Every stored file is named by the SHA-256 of its content (``nuevonorte.storage``): the original,
the display and thumbnail copies of a photo and the silenced public copy of a recording all carry
their checksum in their key, so each is verified against it (``Storage.verify``, the hashing
``check --verify-content`` uses). The day each file last passed is kept per (media row, key) in
``media_fixity``; a file that fails keeps its old day and is reported again by every run until
someone deals with it. Nothing is ever repaired here.

A run reads no more than it must: at least 1/period of the files and of their bytes, oldest
first, plus every file whose last check is ``period`` days old or more (the catch-up after missed
runs); ``max_files`` and ``max_bytes`` cap that (the head of the queue is always read, so one
file larger than ``max_bytes`` cannot stall the rotation). Every run also sees whether every file
is still there (a ``stat``, no read). See docs/decisions/0013-fixity-rotation.md.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from sqlalchemy import delete, select, tuple_

from nuevonorte.database import reading, upsert, write_intent
from nuevonorte.extensions import db
from nuevonorte.models import MediaFile, MediaFixity, Story
from nuevonorte.models.base import today as utc_today
from nuevonorte.models.media import KEY_COLUMNS
from nuevonorte.storage import Storage, StorageError

#: What each key column holds, in the order of ``MediaFile.storage_keys``.
ROLES = ("original", "display", "thumbnail", "public audio")


@dataclass(frozen=True)
class StoredFile:
    """One stored file of a media row, as seen when the run began."""

    media_id: int
    key: str
    role: str
    verified_on: date | None  # None: never verified
    size: int | None  # bytes on disk; None: no file there

    @property
    def queue_position(self) -> tuple[date, int, str]:
        """Oldest verification first (never verified before anything), then a fixed order."""
        return (self.verified_on or date.min, self.media_id, self.key)


@dataclass(frozen=True)
class Problem:
    """A file that is missing or no longer has the content its key names."""

    kind: str  # missing-file, altered-file, unreadable-file
    key: str
    role: str
    media_public_id: str
    story_public_id: str

    def line(self) -> str:
        return (
            f"{self.kind}: {self.role} {self.key} of media {self.media_public_id} "
            f"in story {self.story_public_id}"
        )


@dataclass(frozen=True)
class Result:
    """What one run did and what it leaves."""

    period_days: int
    checked: int
    checked_bytes: int
    total: int
    oldest: date | None  # the oldest verification left (None: nothing was ever verified)
    never: int  # files never verified yet
    overdue: int  # files not verified within the period
    problems: list[Problem] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the admin (and cron's mail)."""
        line = (
            f"Fixity: verified {self.checked} of {self.total} stored file(s), "
            f"{self.checked_bytes / 1_048_576:.1f} MB; oldest verification now "
            f"{self.oldest.isoformat() if self.oldest else 'none'}"
        )
        if self.never:
            line += f"; {self.never} never verified"
        if self.overdue:
            line += (
                f"; {self.overdue} not verified within {self.period_days} days "
                "(run more often or raise --max-files/--limit-mb)"
            )
        return line + "."


@dataclass(frozen=True)
class Snapshot:
    """Every stored file media rows named when the run began, and records of files no row names
    any more (a replaced public copy of a recording)."""

    files: list[StoredFile]
    stale: set[tuple[int, str]]


def snapshot(storage: Storage) -> Snapshot:
    """Read the media rows and records in one short read transaction, ended before returning."""
    with reading():
        records: dict[tuple[int, str], date] = {
            (media_id, key): day
            for media_id, key, day in db.session.execute(
                select(MediaFixity.media_id, MediaFixity.storage_key, MediaFixity.verified_on)
            )
        }
        rows = db.session.execute(select(MediaFile.id, *KEY_COLUMNS).order_by(MediaFile.id)).all()
        db.session.rollback()  # no transaction stays open while files are read
    files: list[StoredFile] = []
    for media_id, *keys in rows:
        seen: set[str] = set()
        for role, key in zip(ROLES, keys, strict=True):
            if not key or key in seen:
                continue
            seen.add(key)
            files.append(StoredFile(media_id, key, role, records.get((media_id, key)), _size(storage, key)))
    return Snapshot(files, set(records) - {(f.media_id, f.key) for f in files})


def plan(
    files: Iterable[StoredFile],
    today: date,
    period_days: int,
    max_files: int | None = None,
    max_bytes: int | None = None,
) -> list[StoredFile]:
    """The files this run reads, in the order it reads them (missing files are not read)."""
    queue = sorted((f for f in files if f.size is not None), key=lambda f: f.queue_position)
    want_files = math.ceil(len(queue) / period_days)
    want_bytes = math.ceil(sum(f.size or 0 for f in queue) / period_days)
    due = today - timedelta(days=period_days)
    chosen: list[StoredFile] = []
    size = 0
    for f in queue:
        share_done = len(chosen) >= want_files and size >= want_bytes
        overdue = f.verified_on is not None and f.verified_on <= due
        if share_done and not overdue:
            break
        capped = (max_files is not None and len(chosen) >= max_files) or (
            max_bytes is not None and size + (f.size or 0) > max_bytes
        )
        if chosen and capped:
            break
        chosen.append(f)
        size += f.size or 0
    return chosen


def run(
    storage: Storage,
    period_days: int,
    today: date | None = None,
    max_files: int | None = None,
    max_bytes: int | None = None,
) -> Result:
    """One run of the rotation: read this run's share, record what passed, report the rest."""
    return verify(storage, snapshot(storage), period_days, today or utc_today(), max_files, max_bytes)


def verify(
    storage: Storage,
    seen: Snapshot,
    period_days: int,
    today: date,
    max_files: int | None = None,
    max_bytes: int | None = None,
) -> Result:
    """Read the share of ``seen`` that ``plan`` picks; each problem is confirmed against the
    database as it is now, so a file a withdrawal deleted meanwhile is not reported."""
    problems: list[Problem] = []
    for f in seen.files:
        if f.size is None:
            problems += _confirmed(f, "missing-file")
    passed: set[tuple[int, str]] = set()
    read_bytes = 0
    for f in plan(seen.files, today, period_days, max_files, max_bytes):
        kind = _check(storage, f)
        read_bytes += f.size or 0
        if kind is None:
            if _record(f, today):
                passed.add((f.media_id, f.key))
        else:
            problems += _confirmed(f, kind)
    _forget(seen.stale)
    after = [replace(f, verified_on=today) if (f.media_id, f.key) in passed else f for f in seen.files]
    days = [f.verified_on for f in after if f.verified_on is not None]
    due = today - timedelta(days=period_days)
    return Result(
        period_days=period_days,
        checked=len(passed),
        checked_bytes=read_bytes,
        total=len(seen.files),
        oldest=min(days, default=None),
        never=len(after) - len(days),
        overdue=sum(1 for day in days if day < due),
        problems=problems,
    )


def _size(storage: Storage, key: str) -> int | None:
    try:
        return storage.size(key)
    except FileNotFoundError:
        return None
    except (OSError, StorageError):
        return 0  # there but not readable as a stored file: reading it reports why


def _check(storage: Storage, f: StoredFile) -> str | None:
    """None when the file has the content its key names, else what is wrong with it."""
    try:
        if storage.verify(f.key):
            return None
        return "altered-file" if storage.exists(f.key) else "missing-file"
    except FileNotFoundError:
        return "missing-file"  # removed while it was read
    except (OSError, StorageError):
        return "unreadable-file"


def _record(f: StoredFile, today: date) -> bool:
    """Mark ``f`` verified today if its media row still names it; False if the row went."""
    with write_intent():
        # FOR KEY SHARE on PostgreSQL: a withdrawal deleting the row waits for this transaction,
        # and its cascade then deletes the record written here.
        current = db.session.scalars(
            select(MediaFile)
            .where(MediaFile.id == f.media_id)
            .with_for_update(read=True, key_share=True)
            .execution_options(populate_existing=True)
        ).first()
        if current is None or f.key not in current.storage_keys():
            db.session.rollback()
            return False
        db.session.execute(
            upsert(MediaFixity, db.engine.dialect.name)
            .values(media_id=f.media_id, storage_key=f.key, verified_on=today)
            .on_conflict_do_update(
                index_elements=[MediaFixity.media_id, MediaFixity.storage_key],
                set_={"verified_on": today},
            )
        )
        db.session.commit()
    return True


def _confirmed(f: StoredFile, kind: str) -> list[Problem]:
    """The problem, if the media row still names the file now: a withdrawal (or a new public
    copy of a recording) deletes files after its commit, so a row read afterwards is gone."""
    with reading():
        row = db.session.execute(
            select(MediaFile, Story.public_id)
            .join(Story, Story.id == MediaFile.story_id)
            .where(MediaFile.id == f.media_id)
            .execution_options(populate_existing=True)
        ).first()
        found = None if row is None or f.key not in row[0].storage_keys() else (row[0].public_id, row[1])
        db.session.rollback()
    return [Problem(kind, f.key, f.role, *found)] if found else []


def _forget(stale: set[tuple[int, str]]) -> None:
    """Delete records of files their row no longer names (at worst such a file is re-read sooner)."""
    if not stale:
        return
    with write_intent():
        db.session.execute(
            delete(MediaFixity).where(
                tuple_(MediaFixity.media_id, MediaFixity.storage_key).in_(sorted(stale))
            )
        )
        db.session.commit()
