"""The story state machine (nuevonorte/stories.py): publish, narrow, widen, withdraw."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from nuevonorte import consent, stories
from nuevonorte.consent import ConsentChoices
from nuevonorte.extensions import db
from nuevonorte.models import (
    AuditEvent,
    ConsentRecord,
    Credit,
    CuratorAccount,
    GivenBy,
    MediaFile,
    MediaKind,
    Story,
    StoryStatus,
    Visibility,
)
from nuevonorte.storage import get_storage
from nuevonorte.stories import Refusal, StoryRefused

PUBLIC = ConsentChoices(credit_name="Ana", voice_public=True, photos_public=True)


def _attach_file(story: Story, data: bytes, kind: MediaKind = MediaKind.IMAGE) -> MediaFile:
    key = get_storage().put_bytes(data, "jpg" if kind == MediaKind.IMAGE else "mp3")
    media = MediaFile(
        kind=kind, mime_type="image/jpeg", storage_key=key, checksum=key[:64], size_bytes=len(data)
    )
    story.media.append(media)
    db.session.flush()
    return media


def test_submit_creates_a_story_waiting_for_review_with_its_consent(app: Flask) -> None:
    story = stories.submit(None, body="Mi relato", title="Título", choices=PUBLIC, consent_language="es")
    db.session.commit()
    assert story.status == StoryStatus.SUBMITTED
    assert story.title_es == "Título" and story.title_en == ""
    record = story.current_consent
    assert record is not None
    assert (record.seq, record.given_by, record.text_version) == (
        1,
        GivenBy.CONTRIBUTOR,
        consent.CONSENT_TEXT_VERSION,
    )
    assert record.recorded_on == date.today() or isinstance(record.recorded_on, date)
    assert not consent.story_is_public(story)


def test_an_english_story_keeps_its_title_in_the_english_field(app: Flask) -> None:
    story = stories.submit(
        None, body="My story", title="Title", language="en", choices=PUBLIC, consent_language="en"
    )
    assert (story.title_es, story.title_en) == ("", "Title")


def test_safe_defaults_are_pseudonym_no_voice_no_photos(app: Flask) -> None:
    """C14: the default choices expose as little as possible."""
    defaults = ConsentChoices()
    assert defaults.credit == Credit.PSEUDONYM
    assert not defaults.voice_public and not defaults.photos_public


def test_publish_makes_a_publicly_consented_story_visible(make_story: Callable[..., Story]) -> None:
    story = make_story(status=StoryStatus.SUBMITTED)
    stories.publish(story, None)
    db.session.commit()
    assert story.status == StoryStatus.PUBLISHED
    assert consent.story_is_public(story)


@pytest.mark.parametrize("visibility", [Visibility.CURATORS, Visibility.CONTRIBUTOR])
def test_publish_refuses_without_public_consent(
    make_story: Callable[..., Story], visibility: Visibility
) -> None:
    """C01, A06: publication can never exceed the newest consent."""
    story = make_story(status=StoryStatus.SUBMITTED, choices=replace(PUBLIC, visibility=visibility))
    with pytest.raises(StoryRefused) as refused:
        stories.publish(story, None)
    assert refused.value.reason == Refusal.NO_PUBLIC_CONSENT
    db.session.rollback()
    assert db.session.get(Story, story.id).status == StoryStatus.SUBMITTED


def test_publishing_a_published_story_its_narrator_narrowed_is_refused(
    make_story: Callable[..., Story],
) -> None:
    """C01, F19: "published" again would tell a curator (one bulk-publishing the queue) that a
    story its narrator now keeps for curators is public; it is refused instead."""
    story = make_story(status=StoryStatus.SUBMITTED)
    stories.publish(story, None)
    stories.change_consent(story, replace(PUBLIC, visibility=Visibility.CURATORS), language="es")
    db.session.commit()
    with pytest.raises(StoryRefused) as refused:
        stories.publish(story, None)
    assert refused.value.reason == Refusal.NO_PUBLIC_CONSENT
    assert not consent.story_is_public(story)


def test_a_rejected_story_must_return_to_review_before_publication(make_story: Callable[..., Story]) -> None:
    story = make_story(status=StoryStatus.REJECTED)
    with pytest.raises(StoryRefused):
        stories.publish(story, None)
    stories.return_to_review(story, None)
    stories.publish(story, None)
    assert story.status == StoryStatus.PUBLISHED


def test_unpublish_hides_the_story_at_once(make_story: Callable[..., Story]) -> None:
    story = make_story()
    stories.unpublish(story, None)
    db.session.commit()
    assert story.status == StoryStatus.PRIVATE
    assert not consent.story_is_public(story)


@pytest.mark.parametrize(
    "narrower",
    [
        {"visibility": Visibility.CURATORS},
        {"credit": Credit.ANONYMOUS, "credit_name": ""},
        {"voice_public": False},
        {"photos_public": False},
        {"in_collections": False},
        {"embargo_until": date(2031, 1, 1)},
    ],
)
def test_a_curator_may_narrow_consent(
    make_story: Callable[..., Story], make_curator: Callable[..., CuratorAccount], narrower: dict
) -> None:
    story = make_story(choices=PUBLIC)
    record = stories.change_consent(story, replace(PUBLIC, **narrower), language="es", curator=make_curator())
    db.session.commit()
    assert record.given_by == GivenBy.CURATOR and record.seq == 2
    assert story.current_consent is record
    assert story.status == StoryStatus.PUBLISHED  # narrowing never needs a new review


@pytest.mark.parametrize(
    ("start", "wider"),
    [
        ({"visibility": Visibility.CURATORS}, {"visibility": Visibility.PUBLIC}),
        ({"credit": Credit.ANONYMOUS, "credit_name": ""}, {"credit": Credit.PSEUDONYM}),
        (
            {"credit": Credit.PSEUDONYM, "credit_name": "Luna"},
            {"credit": Credit.NAME, "credit_name": "Ana López"},
        ),
        ({}, {"credit_name": "Another name"}),
        ({"voice_public": False}, {"voice_public": True}),
        ({"photos_public": False}, {"photos_public": True}),
        ({"in_collections": False}, {"in_collections": True}),
        ({"embargo_until": date(2031, 1, 1)}, {"embargo_until": None}),
        ({"embargo_until": date(2031, 1, 1)}, {"embargo_until": date(2030, 1, 1)}),
    ],
)
def test_a_curator_can_never_widen_consent(
    make_story: Callable[..., Story],
    make_curator: Callable[..., CuratorAccount],
    start: dict,
    wider: dict,
) -> None:
    """C10: only the contributor widens; the curator's attempt changes nothing."""
    before = replace(PUBLIC, **start)
    story = make_story(status=StoryStatus.PRIVATE, choices=before)
    with pytest.raises(StoryRefused) as refused:
        stories.change_consent(story, replace(before, **wider), language="es", curator=make_curator())
    assert refused.value.reason == Refusal.CURATOR_CANNOT_WIDEN
    db.session.rollback()
    assert db.session.scalar(select(func.count(ConsentRecord.id))) == 1


