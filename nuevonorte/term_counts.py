"""How many public stories each theme and place names, kept in the database as stories change, so
that the lists of themes and places (the home page, ``/themes/``, ``/places/``, the sitemap) and a
term page's total read a few rows whatever the size of the archive (issue 20, decision 0030).

``recount`` runs in the transaction of every change to a story (``publication.note``), once the
story's row and the change feed's counter are locked: it takes away what the story added last
time (its ``CountedTerm`` rows) and adds what the database now says it shows, read through the
consent rule's SQL twin (``consent.public_stories``), never from objects a request loaded before
the locks (another transaction may have hidden the story since; PostgreSQL). A story whose
embargo ends later is counted from that day on, so its terms' counts move on that day with no
write.

``expected`` is the same reading over every story; ``nuevonorte check`` compares it with the kept
counts and ``rebuild`` makes them again from it. A term whose count is 0 is not listed: its name
alone can say too much.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date
from typing import Any, NamedTuple, cast

from sqlalchemy import and_, delete, func, insert, select
from sqlalchemy.orm import Session

from nuevonorte import consent, database
from nuevonorte.extensions import db
from nuevonorte.models import ConsentRecord, CountedTerm, Place, Story, TermCount, Theme
from nuevonorte.models.base import today
from nuevonorte.models.term_count import PLACE, THEME
from nuevonorte.models.vocabulary import story_place, story_theme
from nuevonorte.vocabulary import Vocabulary

#: Each kind of term, the table that links it to stories, and its column there.
_LINKS = ((THEME, story_theme, story_theme.c.theme_id), (PLACE, story_place, story_place.c.place_id))


class Counted(NamedTuple):
    """What a story's row says besides its key: the day it is counted from, and the day it was
    published (the order of a term's page)."""

    day: date
    published_on: date


#: (story id, kind, term id): the story's row.
Rows = dict[tuple[int, str, int], Counted]
#: The kept rows, read as plain values (nothing of them is kept in the session).
_COUNTED = select(
    CountedTerm.story_id, CountedTerm.kind, CountedTerm.term_id, CountedTerm.day, CountedTerm.published_on
)


def recount(session: Session, story_ids: Iterable[int], day: date) -> None:
    """Count the terms of the stories ``story_ids`` as the database says they are now, in place of
    what they added before (a story deleted since adds nothing). The caller holds the stories'
    rows and the change feed's counter (``publication.note``)."""
    ids = sorted(set(story_ids))
    if not ids:
        return
    # As stored: a count is taken back from the row it was added to.
    old: Rows = {
        (sid, kind, tid): Counted(start, published)
        for sid, kind, tid, start, published in session.execute(_COUNTED.where(CountedTerm.story_id.in_(ids)))
    }
    new = expected(session, day, ids)
    if old == new:
        return
    moves: Counter[tuple[str, int, date]] = Counter()
    for (_, kind, term_id), row in old.items():
        moves[(kind, term_id, row.day)] -= 1
    for (_, kind, term_id), row in new.items():
        moves[(kind, term_id, row.day)] += 1
    changed = sorted(_changed(old, new))
    session.execute(delete(CountedTerm).where(CountedTerm.story_id.in_(changed)))
    rows = _values({key: row for key, row in new.items() if key[0] in changed})
    if rows:
        session.execute(insert(CountedTerm), rows)
    _move(session, moves)


def _values(rows: Rows) -> list[dict[str, Any]]:
    return [
        {"story_id": sid, "kind": kind, "term_id": tid, "day": row.day, "published_on": row.published_on}
        for (sid, kind, tid), row in sorted(rows.items())
    ]


def _changed(old: Rows, new: Rows) -> set[int]:
    """The stories whose rows differ."""
    return {key[0] for key in old.keys() | new.keys() if old.get(key) != new.get(key)}


def _move(session: Session, moves: Counter[tuple[str, int, date]]) -> None:
    """Add ``moves`` to the counts (in key order, so two writers on PostgreSQL lock rows in the
    same order), then drop the rows that reached 0."""
    upsert = database.upsert(TermCount, session.get_bind().dialect.name)
    emptied = False
    for (kind, term_id, start), by in sorted(moves.items()):
        if by == 0:
            continue
        emptied |= by < 0
        values = {"kind": kind, "term_id": term_id, "day": start, "stories": by}
        session.execute(
            upsert.values(**values).on_conflict_do_update(
                index_elements=["kind", "term_id", "day"],
                set_={"stories": TermCount.stories + upsert.excluded.stories},
            )
        )
    if emptied:
        session.execute(delete(TermCount).where(TermCount.stories <= 0))


def _from(start: date, day: date) -> date:
    """The day a row counts from, as seen on ``day``: one already past is ``date.min``, so every
    story shown today is in a term's one row of the past."""
    return date.min if start <= day else start


def involved(session: Session, story_ids: list[int]) -> bool:
    """Whether any of these stories is counted, or is to be: a story that is neither writes
    nothing here."""
    counted = select(CountedTerm.story_id).where(CountedTerm.story_id.in_(story_ids)).limit(1)
    heading = consent.public_stories(date.max).where(Story.id.in_(story_ids)).with_only_columns(Story.id)
    return session.scalar(counted) is not None or session.scalar(heading.limit(1)) is not None


# --- reading ------------------------------------------------------------------------------


def in_public_use(model: Vocabulary, on: date | None = None) -> list[tuple[Theme | Place, int]]:
    """The terms that name at least one story shown on day ``on`` (today), with how many, by
    short id."""
    total = func.sum(TermCount.stories)
    rows = db.session.execute(
        select(model, total)
        .join(TermCount, and_(TermCount.kind == _kind(model), TermCount.term_id == model.id))
        .where(TermCount.day <= (on or today()))
        .group_by(model.id)
        .having(total > 0)
        .order_by(model.slug)
    ).all()
    return [(cast("Theme | Place", term), int(count)) for term, count in rows]


def stories_naming(term: Theme | Place, on: date | None = None) -> int:
    """How many stories shown on day ``on`` (today) name ``term``."""
    total = db.session.scalar(
        select(func.sum(TermCount.stories)).where(
            TermCount.kind == _kind(type(term)),
            TermCount.term_id == term.id,
            TermCount.day <= (on or today()),
        )
    )
    return int(total or 0)


def page_of_stories(term: Theme | Place, limit: int, offset: int, on: date | None = None) -> list[int]:
    """The ids of one page of the stories shown on day ``on`` (today) that name ``term``, newest
    first (published, then id, as every public list): read from the term's rows in that order,
    so a page costs its own length whatever the archive's size. Callers read the stories through
    the consent rule (``consent.public_stories``) before showing anything."""
    return list(
        db.session.scalars(
            select(CountedTerm.story_id)
            .where(
                CountedTerm.kind == _kind(type(term)),
                CountedTerm.term_id == term.id,
                CountedTerm.day <= (on or today()),
            )
            .order_by(CountedTerm.published_on.desc(), CountedTerm.story_id.desc())
            .limit(limit)
            .offset(offset)
        )
    )


def _kind(model: Vocabulary) -> str:
    return THEME if model is Theme else PLACE


# --- the same, from the stories themselves --------------------------------------------------


def expected(session: Session, day: date | None = None, story_ids: list[int] | None = None) -> Rows:
    """The rows the stories' current state gives (of ``story_ids``, or of every story), read
    through the consent rule's SQL twin: every story that some day shows, with its embargo's
    end and its day of publication."""
    day = day or today()
    rows: Rows = {}
    for kind, link, term in _LINKS:
        shown = (
            consent.public_stories(date.max)
            .join(link, link.c.story_id == Story.id)
            .with_only_columns(Story.id, term, ConsentRecord.embargo_until, Story.published_on)
        )
        if story_ids is not None:
            shown = shown.where(Story.id.in_(story_ids))
        for story_id, term_id, until, published_on in session.execute(shown):
            rows[(story_id, kind, term_id)] = Counted(_from(until or date.min, day), published_on or date.min)
    return rows


def findings(session: Session, day: date | None = None) -> list[str]:
    """Where the kept counts disagree with the stories, by ids and days (never a term's name: it
    can say too much), as ``nuevonorte check`` reports them. Read without a lock: a change
    committed while it reads can show as a disagreement (``checks.count_findings`` reads again
    under the lock)."""
    day = day or today()
    want = expected(session, day)
    held = {
        (sid, kind, tid): Counted(_from(start, day), published)
        for sid, kind, tid, start, published in session.execute(_COUNTED)
    }
    found = [
        f"story {sid}, {kind} {tid}: counted as {held.get(key)}, shown as {want.get(key)}"
        for key in sorted(want.keys() | held.keys())
        if want.get(key) != held.get(key)
        for sid, kind, tid in [key]
    ]
    shown = _totals(want)
    kept: Counter[tuple[str, int, date]] = Counter()
    for kind, tid, start, stories in session.execute(
        select(TermCount.kind, TermCount.term_id, TermCount.day, TermCount.stories)
    ):
        kept[(kind, tid, _from(start, day))] += stories
    found += [
        f"{kind} {tid} from {start}: {kept[key]} kept, {shown[key]} shown"
        for key in sorted(shown.keys() | kept.keys())
        if shown[key] != kept[key]
        for kind, tid, start in [key]
    ]
    return found


def _totals(rows: Rows) -> Counter[tuple[str, int, date]]:
    return Counter((kind, tid, row.day) for (_, kind, tid), row in rows.items())


def rebuild(session: Session, day: date | None = None) -> None:
    """Make the kept counts again from the stories (``nuevonorte check`` after a disagreement),
    holding the change feed's counter, as every recount does, until the caller commits."""
    from nuevonorte import publication  # it counts through this module

    publication.hold(session)
    day = day or today()
    want = expected(session, day)
    session.execute(delete(CountedTerm))
    session.execute(delete(TermCount))
    if want:
        session.execute(insert(CountedTerm), _values(want))
    counts = _totals(want)
    if counts:
        session.execute(
            insert(TermCount),
            [{"kind": k, "term_id": t, "day": d, "stories": n} for (k, t, d), n in sorted(counts.items())],
        )
