"""The withdrawal ledger: what was taken out of view, kept where no backup can undo it.

A backup taken before a withdrawal still holds the story. Restored, it would bring the story
back — unless something outside the database and its backups remembers. That is this file
(``ledger_path``, on another disk than the backups, never copied by them): one line per change
that takes something out of view, appended *before* the database commits the change
(write-ahead), holding nothing but what a replay needs::

    <entry id> <day> <kind> <story public id> [<media public id>]

Kinds: ``withdrawn`` (a story withdrawn: its content is deleted), ``media-withdrawn`` (one
file withdrawn by its narrator), ``narrowed`` (a narrator's — or a curator's on their behalf —
narrower consent) and ``hidden`` (a curator took a published story or passage out of public
view). The first line (``started``) ties the file to one archive.

The database holds, in ``ledger_entry``, the ids of the entries whose change it holds, written
in the change's own transaction. An entry of the file missing there is a change this database
does not hold: an older backup was restored, or the change's transaction never committed
after its line was written. Either way the archive owes the narrator that change, so a replay
makes it again through the domain layer (``stories``), erring on the side of showing less:
a lost narrowing becomes the narrowest consent (the narrator may widen it again), a lost
curator's hiding sends the story back to review.

Every request first makes sure of that (``guard``): a worker's first request replays every
entry the database lacks before anything is served; later, an entry another process is still
committing is given a few seconds before it is replayed. A ledger that is missing, damaged or
another archive's stops the archive from serving (503) until an admin looks: ``nuevonorte
check`` says why.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from flask import Flask, Response, current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from nuevonorte import database, faults
from nuevonorte.extensions import db
from nuevonorte.models import LedgerEntry, MediaFile, Story
from nuevonorte.models.base import today
from nuevonorte.storage import fsync_dir

log = logging.getLogger(__name__)

STARTED = "started"
WITHDRAWN = "withdrawn"
MEDIA_WITHDRAWN = "media-withdrawn"
NARROWED = "narrowed"
HIDDEN = "hidden"
KINDS = (STARTED, WITHDRAWN, MEDIA_WITHDRAWN, NARROWED, HIDDEN)

#: Seconds a running worker leaves an entry it has just seen to the transaction writing it.
GRACE_SECONDS = 5.0

_REPLAYING = "ledger_replaying"


class LedgerError(Exception):
    """The ledger cannot be trusted as it is; the message says why, for the admin."""


class LedgerMissing(LedgerError):
    """The configured ledger file is not there, though this archive has one."""


@dataclass(frozen=True)
class Entry:
    """One line of the ledger."""

    entry_id: str
    day: date
    kind: str
    story_id: str
    media_id: str | None = None

    def line(self) -> str:
        """The entry as written in the file, with its newline."""
        fields = [self.entry_id, self.day.isoformat(), self.kind, self.story_id]
        return " ".join([*fields, self.media_id] if self.media_id else fields) + "\n"

    @classmethod
    def parse(cls, line: str, number: int) -> Entry:
        """The entry of one line; LedgerError when it is not one."""
        fields = line.split(" ")
        try:
            entry = cls(fields[0], date.fromisoformat(fields[1]), fields[2], fields[3], *fields[4:5])
        except (IndexError, ValueError):
            raise LedgerError(f"line {number} of the withdrawal ledger is damaged") from None
        if entry.kind not in KINDS or len(fields) > 5 or not entry.entry_id.isalnum():
            raise LedgerError(f"line {number} of the withdrawal ledger is damaged")
        return entry


def path() -> Path:
    """The configured ledger file."""
    return Path(current_app.config["LEDGER_PATH"])


def read(file: Path | None = None) -> list[Entry]:
    """Every complete entry of the ledger, in order. A last line without its newline was cut
    by a crash while being written: its change was never committed nor told to anyone."""
    file = file or path()
    try:
        text = file.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise LedgerMissing(f"the withdrawal ledger {file} is missing") from None
    except UnicodeDecodeError:
        raise LedgerError("the withdrawal ledger is damaged (not text)") from None
    lines = text.split("\n")[:-1]  # the part after the last newline is unfinished
    entries = [Entry.parse(line, n) for n, line in enumerate(lines, start=1)]
    if not entries or entries[0].kind != STARTED or any(e.kind == STARTED for e in entries[1:]):
        raise LedgerError("the withdrawal ledger does not begin as a ledger does")
    return entries


# --- writing ------------------------------------------------------------------------------


def record(kind: str, story: Story, media: MediaFile | None = None) -> None:
    """Write down, before the caller's transaction commits, that ``story`` (or ``media``)
    leaves view; the database learns the entry in the same transaction. During a replay the
    change is the replay's own, already written down: nothing is added."""
    session = db.session()
    if session.info.get(_REPLAYING):
        return
    _make_sure_it_started(session)
    entry = Entry(_new_id(), today(), kind, story.public_id, media.public_id if media is not None else None)
    faults.point("ledger.before_append")
    _append(path(), entry)
    faults.point("ledger.appended")  # written, not yet committed: the next worker makes it
    session.add(LedgerEntry(entry_id=entry.entry_id, applied_on=today()))


