"""The consent rule (nuevonorte/consent.py) over every combination, in Python and in SQL.

Rows are built directly, not through the state machine, so the rule is also tested on
combinations the state machine would never produce (defence in depth).
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from flask import Flask
from freezegun import freeze_time
from sqlalchemy import select

from nuevonorte import consent
from nuevonorte.extensions import db
from nuevonorte.models import (
    Collection,
    CollectionEntry,
    CollectionStatus,
    ConsentRecord,
    Credit,
    EntryKind,
    GivenBy,
    MediaFile,
    MediaKind,
    Story,
    StoryStatus,
    Visibility,
)

TODAY = date(2026, 11, 24)
EMBARGOES = {
    "none": None,
    "past": TODAY - timedelta(days=1),
    "today": TODAY,
    "future": TODAY + timedelta(days=1),
}


def _record(seq: int, visibility: Visibility, **choices: object) -> ConsentRecord:
    values: dict[str, object] = {
        "credit": Credit.PSEUDONYM,
        "credit_name": "Ana",
        "voice_public": True,
        "photos_public": True,
        "in_collections": True,
        "embargo_until": None,
    }
    values.update(choices)
    return ConsentRecord(
        seq=seq,
        visibility=visibility,
        text_version="test",
        text_language="es",
        given_by=GivenBy.CONTRIBUTOR,
        **values,
    )


def _story(status: StoryStatus, *records: ConsentRecord, media: list[MediaFile] | None = None) -> Story:
    story = Story(status=status, body="x", consents=list(records), media=media or [])
    db.session.add(story)
    return story


def _media(kind: MediaKind, n: int) -> MediaFile:
    ext = "jpg" if kind == MediaKind.IMAGE else "mp3"
    return MediaFile(
        kind=kind,
        mime_type="x/y",
        storage_key=f"{n:064x}.{ext}",
        checksum=f"{n:064x}",
        size_bytes=1,
    )


def _expected_story(status: StoryStatus, visibility: Visibility, embargo: str) -> bool:
    return (
        status == StoryStatus.PUBLISHED
        and visibility == Visibility.PUBLIC
        and embargo in ("none", "past", "today")
    )


@freeze_time(TODAY)
def test_story_visibility_every_status_visibility_and_embargo(app: Flask) -> None:
    combos = list(itertools.product(StoryStatus, Visibility, EMBARGOES))
    made = {
        combo: _story(combo[0], _record(1, combo[1], embargo_until=EMBARGOES[combo[2]])) for combo in combos
    }
    db.session.commit()
    listed = {s.id for s in db.session.scalars(consent.public_stories())}
    wrong = []
    for combo, story in made.items():
        expected = _expected_story(*combo)
        if consent.story_is_public(story) != expected or (story.id in listed) != expected:
            wrong.append(combo)
    assert wrong == []
    assert len(listed) == 3  # published × public × (none, past, today)


def _expected_standing(status: StoryStatus, visibility: Visibility, embargo: str) -> consent.Standing:
    if status != StoryStatus.PUBLISHED:
        return consent.Standing.NOT_PUBLISHED
    if visibility == Visibility.CURATORS:
        return consent.Standing.CURATORS_ONLY
    if visibility == Visibility.CONTRIBUTOR:
        return consent.Standing.CONTRIBUTOR_ONLY
    return consent.Standing.EMBARGOED if embargo == "future" else consent.Standing.PUBLIC


@freeze_time(TODAY)
def test_standing_names_the_reason_behind_every_combination(app: Flask) -> None:
    """What curators are told a published story shows (``consent.standing``) is the rule itself:
    PUBLIC exactly when ``story_is_public``, otherwise the first reason it is not."""
    combos = list(itertools.product(StoryStatus, Visibility, EMBARGOES))
    made = {
        combo: _story(combo[0], _record(1, combo[1], embargo_until=EMBARGOES[combo[2]])) for combo in combos
    }
    db.session.commit()
    wrong = []
    for combo, story in made.items():
        found = consent.standing(story)
        public = consent.story_is_public(story)
        if found != _expected_standing(*combo) or (found is consent.Standing.PUBLIC) != public:
            wrong.append((combo, found))
    assert wrong == []
    assert consent.standing(_story(StoryStatus.PUBLISHED)) is consent.Standing.NO_CONSENT


@freeze_time(TODAY)
def test_a_story_without_any_consent_record_is_never_public(app: Flask) -> None:
    story = _story(StoryStatus.PUBLISHED)
    db.session.commit()
    assert not consent.story_is_public(story)
    assert db.session.scalars(consent.public_stories()).all() == []


@freeze_time(TODAY)
@pytest.mark.parametrize(
    ("older", "newer", "public"),
    [
        (Visibility.PUBLIC, Visibility.CURATORS, False),
        (Visibility.PUBLIC, Visibility.CONTRIBUTOR, False),
        (Visibility.CURATORS, Visibility.PUBLIC, True),
    ],
)
def test_the_newest_consent_record_rules(
    app: Flask, older: Visibility, newer: Visibility, public: bool
) -> None:
    # Inserted newest-first, so that ids do not accidentally order them.
    story = _story(StoryStatus.PUBLISHED, _record(2, newer), _record(1, older))
    db.session.commit()
    db.session.expire_all()
    assert consent.story_is_public(story) is public
    assert (story in db.session.scalars(consent.public_stories()).all()) is public


@freeze_time(TODAY)
@pytest.mark.parametrize(
    ("status", "visibility", "photos", "voice"),
    list(itertools.product(StoryStatus, Visibility, (True, False), (True, False))),
)
def test_media_follow_their_own_consent_choice(
    app: Flask, status: StoryStatus, visibility: Visibility, photos: bool, voice: bool
) -> None:
    image, audio = _media(MediaKind.IMAGE, 1), _media(MediaKind.AUDIO, 2)
    _story(
        status,
        _record(1, visibility, photos_public=photos, voice_public=voice),
        media=[image, audio],
    )
    db.session.commit()
    story_public = _expected_story(status, visibility, "none")
    assert consent.media_is_public(image) is (story_public and photos)
    assert consent.media_is_public(audio) is (story_public and voice)
    # The transcript of a recording is public with the story, even when the voice is not.
    assert consent.transcript_is_public(audio) is story_public
    assert not consent.transcript_is_public(image)
    listed = set(db.session.scalars(consent.public_media()))
    assert (image in listed) is (story_public and photos)
    assert (audio in listed) is (story_public and voice)


def test_every_media_kind_has_a_consent_choice() -> None:
    """A new kind of media must name the choice that governs it; until then it is never public."""
    assert set(consent.MEDIA_CHOICE) == set(MediaKind)
    assert all(hasattr(consent.ConsentChoices(), choice) for choice in consent.MEDIA_CHOICE.values())


@freeze_time(TODAY)
def test_a_kind_without_a_consent_choice_is_never_public(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail closed: the Python rule and its SQL twin both refuse a kind the table lacks."""
    audio = _media(MediaKind.AUDIO, 4)
    record = _record(1, Visibility.PUBLIC, photos_public=True, voice_public=True)
    _story(StoryStatus.PUBLISHED, record, media=[audio])
    db.session.commit()
    assert consent.media_is_public(audio)
    monkeypatch.delitem(consent.MEDIA_CHOICE, MediaKind.AUDIO)
    assert not consent.media_is_public(audio)
    assert audio not in set(db.session.scalars(consent.public_media()))


