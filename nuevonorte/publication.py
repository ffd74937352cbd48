"""A story's public life as other archives see it: when it became public, when it last changed,
and that it left — the record OAI-PMH (``nuevonorte.oai``) and the change feed read.

``install()`` hooks the session's commit: every story a transaction touched (the same stories
the search outbox gets, ``search.sync.PENDING``) has its ``PublicRecord`` brought up to date in
that transaction, so a crash can never leave a change the record lacks. A row exists only for a
story that is, was, or is due to become public (an embargo); a harvester learns nothing of any
other. An embargo that ends makes a story public without a write: the row already says from
which day (``visible_from``), and whoever reads it compares with the day (``is_public``).

What a harvester is shown is re-checked against the consent rule when it asks: a row is only
ever a list of candidates and their dates.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import event, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from nuevonorte import consent, faults
from nuevonorte.models import PublicRecord, Story
from nuevonorte.models.base import today
from nuevonorte.search.sync import PENDING


def install() -> None:
    """Listen to Flask-SQLAlchemy sessions (idempotent)."""
    from flask_sqlalchemy.session import Session as FlaskSession

    if not event.contains(FlaskSession, "before_commit", _before_commit):
        event.listen(FlaskSession, "before_commit", _before_commit)


def is_public(record: PublicRecord, on: date | None = None) -> bool:
    """Whether the row says the story is public on day ``on`` (today by default)."""
    return record.visible_from is not None and record.visible_from <= (on or today())


def note(session: Session, stories: list[Story], day: date | None = None) -> None:
    """Bring the rows of ``stories`` up to date, in the session's transaction."""
    day = day or today()
    known = {
        row.story_id: row
        for row in session.scalars(
            select(PublicRecord).where(PublicRecord.story_id.in_([s.id for s in stories]))
        )
    }
    for story in stories:
        row = known.get(story.id)
        start = consent.public_from(story)
        was_public = bool(row and (row.was_public or is_public(row, day))) or (
            start is not None and start <= day
        )
        if row is None and start is None:
            continue  # never public and not heading there: nobody outside may learn of it
        values: dict[str, Any] = {
            "visible_from": start,
            "was_public": was_public,
            "datestamp": day,
        }
        if row is None:
            _first_record(session, story, values)
        elif _changed(row, start, day):
            # Never forget the story was shown, whatever another transaction saw (PostgreSQL).
            ever = or_(PublicRecord.was_public, values["was_public"])
            change = update(PublicRecord).where(PublicRecord.id == row.id)
            session.execute(change.values(**{**values, "was_public": ever}))


def _first_record(session: Session, story: Story, values: dict[str, Any]) -> None:
    """Insert the story's row. Two transactions may touch one story at once without either
    locking its row (a consent record added beside a curator's edit, on PostgreSQL): the second
    to commit then updates the row the first made instead of failing, and never forgets that
    the story was shown."""
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(PublicRecord)
    insert = insert.values(story_id=story.id, public_id=story.public_id, **values)
    ever = or_(PublicRecord.was_public, insert.excluded.was_public)
    session.execute(
        insert.on_conflict_do_update(index_elements=["story_id"], set_={**values, "was_public": ever})
    )


def _changed(row: PublicRecord, start: date | None, day: date) -> bool:
    """Whether a touched story's record must take a new date: its public state moved, or it is
    public (its words, files or terms may have changed: a harvester must fetch it again)."""
    return row.visible_from != start or (start is not None and start <= day) or is_public(row, day)


def _before_commit(session: Session) -> None:
    session.flush()  # the last changes, so that every touched story is in PENDING
    ids = session.info.get(PENDING)
    if not ids:
        return
    stories = list(session.scalars(select(Story).where(Story.id.in_(sorted(ids)))))
    with session.no_autoflush:
        note(session, stories)
    session.flush()
    faults.point("publication.noted")  # tests: killed here, the change and its record are both lost