def _new_id() -> str:
    return secrets.token_hex(8)


def _append(file: Path, entry: Entry) -> None:
    """Append one line and make it durable (fsync) before the caller goes on."""
    fd = os.open(file, os.O_RDWR | os.O_APPEND)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            # A line cut by a crash: its change never committed. Drop it so the file stays whole.
            tail = os.pread(fd, min(size, 4096), max(0, size - 4096))
            os.ftruncate(fd, size - (len(tail) - tail.rfind(b"\n") - 1))
        os.write(fd, entry.line().encode())
        os.fsync(fd)
    finally:
        os.close(fd)  # also releases the lock


def _make_sure_it_started(session: Session) -> None:
    """Create the ledger with its ``started`` line when this archive has none yet; refuse when
    the archive had one and it is gone, or the file is another archive's."""
    file = path()
    known = set(session.scalars(select(LedgerEntry.entry_id)))
    if file.exists():
        started = read(file)[0].entry_id
        if started not in known:
            if _started_here(session, known):
                raise LedgerError("the withdrawal ledger belongs to another archive")
            # A database from before the ledger (an upgrade, or a restored older backup).
            session.add(LedgerEntry(entry_id=started, applied_on=today()))
        return
    if _started_here(session, known):
        raise LedgerMissing(
            f"the withdrawal ledger {file} is missing: bring it back from the old server or its copy"
        )
    started = _start_file(file)
    session.add(LedgerEntry(entry_id=started, applied_on=today()))


