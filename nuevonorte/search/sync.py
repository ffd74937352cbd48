"""Keeping the indexes in step with the database, automatically, after every commit.

``install()`` hooks SQLAlchemy session events once per process:

- ``after_flush`` collects the stories touched by the flush (a Story, or its consent records,
  media, transcripts, cues; a renamed Theme or Place touches every story that uses it) and
  writes one ``search_log`` entry per story **in the same transaction** as the change;
- ``after_commit`` then numbers the entries and applies every entry past this machine's
  position to its index (``follow``: its own, any left by an earlier failure, and those of
  other machines);
- a rollback forgets the collected ids (the entries roll back with the change).

So curation and contribution code is indexed without calling this module, and a failed or
interrupted index update (lock held too long, index missing, worker killed) leaves its entries
past the position, to be applied by the next write, by the worker's follower (twice a second), by
``nuevonorte check`` or by ``nuevonorte reindex``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from flask import current_app, has_app_context
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import event, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, selectinload

from nuevonorte import consent, faults
from nuevonorte.database import _write_intent
from nuevonorte.extensions import db
from nuevonorte.models import (
    ConsentRecord,
    Cue,
    MediaFile,
    Place,
    Story,
    Theme,
    Transcript,
    TranscriptSegment,
)
from nuevonorte.models.base import today
from nuevonorte.models.vocabulary import story_place, story_theme
from nuevonorte.search import follow, rebuild_lock, store
from nuevonorte.search.documents import public_document, staff_document

log = logging.getLogger(__name__)

PENDING = "search_pending_story_ids"


def install() -> None:
    """Listen to Flask-SQLAlchemy sessions (idempotent: the listeners are per class)."""
    for name, fn in (
        ("after_flush", _after_flush),
        ("after_commit", _after_commit),
        ("after_rollback", _after_rollback),
    ):
        if not event.contains(FlaskSession, name, fn):
            event.listen(FlaskSession, name, fn)


# --- event handlers -----------------------------------------------------------------------


def _after_flush(session: Session, _context: Any) -> None:
    touched = _touched_story_ids(session)
    pending: set[int] = session.info.setdefault(PENDING, set())
    new = sorted(touched - pending)
    if not new:
        return
    pending.update(new)
    follow.write(session, stories=new)


def _after_commit(session: Session) -> None:
    pending = session.info.pop(PENDING, None)
    if not pending or not has_app_context():
        return
    faults.point("commit.before_index")
    apply_log()


def _after_rollback(session: Session) -> None:
    session.info.pop(PENDING, None)


def _touched_story_ids(session: Session) -> set[int]:
    ids: set[int] = set()
    transcript_ids: set[int] = set()
    media_ids: set[int] = set()
    theme_ids: set[int] = set()
    place_ids: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Story):
            ids.add(obj.id)
        elif isinstance(obj, ConsentRecord | MediaFile):
            ids.add(obj.story_id) if obj.story_id is not None else None
            if obj.story_id is None and obj.story is not None:
                ids.add(obj.story.id)
        elif isinstance(obj, Transcript):
            media_ids.add(obj.media_id)
        elif isinstance(obj, Cue | TranscriptSegment):  # a part's title and synopsis are public too
            transcript_ids.add(obj.transcript_id)
        elif isinstance(obj, Theme):
            theme_ids.add(obj.id)
        elif isinstance(obj, Place):
            place_ids.add(obj.id)
    conn = session.connection()
    if transcript_ids:
        media_ids.update(conn.scalars(select(Transcript.media_id).where(Transcript.id.in_(transcript_ids))))
    if media_ids:
        ids.update(conn.scalars(select(MediaFile.story_id).where(MediaFile.id.in_(media_ids))))
    if theme_ids:
        ids.update(conn.scalars(select(story_theme.c.story_id).where(story_theme.c.theme_id.in_(theme_ids))))
    if place_ids:
        ids.update(conn.scalars(select(story_place.c.story_id).where(story_place.c.place_id.in_(place_ids))))
    return ids


@contextmanager
def own_session(write: bool) -> Iterator[Session]:
    """A session of this module's own, outside the caller's transaction.

    ``write`` decides how it begins on SQLite (``BEGIN IMMEDIATE`` or a plain read), whatever
    the request or command around it declared, so a read here never queues behind — or
    blocks — the caller's own write transaction.
    """
    token = _write_intent.set(write)
    try:
        with Session(db.engine) as session:
            yield session
    finally:
        _write_intent.reset(token)


# --- applying changes ---------------------------------------------------------------------


def apply_log() -> int:
    """Apply the search log past this machine's position to its index (``follow``); returns how
    many entries were applied.

    Never raises: a failure is logged and the entries wait for the next attempt. While a rebuild
    runs, the live index follows as always — a withdrawal must not wait for the rebuild (T03) —
    and the rebuild applies what came after its own start to its new build, before and after
    the swap.
    """
    if not rebuilding():
        rebuild_lock.clean_after_dead_rebuild()  # what a killed rebuild left (T09)
    if not (store.has_files(store.PUBLIC) and store.has_files(store.STAFF)):
        # No index yet (before `setup` or the first rebuild): nothing to load or write.
        log.warning("search index update deferred to the search log: no index yet")
        return 0
    error = ""
    with store.abandoned_files_ignored():
        try:
            return follow.follow()
        except Exception as e:  # the log keeps the work; never break the request that committed
            error = f"{type(e).__name__}: {e}"
    store.collect_abandoned_files()
    log.warning("search index update deferred to the search log: %s", error)
    return 0


def follow_now() -> None:
    """After a commit that wrote search-log entries outside the session hooks (partner stories,
    ``partners.holdings``): end any read the caller's session still holds, then follow at once
    on this machine (the others within their follower's half second)."""
    db.session.rollback()
    apply_log()


def resume_after_dead_process() -> None:
    """Once per process and index folder (a worker's first request): apply what this index has
    not followed yet — what a process killed between its commit and its index write left, or
    what other machines wrote meanwhile — then finish any purge or merge left half done."""
    if store.resumed():
        return
    try:
        waiting = follow.behind() > 0
    except SQLAlchemyError:
        waiting = False  # no database yet (setup): nothing was written to index
    if waiting:
        apply_log()
    store.resume_maintenance()


def index_stories(story_ids: Iterable[int], session: Session, root: Path | None = None) -> None:
    """Write (or delete) the public and staff index entries of ``story_ids`` from the database."""
    ids = set(story_ids)
    found = {s.id: s for s in session.scalars(_story_query().where(Story.id.in_(ids)))}
    public_docs, public_deletes, staff_docs, staff_deletes = [], [], [], []
    for sid in sorted(ids):
        story = found.get(sid)
        public = public_document(story) if story is not None else None
        staff = staff_document(story) if story is not None else None
        # update_document replaces; a story no longer public is deleted and purged.
        (public_docs.append(public) if public else public_deletes.append(str(sid)))
        (staff_docs.append(staff) if staff else staff_deletes.append(str(sid)))
    store.write_public(public_docs, _only_indexed(store.PUBLIC, public_deletes, root), root)
    store.write_staff(staff_docs, _only_indexed(store.STAFF, staff_deletes, root), root)


def _only_indexed(kind: str, sids: list[str], root: Path | None) -> list[str]:
    """The ids among ``sids`` that the index holds (so no needless purge-merge)."""
    if not sids:
        return []
    with store.open_reader(kind, root) as r:
        return [sid for sid in sids if ("sid", sid) in r]


def _story_query() -> Any:
    return select(Story).options(
        selectinload(Story.consents),
        selectinload(Story.themes),
        selectinload(Story.places),
        selectinload(Story.media).selectinload(MediaFile.transcript).selectinload(Transcript.cues),
    )


def all_story_ids(session: Session) -> list[int]:
    """Every story id, for a rebuild."""
    return list(session.scalars(select(Story.id).order_by(Story.id)))


def stories_in_batches(session: Session, ids: list[int], batch: int = 200) -> Iterable[list[Story]]:
    """The stories of ``ids``, loaded with what the documents need, ``batch`` at a time."""
    for i in range(0, len(ids), batch):
        yield list(session.scalars(_story_query().where(Story.id.in_(ids[i : i + batch]))))
        session.expunge_all()


def rebuilding() -> bool:
    """Whether a living process is rebuilding the indexes (see ``rebuild_lock``)."""
    return rebuild_lock.rebuilding()


# --- embargoes that lift ------------------------------------------------------------------

_embargo_checked: dict[str, date] = {}


def index_due_embargoes(force: bool = False) -> int:
    """Index public stories whose embargo has lifted but which the public index lacks.

    Runs at most once per UTC day per worker unless ``force``d (embargoes are dates). Reads
    the database and writes only the index, so it is safe on GET requests. Returns how many.
    """
    key = str(store.index_root())
    day = today()
    if not force and _embargo_checked.get(key) == day:
        return 0
    due = set(
        db.session.scalars(
            consent.public_stories(day)
            .where(ConsentRecord.embargo_until.is_not(None))
            .with_only_columns(Story.id)
        )
    )
    missing = {int(sid) for sid in store.missing_sids(store.PUBLIC, [str(i) for i in due])}
    if missing:
        with own_session(write=False) as session:
            index_stories(missing, session)
    _embargo_checked[key] = day
    if missing:
        current_app.logger.info("indexed %d stories whose embargo lifted", len(missing))
    return len(missing)