@freeze_time(TODAY)
def test_embargoed_media_stay_hidden_until_the_date(app: Flask) -> None:
    image = _media(MediaKind.IMAGE, 3)
    _story(
        StoryStatus.PUBLISHED,
        _record(1, Visibility.PUBLIC, embargo_until=TODAY + timedelta(days=30)),
        media=[image],
    )
    db.session.commit()
    assert not consent.media_is_public(image)
    assert consent.media_is_public(image, on=TODAY + timedelta(days=30))
    assert db.session.scalars(consent.public_media(on=TODAY + timedelta(days=30))).all() == [image]


@freeze_time(TODAY)
@pytest.mark.parametrize(
    ("status", "visibility", "in_collections"),
    list(itertools.product(StoryStatus, Visibility, (True, False))),
)
def test_collection_entries_need_a_public_story_that_allows_collections(
    app: Flask, status: StoryStatus, visibility: Visibility, in_collections: bool
) -> None:
    story = _story(status, _record(1, visibility, in_collections=in_collections))
    entry = CollectionEntry(position=0, kind=EntryKind.STORY, story=story)
    text = CollectionEntry(position=1, kind=EntryKind.TEXT, text_es="Hola")
    collection = Collection(title_es="C", entries=[entry, text])
    db.session.add(collection)
    db.session.commit()
    assert consent.entry_story_is_public(entry) is (
        _expected_story(status, visibility, "none") and in_collections
    )
    assert not consent.entry_story_is_public(text)


def test_only_published_collections_are_public(app: Flask) -> None:
    draft = Collection(title_es="Borrador", status=CollectionStatus.DRAFT)
    published = Collection(title_es="Publicada", status=CollectionStatus.PUBLISHED)
    db.session.add_all([draft, published])
    db.session.commit()
    assert not consent.collection_is_public(draft)
    assert consent.collection_is_public(published)
    assert db.session.scalars(consent.public_collections()).all() == [published]


def test_withheld_paragraphs_and_cues_are_marked_not_shown(app: Flask) -> None:
    story = Story(body="Uno.\n\nDos, privado.\n\nTres.", restricted_paragraphs="1")
    assert consent.public_paragraphs(story) == ["Uno.", None, "Tres."]


@pytest.mark.parametrize(
    ("credit", "name", "expected"),
    [
        (Credit.NAME, "Ana López", "Ana López"),
        (Credit.PSEUDONYM, "Luna", "Luna"),
        (Credit.ANONYMOUS, "Ana López", None),
        (Credit.PSEUDONYM, "", None),
    ],
)
def test_credit_line_follows_the_credit_choice(
    app: Flask, credit: Credit, name: str, expected: str | None
) -> None:
    story = _story(StoryStatus.PUBLISHED, _record(1, Visibility.PUBLIC, credit=credit, credit_name=name))
    assert consent.credit_line(story) == expected


def test_public_listing_query_has_one_row_per_story(app: Flask) -> None:
    """Joining the newest consent must not duplicate stories with many records."""
    _story(StoryStatus.PUBLISHED, *[_record(n, Visibility.PUBLIC) for n in range(1, 6)])
    db.session.commit()
    assert len(db.session.scalars(consent.public_stories()).all()) == 1
    assert db.session.scalar(select(Story.id).where(Story.status == StoryStatus.PUBLISHED)) is not None
