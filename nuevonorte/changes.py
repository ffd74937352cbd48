"""The change feed: every public addition, update and removal of stories and collections, in
the order it was committed, read from a cursor (``GET /api/v1/changes``, the Atom feeds).

A cursor is the number of the last change a client read (``nuevonorte.publication`` numbers
them in commit order). Each story and collection appears at its newest change only: one that
changed twice since the cursor appears once, at its newest state; one withdrawn while a client
pages through is announced at its new place further on, so nothing is skipped or repeated. What
a row says is re-checked against the consent rule as it is read: a row may only ever narrow
what is shown, and a story that was never public is never named.
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from nuevonorte import consent, database, publication
from nuevonorte.extensions import db
from nuevonorte.models import (
    ArchiveSetting,
    ChangeCounter,
    Collection,
    CollectionRecord,
    PublicRecord,
    Story,
)

_Item = TypeVar("_Item", Story, Collection)


class Kind(enum.StrEnum):
    STORY = "story"
    COLLECTION = "collection"


class Change(enum.StrEnum):
    """What a client does: ``added`` and ``updated`` alike, fetch and keep (insert or replace);
    ``removed``, delete its copy. ``added`` became public after the cursor; ``updated`` was
    public at the cursor, which a client may not hold yet (a story that changes while it pages
    moves past it)."""

    ADDED = "added"
    UPDATED = "updated"
    REMOVED = "removed"


@dataclass(frozen=True)
class Entry:
    seq: int
    kind: Kind
    public_id: str
    change: Change
    day: date
    story: Story | None = None  # loaded when public, for feeds that show it
    collection: Collection | None = None


def announce_due() -> None:
    """Number the stories whose embargo ended since their last change, before any read: an
    embargo that ends writes nothing, yet a client must learn that a story became public.

    Called by readers: the check is a read; only when something is due does it end the read
    and write in a transaction of its own, begun as a writer (``database.write_intent``), so
    that on SQLite it queues for the lock instead of failing beside another writer."""
    if not publication.anything_due(db.session()):
        return
    db.session.rollback()
    with database.write_intent():
        if publication.announce_due(db.session()):
            db.session.commit()
        else:
            db.session.rollback()


def read(cursor: int, limit: int) -> tuple[list[Entry], bool]:
    """Up to ``limit`` changes after ``cursor``, in order, and whether more follow."""
    rows = _rows(cursor, limit + 1, newest_first=False)
    return _entries(rows[:limit], cursor), len(rows) > limit


def latest(limit: int) -> list[Entry]:
    """The newest ``limit`` changes, newest first (what a feed shows)."""
    return _entries(_rows(0, limit, newest_first=True), 0)


def _rows(cursor: int, limit: int, newest_first: bool) -> list[PublicRecord | CollectionRecord]:
    """The numbered rows of both tables after ``cursor``, merged in order, at most ``limit``.

    Only up to the counter's value read first: on PostgreSQL each statement sees what was
    committed when it began, and a change committed between the two tables' reads could
    otherwise be passed over by a number read from the second (every number up to the
    counter's value belongs to a transaction that had committed when the value was read)."""
    ceiling = last_seq()
    found: list[PublicRecord | CollectionRecord] = []
    for model in (PublicRecord, CollectionRecord):
        order = model.change_seq.desc() if newest_first else model.change_seq
        numbered = model.change_seq.between(cursor + 1, ceiling)
        found.extend(db.session.scalars(select(model).where(numbered).order_by(order).limit(limit)))
    return sorted(found, key=_seq, reverse=newest_first)[:limit]


def _entries(rows: list[PublicRecord | CollectionRecord], cursor: int) -> list[Entry]:
    """Each row as a change, re-checked against the consent rule as it is read."""
    stories = _by_id(Story, [r.story_id for r in rows if isinstance(r, PublicRecord)])
    collections = _by_id(Collection, [r.collection_id for r in rows if isinstance(r, CollectionRecord)])
    entries = []
    for row in rows:
        if isinstance(row, PublicRecord):
            story = stories.get(row.story_id)
            shown = row.listed_public and story is not None and consent.story_is_public(story)
            entries.append(_entry(row, cursor, Kind.STORY, shown, story=story if shown else None))
        else:
            collection = collections.get(row.collection_id)
            shown = row.listed_public and collection is not None and consent.collection_is_public(collection)
            entries.append(
                _entry(row, cursor, Kind.COLLECTION, shown, collection=collection if shown else None)
            )
    return entries


def _entry(
    row: PublicRecord | CollectionRecord,
    cursor: int,
    kind: Kind,
    shown: bool,
    story: Story | None = None,
    collection: Collection | None = None,
) -> Entry:
    assert row.change_seq is not None  # only numbered rows are read
    if not shown:
        change = Change.REMOVED
    elif row.public_since_seq is not None and row.public_since_seq > cursor:
        change = Change.ADDED
    else:
        change = Change.UPDATED
    return Entry(row.change_seq, kind, row.public_id, change, row.datestamp, story, collection)


def _seq(row: PublicRecord | CollectionRecord) -> int:
    return row.change_seq or 0


def _by_id(model: type[_Item], ids: list[int]) -> dict[int, _Item]:
    if not ids:
        return {}
    query = select(model).where(model.id.in_(ids))
    if model is Story:  # the consent rule reads each story's newest consent: one query, not one each
        query = query.options(selectinload(Story.consents))
    return {item.id: item for item in db.session.scalars(query)}


#: ``archive_setting`` name of the change feed's epoch.
EPOCH = "feed_epoch"


def epoch() -> str:
    """The change feed's epoch: the same as long as its numbers only grow. A restored older copy
    of the database (a restore, or a ledger replay that found changes it lacked) starts a new
    one (``new_epoch``), so that a partner whose cursor is past numbers given again reads the
    feed from the start instead of skipping them. Made on first use."""
    found = db.session.get(ArchiveSetting, EPOCH)
    if found is not None and found.value:
        return found.value
    db.session.rollback()
    with database.write_intent():
        found = db.session.get(ArchiveSetting, EPOCH)
        if found is None:
            found = ArchiveSetting(name=EPOCH, value=secrets.token_hex(8))
            db.session.add(found)
        value = found.value
        db.session.commit()
    return value


def new_epoch() -> None:
    """Start a new epoch (in the caller's transaction): the feed's numbers may have gone back."""
    found = db.session.get(ArchiveSetting, EPOCH)
    if found is None:
        db.session.add(ArchiveSetting(name=EPOCH, value=secrets.token_hex(8)))
    else:
        found.value = secrets.token_hex(8)


def last_seq() -> int:
    """The number of the newest change: where a client that wants only what comes next starts."""
    return db.session.scalar(select(ChangeCounter.value).where(ChangeCounter.id == 1)) or 0
