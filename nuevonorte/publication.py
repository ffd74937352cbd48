"""A story's public life as other archives see it: when it became public, when it last changed,
and that it left — the record OAI-PMH (``nuevonorte.oai``) and the change feed read.

``install()`` hooks the session's commit: every story a transaction touched (the same stories
the search outbox gets, ``search.sync.PENDING``) has its ``PublicRecord`` brought up to date in
that transaction, so a crash can never leave a change the record lacks. A row exists only for a
story that is, was, or is due to become public (an embargo); a harvester learns nothing of any
other. An embargo that ends makes a story public without a write: the row already says from
which day (``visible_from``), and whoever reads it compares with the day (``is_public``).

Every public change also takes the next number of the change feed (``nuevonorte.changes``):
a story or a collection that becomes public, changes while public, or leaves view. Numbers are
taken under the one-row ``change_counter`` lock, held until commit, so they follow commit order
on PostgreSQL too: a client that has read number N can never later find a smaller one. A row
keeps only its newest number (a feed of latest states, as CouchDB's): a story changed twice
since a client last read appears once, at its newest state.

What a harvester is shown is re-checked against the consent rule when it asks: a row is only
ever a list of candidates and their dates.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import Select, event, or_, select, update
from sqlalchemy.orm import Session

from nuevonorte import consent, database, faults, term_counts
from nuevonorte.models import (
    ChangeCounter,
    Collection,
    CollectionEntry,
    CollectionRecord,
    PublicRecord,
    Story,
)
from nuevonorte.models.base import today
from nuevonorte.search.sync import PENDING

#: ``session.info`` key: the ids of the collections a transaction touched.
COLLECTIONS = "publication_collection_ids"
#: Set when a transaction took change numbers: subscribed partners are then sent a notice.
NUMBERED = "publication_numbered"


def install() -> None:
    """Listen to Flask-SQLAlchemy sessions (idempotent)."""
    from flask_sqlalchemy.session import Session as FlaskSession

    for name, fn in (
        ("after_flush", _after_flush),
        ("before_commit", _before_commit),
        ("after_commit", _forget),
        ("after_rollback", _forget),
    ):
        if not event.contains(FlaskSession, name, fn):
            event.listen(FlaskSession, name, fn)


def is_public(record: PublicRecord, on: date | None = None) -> bool:
    """Whether the row says the story is public on day ``on`` (today by default)."""
    return record.visible_from is not None and record.visible_from <= (on or today())


def note(session: Session, stories: list[Story], day: date | None = None, gone: Iterable[int] = ()) -> None:
    """Bring the rows of ``stories`` up to date, in the session's transaction, and what they add
    to the counts of themes and places (``term_counts``; ``gone``: ids of stories deleted since)."""
    day = day or today()
    ids = [s.id for s in stories]
    touched = sorted({*ids, *gone})
    # The stories' rows locked (PostgreSQL), in id order: two transactions that touch one story
    # note it one after the other, and what is read from here on is what the first committed.
    session.execute(select(Story.id).where(Story.id.in_(touched)).order_by(Story.id).with_for_update())
    starts = {story.id: consent.public_from(story) for story in stories}
    has_row = select(PublicRecord.story_id).where(PublicRecord.story_id.in_(touched))
    if (
        all(start is None for start in starts.values())
        and not session.scalars(has_row).first()
        and not term_counts.involved(session, touched)
    ):
        return  # never public and not heading there: nobody outside may learn of it
    numbers = _Numbers(session)  # from here on, the feed's lock is held until commit
    term_counts.recount(session, touched, day)
    known = {
        row.story_id: row
        for row in session.scalars(select(PublicRecord).where(PublicRecord.story_id.in_(ids)))
    }
    for story in stories:
        row = known.get(story.id)
        start = starts[story.id]
        public_now = start is not None and start <= day
        was_public = bool(row and (row.was_public or is_public(row, day))) or public_now
        if row is None and start is None:
            continue
        values: dict[str, Any] = {
            "visible_from": start,
            "was_public": was_public,
            "datestamp": day,
        }
        # Announced, or public by its row (an embargo that ended, not yet numbered): a story
        # anyone could see must be announced when it leaves, whether or not the feed was read.
        listed = bool(row and (row.listed_public or is_public(row, day)))
        if public_now or listed:  # it is public, or the feed said so and must now say it left
            seq = numbers.take()
            values |= {
                "change_seq": seq,
                "listed_public": public_now,
                "public_since_seq": (
                    seq if public_now and not (row and row.listed_public) else (row and row.public_since_seq)
                ),
            }
        if row is None:
            _first_record(session, story, values)
        elif _changed(row, start, day):
            # Never forget the story was shown, whatever another transaction saw (PostgreSQL).
            ever = or_(PublicRecord.was_public, values["was_public"])
            change = update(PublicRecord).where(PublicRecord.id == row.id)
            session.execute(change.values(**{**values, "was_public": ever}))
    numbers.save()


def note_collections(session: Session, ids: set[int], day: date | None = None) -> None:
    """Bring the feed's rows of the collections ``ids`` up to date: a collection published,
    edited while published, or unpublished (or deleted) after it was."""
    day = day or today()
    found = {c.id: c for c in session.scalars(select(Collection).where(Collection.id.in_(sorted(ids))))}
    public = {i for i, c in found.items() if consent.collection_is_public(c)}
    listed_rows = select(CollectionRecord.collection_id).where(
        CollectionRecord.collection_id.in_(sorted(ids)), CollectionRecord.listed_public
    )
    if not public and not session.scalars(listed_rows).first():
        return  # drafts that were never published: nothing to announce
    numbers = _Numbers(session)
    known = {
        row.collection_id: row
        for row in session.scalars(select(CollectionRecord).where(CollectionRecord.collection_id.in_(ids)))
    }
    for collection_id in sorted(ids):
        row = known.get(collection_id)
        public_now = collection_id in public
        listed = bool(row and row.listed_public)
        if not (public_now or listed):
            continue
        seq = numbers.take()
        since = seq if public_now and not listed else (row.public_since_seq if row else None)
        values = {"listed_public": public_now, "datestamp": day, "change_seq": seq, "public_since_seq": since}
        if row is None:
            session.add(
                CollectionRecord(
                    collection_id=collection_id, public_id=found[collection_id].public_id, **values
                )
            )
        else:
            session.execute(update(CollectionRecord).where(CollectionRecord.id == row.id).values(**values))
    numbers.save()


def _due(day: date) -> Select[int]:
    """The rows of stories whose embargo has ended since the feed last numbered them."""
    return select(PublicRecord.id).where(
        PublicRecord.visible_from <= day, PublicRecord.listed_public.is_(False)
    )


def anything_due(session: Session, day: date | None = None) -> bool:
    """Whether ``announce_due`` has anything to number (a read)."""
    return session.scalars(_due(day or today()).limit(1)).first() is not None


def announce_due(session: Session, day: date | None = None) -> int:
    """Give the feed a number for every story whose embargo has ended since its last change (it
    became public without a write); return how many. Callers commit."""
    day = day or today()
    if not anything_due(session, day):
        return 0
    numbers = _Numbers(session)  # then read again: another reader may have numbered them
    rows = list(
        session.scalars(select(PublicRecord).where(PublicRecord.id.in_(_due(day))).order_by(PublicRecord.id))
    )
    for row in rows:
        seq = numbers.take()
        values = {
            "change_seq": seq,
            "listed_public": True,
            "public_since_seq": seq,
            "was_public": True,
            "datestamp": max(row.datestamp, row.visible_from or day),
        }
        session.execute(update(PublicRecord).where(PublicRecord.id == row.id).values(**values))
    numbers.save()
    return len(rows)


def hold(session: Session) -> None:
    """Lock the change feed's counter row until the session's transaction ends (made if a
    database was made without migrations): every transaction that numbers changes or counts
    themes and places (``term_counts``) waits for the one before it to commit."""
    locked = (
        database.upsert(ChangeCounter, session.get_bind().dialect.name)
        .values(id=1, value=0)
        .on_conflict_do_update(index_elements=["id"], set_={"value": ChangeCounter.value})
    )
    session.execute(locked)


class _Numbers:
    """The change feed's next numbers. Made before any row is read or written: it holds the
    counter's row (``hold``), so numbers follow commit order."""

    def __init__(self, session: Session) -> None:
        self.session = session
        hold(session)
        self.last = session.scalar(select(ChangeCounter.value).where(ChangeCounter.id == 1)) or 0
        self.first = self.last

    def take(self) -> int:
        self.last += 1
        return self.last

    def save(self) -> None:
        if self.last != self.first:
            self.session.execute(update(ChangeCounter).where(ChangeCounter.id == 1).values(value=self.last))
            self.session.info[NUMBERED] = True