def test_a_contributor_widening_consent_sends_a_published_story_back_to_review(
    make_story: Callable[..., Story],
) -> None:
    story = make_story(choices=replace(PUBLIC, photos_public=False))
    stories.change_consent(story, PUBLIC, language="es")
    db.session.commit()
    assert story.status == StoryStatus.SUBMITTED
    assert story.current_consent is not None and story.current_consent.given_by == GivenBy.CONTRIBUTOR


def test_a_contributor_narrowing_consent_takes_effect_at_once(make_story: Callable[..., Story]) -> None:
    story = make_story(choices=PUBLIC)
    stories.change_consent(story, replace(PUBLIC, visibility=Visibility.CONTRIBUTOR), language="en")
    db.session.commit()
    assert story.status == StoryStatus.PUBLISHED
    assert not consent.story_is_public(story)
    assert story.current_consent is not None and story.current_consent.text_language == "en"


def test_consent_history_is_append_only(make_story: Callable[..., Story]) -> None:
    story = make_story(choices=PUBLIC)
    first = story.consents[0]
    snapshot = ConsentChoices.of(first)
    stories.change_consent(story, replace(PUBLIC, voice_public=False), language="es")
    stories.change_consent(story, replace(PUBLIC, voice_public=False, photos_public=False), language="es")
    db.session.commit()
    assert [r.seq for r in story.consents] == [1, 2, 3]
    assert ConsentChoices.of(first) == snapshot


def test_withdraw_deletes_content_files_and_consent_leaving_a_tombstone(
    make_story: Callable[..., Story],
) -> None:
    """C05, C06: at once, everywhere; files deleted after the commit; only the audit remains."""
    story = make_story(choices=PUBLIC, body="Texto muy personal", title="Mi nombre real")
    media = _attach_file(story, b"photo bytes")
    db.session.commit()
    path = get_storage().path(media.storage_key)
    assert path.exists()

    stories.withdraw(story)
    assert path.exists(), "files must survive until the transaction commits"
    db.session.commit()

    assert not path.exists()
    tombstone = db.session.get(Story, story.id)
    assert tombstone is not None and tombstone.status == StoryStatus.WITHDRAWN
    assert (tombstone.body, tombstone.title_es, tombstone.summary_es) == ("", "", "")
    assert db.session.scalar(select(func.count(MediaFile.id))) == 0
    assert db.session.scalar(select(func.count(ConsentRecord.id))) == 0
    assert not consent.story_is_public(tombstone)
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "story.withdrawn" in actions