def _start_file(file: Path) -> str:
    """Create the ledger with its ``started`` line (or find the one another process just
    created); its id. Written whole beside it, then linked into place: no process ever reads a
    half-made ledger."""
    entry = Entry(_new_id(), today(), STARTED, "-")
    file.parent.mkdir(parents=True, exist_ok=True)
    draft = file.with_name(f".{file.name}.{entry.entry_id}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, entry.line().encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(draft, file)
    except FileExistsError:
        return read(file)[0].entry_id
    finally:
        draft.unlink()
    fsync_dir(file.parent)
    return entry.entry_id


def started_id() -> str:
    """The id of this archive's ledger (its first line), starting the file for an archive that
    has none yet; what a backup records, so that a restore accepts only this ledger."""
    file = path()
    if not file.exists():
        with _read_session() as session:
            if session.scalar(select(LedgerEntry.entry_id).limit(1)) is not None:
                raise LedgerMissing(f"the withdrawal ledger {file} is missing")
        return _start_file(file)
    return read(file)[0].entry_id


def _started_here(session: Session, known: set[str]) -> bool:
    """Whether this database has seen a ledger start (any entry it holds proves it)."""
    return bool(known)


# --- replaying ----------------------------------------------------------------------------


def pending(session: Session) -> list[Entry]:
    """Entries of the file whose change this database does not hold."""
    entries = read()
    known = set(session.scalars(select(LedgerEntry.entry_id)))
    if entries[0].entry_id not in known and known:
        raise LedgerError("the withdrawal ledger belongs to another archive")
    return [e for e in entries[1:] if e.entry_id not in known]


def replay() -> int:
    """Make again, through the domain layer, every change of the ledger this database does not
    hold; each in its own transaction, committed. Returns how many were made. Raises
    LedgerError (LedgerMissing) when the ledger cannot be read."""
    from nuevonorte import changes, stories  # the domain layer calls back into this module

    made = 0
    with database.write_intent():
        db.session.rollback()
        _make_sure_it_started(db.session())
        db.session.commit()
        for entry in pending(db.session()):
            db.session.info[_REPLAYING] = True
            try:
                # The entry's row first: a process committing the same change makes this wait,
                # then fail, so a change is never made twice.
                db.session.add(LedgerEntry(entry_id=entry.entry_id, applied_on=today()))
                db.session.flush()
                stories.replay_ledger_entry(entry.kind, entry.story_id, entry.media_id)
                # An older copy of the database: the change feed's numbers went back too.
                changes.new_epoch()
                db.session.commit()
                made += 1
            except IntegrityError:
                db.session.rollback()
            finally:
                db.session.info.pop(_REPLAYING, None)
        db.session.commit()  # end the read that found them: under write intent it holds the lock
    if made:
        log.warning("withdrawal ledger: %d change(s) the database did not hold were made again", made)
    return made


# --- guarding every request ---------------------------------------------------------------


@dataclass
class _Seen:
    """What this process knows of one ledger and database."""

    size: int = -1
    first_seen: dict[str, float] | None = None


_seen: dict[tuple[str, str], _Seen] = {}


def guard() -> None:
    """Before any request is served: the database holds every change of the ledger.

    Costs one ``stat`` while the file does not grow, and writes nothing unless a change is
    owed. Raises LedgerError when the ledger is missing or cannot be trusted (the error handler
    answers 503 and logs why)."""
    file = path()
    key = guard_key()
    seen = _seen.setdefault(key, _Seen())
    size = _size(file)
    if size == seen.size:
        return
    if size == -2:
        started_id()  # a new archive starts its file (the database learns it at its first change)
        return
    with _read_session() as session:
        waiting = [e.entry_id for e in pending(session)]
    now = time.monotonic()
    if waiting and seen.first_seen is not None:
        first = seen.first_seen
        for entry_id in waiting:
            first.setdefault(entry_id, now)
        if all(now - first[e] < GRACE_SECONDS for e in waiting):
            return  # still being committed by the process that wrote it, most likely
    if waiting:
        replay()
        with _read_session() as session:
            if pending(session):
                raise LedgerError("the withdrawal ledger could not be replayed")
    seen.size, seen.first_seen = size, {}


def guard_key() -> tuple[str, str]:
    """What ``guard`` remembers its ledger by: the file and the database it is for."""
    return str(path()), str(current_app.config["SQLALCHEMY_DATABASE_URI"])


def settled(key: tuple[str, str]) -> bool:
    """Whether ``guard`` would let a request through at once, with no app context: this process
    has seen the ledger ``key`` (``guard_key``) whole, and it has not grown since."""
    seen = _seen.get(key)
    return seen is not None and seen.size >= 0 and _size(Path(key[0])) == seen.size


def _size(file: Path) -> int:
    try:
        return file.stat().st_size
    except FileNotFoundError:
        return -2


@contextlib.contextmanager
def _read_session() -> Iterator[Session]:
    with database.reading(), Session(db.engine) as session:
        yield session


def forget_what_was_seen() -> None:
    """Forget what this process read (tests that replace the database or the file)."""
    _seen.clear()


def init_app(app: Flask) -> None:
    """Guard every request; a ledger that cannot be trusted answers 503, never the archive."""
    app.before_request(guard)

    @app.errorhandler(LedgerError)
    def _ledger_unusable(e: LedgerError) -> tuple[str | Response, int]:
        from nuevonorte import errors

        log.error("the archive does not serve: %s (see `nuevonorte check`)", e)
        return errors.unavailable()


def findings() -> list[str]:
    """What ``nuevonorte check`` reports about the ledger: why it cannot be used, or the
    changes the database does not hold (``check --repair`` makes them again)."""
    try:
        with _read_session() as session:
            started = session.scalar(select(LedgerEntry.entry_id).limit(1)) is not None
            waiting = pending(session)
    except LedgerMissing as e:
        return [str(e)] if started else []  # a new archive starts its ledger at its first change
    except LedgerError as e:
        return [str(e)]
    except SQLAlchemyError:
        return []
    return [
        f"withdrawal ledger: the {e.kind} of {e.media_id or e.story_id} on {e.day} is not in the database"
        for e in waiting
    ]