def _first_record(session: Session, story: Story, values: dict[str, Any]) -> None:
    """Insert the story's row. Two transactions may touch one story at once without either
    locking its row (a consent record added beside a curator's edit, on PostgreSQL): the second
    to commit then updates the row the first made instead of failing, and never forgets that
    the story was shown."""
    insert = database.upsert(PublicRecord, session.get_bind().dialect.name).values(
        story_id=story.id, public_id=story.public_id, **values
    )
    ever = or_(PublicRecord.was_public, insert.excluded.was_public)
    session.execute(
        insert.on_conflict_do_update(index_elements=["story_id"], set_={**values, "was_public": ever})
    )


def _changed(row: PublicRecord, start: date | None, day: date) -> bool:
    """Whether a touched story's record must take a new date: its public state moved, or it is
    public (its words, files or terms may have changed: a harvester must fetch it again)."""
    return row.visible_from != start or (start is not None and start <= day) or is_public(row, day)


def _after_flush(session: Session, _context: Any) -> None:
    touched: set[int] = session.info.setdefault(COLLECTIONS, set())
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Collection) and obj.id is not None:
            touched.add(obj.id)
        elif isinstance(obj, CollectionEntry) and obj.collection_id is not None:
            touched.add(obj.collection_id)


def _forget(session: Session) -> None:
    session.info.pop(COLLECTIONS, None)
    session.info.pop(NUMBERED, None)


def _before_commit(session: Session) -> None:
    session.flush()  # the last changes, so that every touched story is in PENDING
    ids = session.info.get(PENDING)
    collection_ids = session.info.get(COLLECTIONS)
    if not ids and not collection_ids:
        return
    with session.no_autoflush:
        if ids:
            stories = list(session.scalars(select(Story).where(Story.id.in_(sorted(ids)))))
            note(session, stories, gone=set(ids) - {story.id for story in stories})
            # A collection shows its stories' titles, summaries and pictures: when one of them
            # changes (narrowed, no longer in collections, withdrawn), the collection changed.
            showing = select(CollectionEntry.collection_id).where(CollectionEntry.story_id.in_(sorted(ids)))
            collection_ids = set(collection_ids or ()) | set(session.scalars(showing))
        if collection_ids:
            note_collections(session, set(collection_ids))
    if session.info.pop(NUMBERED, False):
        # Subscribed partner archives are told of what left public view (decision 0025).
        from nuevonorte.partners import notices

        notices.request_pushes(session)
    session.flush()
    faults.point("publication.noted")  # tests: killed here, the change and its record are both lost