def test_a_withdrawal_that_rolls_back_keeps_the_files(make_story: Callable[..., Story]) -> None:
    story = make_story(choices=PUBLIC)
    media = _attach_file(story, b"kept on rollback")
    db.session.commit()
    path = get_storage().path(media.storage_key)
    stories.withdraw(story)
    db.session.rollback()
    assert path.exists()
    assert db.session.get(Story, story.id).status == StoryStatus.PUBLISHED


def test_withdraw_twice_is_harmless(make_story: Callable[..., Story]) -> None:
    """C07: idempotent."""
    story = make_story()
    stories.withdraw(story)
    db.session.commit()
    stories.withdraw(story)
    db.session.commit()
    assert story.status == StoryStatus.WITHDRAWN


@pytest.mark.parametrize("action", ["publish", "change_consent", "keep_private", "return_to_review"])
def test_a_withdrawn_story_cannot_be_published_or_changed_again(
    make_story: Callable[..., Story], action: str
) -> None:
    """C09: the state machine refuses; there is nothing left to publish."""
    story = make_story()
    stories.withdraw(story)
    db.session.commit()
    with pytest.raises(StoryRefused) as refused:
        if action == "change_consent":
            stories.change_consent(story, PUBLIC, language="es")
        else:
            getattr(stories, action)(story, None)
    assert refused.value.reason == Refusal.WITHDRAWN


def test_withdrawing_one_file_keeps_the_story_and_shared_files(make_story: Callable[..., Story]) -> None:
    """C11: partial withdrawal; a file with the same content in another story stays."""
    story = make_story(choices=PUBLIC)
    other = make_story(choices=PUBLIC)
    photo = _attach_file(story, b"same bytes")
    audio = _attach_file(story, b"voice", MediaKind.AUDIO)
    _attach_file(other, b"same bytes")
    db.session.commit()
    photo_path = get_storage().path(photo.storage_key)
    audio_path = get_storage().path(audio.storage_key)

    stories.withdraw_media(story, audio)
    db.session.commit()
    assert not audio_path.exists()
    assert story.status == StoryStatus.PUBLISHED and consent.story_is_public(story)

    stories.withdraw_media(story, photo)
    db.session.commit()
    assert photo_path.exists(), "still used by the other story"


def test_withdrawing_another_storys_file_is_refused(make_story: Callable[..., Story]) -> None:
    """A04: one story's owner cannot reach another story's media."""
    mine, theirs = make_story(), make_story()
    their_photo = _attach_file(theirs, b"theirs")
    db.session.commit()
    with pytest.raises(StoryRefused):
        stories.withdraw_media(mine, their_photo)


def test_publishing_a_stale_copy_while_the_contributor_withdraws_fails(
    app: Flask, make_story: Callable[..., Story]
) -> None:
    """C07: withdrawal wins over a curator saving a copy loaded before the withdrawal."""
    story_id = make_story(status=StoryStatus.PRIVATE).id
    db.session.remove()
    with db.Session(db.engine, expire_on_commit=False) as curator_session:
        curator_copy = curator_session.get(Story, story_id)
        curator_session.commit()  # the curator's page was rendered; the copy is now stale
        with db.Session(db.engine) as contributor_session:
            stories_copy = contributor_session.get(Story, story_id)
            stories_copy.status = StoryStatus.WITHDRAWN
            contributor_session.commit()
        curator_copy.status = StoryStatus.PUBLISHED
        with pytest.raises(StaleDataError):
            curator_session.commit()
    assert db.session.get(Story, story_id).status == StoryStatus.WITHDRAWN


def test_audit_events_name_objects_but_hold_no_content(make_story: Callable[..., Story]) -> None:
    story = make_story(body="Un secreto de familia", title="Nombre propio")
    stories.change_consent(story, replace(PUBLIC, photos_public=False), language="es")
    stories.withdraw(story)
    db.session.commit()
    for event in db.session.scalars(select(AuditEvent)):
        values = " ".join(str(v) for v in (event.action, event.object_type, event.object_id))
        assert "secreto" not in values and "Nombre" not in values and "Ana" not in values
        assert event.object_id == story.public_id
