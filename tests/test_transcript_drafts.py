"""No lost work in the transcript editor (issue 16, docs/security.md A26): passages typed past the
idle limit are kept for that account, offered filled in after sign-in, and gone once saved; a
draft typed against an older transcript is shown apart, never saved over a colleague's change."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from freezegun import freeze_time
from freezegun.api import FrozenDateTimeFactory
from sqlalchemy import select

from nuevonorte import transcripts
from nuevonorte.extensions import db
from nuevonorte.models import CuratorAccount, CuratorDraft, MediaFile, Story, StoryStatus, utcnow
from tests.curate_fixtures import add_audio, page_tokens, post, sign_in

MakeStory = Callable[..., Story]
IDLE = timedelta(minutes=31)  # past the staff idle limit


@pytest.fixture
def frozen() -> Iterator[FrozenDateTimeFactory]:
    with freeze_time(utcnow()) as clock:
        yield clock


def _texts(media: MediaFile) -> list[str]:
    db.session.expire_all()
    fresh = db.session.get(MediaFile, media.id)
    assert fresh is not None and fresh.transcript is not None
    return [c.text for c in fresh.transcript.cues]


def _drafts() -> list[CuratorDraft]:
    db.session.rollback()
    return list(db.session.scalars(select(CuratorDraft)))


def _one_passage(media: MediaFile, text: str) -> None:
    transcripts.set_cues(media, [transcripts.ParsedCue(0, 2000, text)], "es", None)  # type: ignore[arg-type]
    db.session.commit()


def _typed(text: str) -> dict[str, str]:
    return {"rows": "1", "start_0": "0:00", "end_0": "0:02", "text_0": text}


def _expired_save(
    client: FlaskClient, frozen: FrozenDateTimeFactory, url: str, media: MediaFile, text: str
) -> None:
    """Open the editor signed in, stay idle past the limit, then save ``text`` as passage 1."""
    tokens = page_tokens(client, url)
    frozen.tick(IDLE)
    response = client.post(url, data=tokens | _typed(text))
    assert response.status_code == 302 and "/curate/sign-in" in response.headers["Location"]
    db.session.rollback()


def test_passages_typed_past_the_idle_limit_are_kept_and_saved_after_sign_in_A26(
    client: FlaskClient, curator: CuratorAccount, make_story: MakeStory, frozen: FrozenDateTimeFactory
) -> None:
    story = make_story(StoryStatus.SUBMITTED)
    media = add_audio(story)
    _one_passage(media, "Llegamos de noche.")
    url = f"/curate/stories/{story.public_id}/media/{media.public_id}/transcript"
    sign_in(client, curator.email)
    _expired_save(client, frozen, url, media, "Llegamos de noche, zqxkept.")
    assert _texts(media) == ["Llegamos de noche."]  # nothing applied by itself
    (draft,) = _drafts()
    assert draft.account_id == curator.id and "csrf" not in draft.fields

    sign_in(client, curator.email)
    html = client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "It is not saved yet" in html and "zqxkept" in html.split('<form id="cues"')[1]
    # Saving the page as it opened saves the draft and forgets it.
    assert post(client, url, _typed("Llegamos de noche, zqxkept."), page=url).status_code == 302
    assert _texts(media) == ["Llegamos de noche, zqxkept."] and _drafts() == []


def test_a_draft_typed_against_an_older_transcript_is_shown_apart_and_never_saved_over_it_A26(
    client: FlaskClient, curator: CuratorAccount, make_story: MakeStory, frozen: FrozenDateTimeFactory
) -> None:
    story = make_story(StoryStatus.SUBMITTED)
    media = add_audio(story)
    _one_passage(media, "Llegamos de noche.")
    url = f"/curate/stories/{story.public_id}/media/{media.public_id}/transcript"
    sign_in(client, curator.email)
    _expired_save(client, frozen, url, media, "Zqxmine de noche.")
    _one_passage(media, "Zqxtheirs de noche.")  # a colleague saves meanwhile

    sign_in(client, curator.email)
    html = client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Someone saved this transcript after you typed the changes" in html
    unsaved, form = html.split('id="unsaved"')[1].split('<form id="cues"')
    assert "Zqxmine" in unsaved and "Zqxmine" not in form and "Zqxtheirs" in form
    # The draft's own fingerprint is the older one: sending it is refused, nothing changes.
    (draft,) = _drafts()
    kept = dict(json.loads(draft.fields))
    assert post(client, url, kept, page=url).status_code == 409
    assert _texts(media) == ["Zqxtheirs de noche."]
