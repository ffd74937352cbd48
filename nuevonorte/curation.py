"""Curators' work on many stories: internal notes, assignment, a message to the narrator, what
a wider consent newly exposes, and actions on a selection of stories (one result per story).

Like ``nuevonorte.stories``, these functions flush and leave the commit to the caller, except
``apply_to_each``, which commits (or rolls back) each story on its own so that one story changed
meanwhile never holds back the others.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from nuevonorte import audit, stories
from nuevonorte.consent import ConsentChoices, widenings
from nuevonorte.extensions import db
from nuevonorte.models import CuratorAccount, Place, Story, StoryNote, StoryStatus, Theme

#: The longest internal note, and the longest message to a narrator.
MAX_NOTE = 4000
MAX_MESSAGE = 1000


class NoteRefused(Exception):
    """An empty or over-long note or message; nothing was saved."""


def add_note(story: Story, curator: CuratorAccount, body: str) -> StoryNote:
    """Leave a note for the other curators: staff only, never public, gone with a withdrawal."""
    text = body.strip()
    if not text or len(text) > MAX_NOTE:
        raise NoteRefused()
    stories.refuse_if_withdrawn(story)
    note = StoryNote(body=text, author=curator)
    story.notes.append(note)
    db.session.flush()
    audit.record("story.note_added", "story", story.public_id, actor=curator)
    return note


def delete_note(story: Story, note_id: int, curator: CuratorAccount) -> bool:
    """Delete a note of ``story``; False when it is not there (already deleted, another story's)."""
    note = next((n for n in story.notes if n.id == note_id), None)
    if note is None:
        return False
    story.notes.remove(note)
    db.session.flush()
    audit.record("story.note_deleted", "story", story.public_id, actor=curator)
    return True


def tell_narrator(story: Story, message: str, curator: CuratorAccount | None) -> None:
    """Set the words the narrator reads in "my stories" about this story (empty: none)."""
    text = message.strip()
    if len(text) > MAX_MESSAGE:
        raise NoteRefused()
    stories.refuse_if_withdrawn(story)
    if text != story.note_to_narrator:
        story.note_to_narrator = text
        db.session.flush()
        audit.record("story.narrator_message", "story", story.public_id, actor=curator)


def assign(story: Story, to: CuratorAccount | None, curator: CuratorAccount) -> None:
    """Give the story to a curator to look after (None: to nobody)."""
    stories.refuse_if_withdrawn(story)
    story.assigned_to = to
    db.session.flush()
    audit.record("story.assigned", "story", story.public_id, actor=curator)


def newly_exposed(story: Story) -> tuple[ConsentChoices, ConsentChoices, list[str]] | None:
    """What the narrator widened since a curator last decided on the story: the consent then,
    the consent now and the names of the wider choices (``consent.widenings``); None when
    nothing is wider or no curator has decided yet."""
    current = story.current_consent
    if current is None or story.reviewed_consent_seq is None or current.seq <= story.reviewed_consent_seq:
        return None
    then = next((c for c in story.consents if c.seq == story.reviewed_consent_seq), None)
    if then is None:
        return None
    before, now = ConsentChoices.of(then), ConsentChoices.of(current)
    wider = widenings(before, now)
    return (before, now, wider) if wider else None


# --- a selection of stories -----------------------------------------------------------------


class Outcome(enum.StrEnum):
    """What became of one story of a selection."""

    DONE = "done"
    CHANGED = "changed"  # someone changed it since the page was loaded: skipped (409)
    REFUSED = "refused"  # the rules refused it (a ``stories.Refusal``): skipped (409)
    MISSING = "missing"  # no such story, or kept by its narrator from curators (404)


@dataclass(frozen=True)
class Result:
    """The outcome for one story, with the reason when it was skipped."""

    public_id: str
    title: str
    outcome: Outcome
    reason: str = ""


@dataclass(frozen=True)
class Pick:
    """A story chosen on the queue page, with the revision the curator saw."""

    public_id: str
    revision: int

    @classmethod
    def parse(cls, raw: str) -> Pick | None:
        """``"<public id>:<revision>"`` as sent by the queue's checkboxes; None if malformed."""
        public_id, _sep, revision = raw.partition(":")
        if (
            not _PUBLIC_ID.fullmatch(public_id)
            or not revision.isascii()
            or not revision.isdigit()
            or len(revision) > 9
        ):
            return None
        return cls(public_id, int(revision))


Change = Callable[[Story], None]
_PUBLIC_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")


def apply_to_each(
    picks: Sequence[Pick], change: Change, may_read: Callable[[Story], bool], locale: str
) -> list[Result]:
    """Apply ``change`` to each picked story in its own transaction. A story whose revision is
    not the one the curator saw, or that the rules refuse, is skipped with its reason."""
    results = []
    for pick in picks:
        story = db.session.scalar(select(Story).where(Story.public_id == pick.public_id))
        if story is None or story.status == StoryStatus.WITHDRAWN or not may_read(story):
            results.append(Result(pick.public_id, "", Outcome.MISSING))
            continue
        title = story.title(locale)
        if story.revision != pick.revision:
            results.append(Result(pick.public_id, title, Outcome.CHANGED))
            continue
        try:
            change(story)
            db.session.commit()
        except stories.StoryRefused as refused:
            db.session.rollback()
            results.append(Result(pick.public_id, title, Outcome.REFUSED, refused.message))
            continue
        except StaleDataError:  # changed between our read and our write: theirs wins
            db.session.rollback()
            results.append(Result(pick.public_id, title, Outcome.CHANGED))
            continue
        results.append(Result(pick.public_id, title, Outcome.DONE))
    return results


def add_theme(theme: Theme) -> Change:
    """A change that adds ``theme`` to a story (no change when it has it already)."""

    def change(story: Story) -> None:
        stories.refuse_if_withdrawn(story)
        if theme not in story.themes:
            story.themes.append(theme)
            _changed(story)

    return change


def add_place(place: Place) -> Change:
    """A change that adds ``place`` to a story."""

    def change(story: Story) -> None:
        stories.refuse_if_withdrawn(story)
        if place not in story.places:
            story.places.append(place)
            _changed(story)

    return change


def _changed(story: Story) -> None:
    """Flush a change to the story's themes or places as a new revision: a list change alone
    writes no row of its own, and a curator's form loaded before must see it as stale."""
    flag_modified(story, "content_warnings")
    db.session.flush()
