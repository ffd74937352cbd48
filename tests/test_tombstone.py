"""A withdrawn story leaves a tombstone that says nothing about it (issue 10 holes 8 and 9;
docs/security.md C06, M16): every column of the story row is checked, so a column added later
fails here until someone decides what its tombstone keeps."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from flask import Flask
from freezegun import freeze_time
from sqlalchemy import inspect, select

from nuevonorte import collections, stories
from nuevonorte.extensions import db
from nuevonorte.models import (
    ActorKind,
    AuditEvent,
    CollectionEntry,
    CuratorAccount,
    EntryKind,
    Story,
    StoryStatus,
)

#: What a tombstone may hold, and nothing else: its row, its public id, the day, and the
#: revision (so a curator's stale form is refused).
KEPT = {"id", "public_id", "status", "withdrawn_on", "submitted_on", "revision"}
EMPTY = {
    "contributor_id": None,
    "original_language": "",
    "body": "",
    "body_corrected": "",
    "withheld_words": "",
    "title_es": "",
    "title_en": "",
    "summary_es": "",
    "summary_en": "",
    "content_warnings": "",
    "restricted_paragraphs": "",
    "period_start": None,
    "period_end": None,
    "published_on": None,
    "assigned_to_id": None,
    "note_to_narrator": "",
    "reviewed_consent_seq": None,
}


def test_the_tombstone_keeps_the_id_the_day_and_nothing_else(
    app: Flask, make_story: Callable[..., Story], make_curator: Callable[..., CuratorAccount]
) -> None:
    with freeze_time("2026-03-01 09:00:00"):
        story = make_story(
            content_warnings="violence",
            restricted_paragraphs="1",
            period_start=1990,
            period_end=2000,
            assigned_to=make_curator(),
            note_to_narrator="Gracias por tu historia.",
            body="Texto del relato.\n\nCalle Zqxtumba 12.",
            body_corrected="Texto del relato corregido.\n\nCalle Zqxtumba 12.",
            withheld_words='[{"in": "told", "p": 1, "text": "Zqxtumba"}]',
        )
    assert story.reviewed_consent_seq == 1  # published: a curator decided on its consent
    columns = {c.key for c in inspect(Story).mapper.column_attrs}
    assert columns == KEPT | set(EMPTY), "a new column: decide what a tombstone keeps of it"
    with freeze_time("2026-04-10 17:42:13"):
        stories.withdraw(story)
        db.session.commit()
    db.session.expire_all()
    for name, value in EMPTY.items():
        assert getattr(story, name) == value, name
    assert story.status == StoryStatus.WITHDRAWN
    assert str(story.withdrawn_on) == str(story.submitted_on) == "2026-04-10"


def test_a_curators_note_about_a_withdrawn_story_goes_with_it(
    app: Flask, make_story: Callable[..., Story], make_curator: Callable[..., object]
) -> None:
    story = make_story()
    collection = collections.create(make_curator())
    entry = CollectionEntry(
        position=0, kind=EntryKind.STORY, story=story, text_es="Lupe, de Oaxaca", text_en="x"
    )
    collection.entries.append(entry)
    db.session.commit()
    stories.withdraw(story)
    db.session.commit()
    db.session.expire_all()
    assert (entry.story_id, entry.position, entry.text_es, entry.text_en) == (story.id, 0, "", "")


def test_contributor_actions_are_recorded_to_the_day(app: Flask, make_story: Callable[..., Story]) -> None:
    with freeze_time("2026-05-02 13:14:15.161718"):
        story = make_story()
        stories.withdraw(story)
        db.session.commit()
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.actor_kind == ActorKind.CONTRIBUTOR)
    ).all()
    assert {e.action for e in events} >= {"story.submitted", "story.withdrawn"}
    for event in events:
        at = event.at if event.at.tzinfo else event.at.replace(tzinfo=UTC)
        assert at == datetime(2026, 5, 2, tzinfo=UTC), event.action
