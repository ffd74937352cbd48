"""No lost work (issue 16, docs/security.md A26): a story's form sent after the curator's session
expired is kept for that account, offered filled in after sign-in, and gone once saved,
discarded, old, or when the story is withdrawn or its narrator keeps it to themselves."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from freezegun import freeze_time
from freezegun.api import FrozenDateTimeFactory
from sqlalchemy import func, select

from nuevonorte import stories
from nuevonorte.consent import ConsentChoices
from nuevonorte.extensions import db
from nuevonorte.models import (
    CuratorAccount,
    CuratorDraft,
    ParagraphTranslation,
    Role,
    Story,
    Visibility,
    utcnow,
)
from tests.conftest import POSTGRES_URL
from tests.curate_fixtures import csrf, post, sign_in

MakeStory = Callable[..., Story]
BODY = "Llegué de noche.\n\nMi tía me esperaba."
IDLE = timedelta(minutes=31)


@pytest.fixture
def frozen() -> Iterator[FrozenDateTimeFactory]:
    with freeze_time(utcnow()) as clock:
        yield clock


def _drafts() -> list[CuratorDraft]:
    db.session.rollback()
    return list(db.session.scalars(select(CuratorDraft)))


def _translation_url(story: Story) -> str:
    return f"/curate/stories/{story.public_id}/translation"


def _expired_post(
    client: FlaskClient, frozen: FrozenDateTimeFactory, url: str, data: dict[str, str], page: str
) -> tuple[int, str]:
    """Load ``page`` signed in, stay idle past the limit, then post ``data`` to ``url``: the
    status and the page the answer leads to (in English)."""
    token = csrf(client, page)
    frozen.tick(IDLE)
    response = client.post(url, data={**data, "csrf_token": token}, headers={"Accept-Language": "en"})
    db.session.rollback()
    follow = client.get(
        response.headers.get("Location", "/curate/sign-in"), headers={"Accept-Language": "en"}
    )
    return response.status_code, response.headers.get("Location", "") + "\n" + follow.get_data(as_text=True)


def _keep_translation(client: FlaskClient, frozen: FrozenDateTimeFactory, story: Story, word: str) -> str:
    """Send ``word`` as the translation of ``story``'s first paragraph after the signed-in
    session idled past the limit (so it is kept as a draft): the translation page."""
    page = _translation_url(story)
    _expired_post(
        client, frozen, page, {"p-0": word, "provenance": "community", "revision": str(story.revision)}, page
    )
    return page


def _sign_in_again(client: FlaskClient, email: str) -> None:
    """Sign ``email`` in on this browser (signing out whoever is signed in on it)."""
    if client.get("/curate/sign-in").status_code == 302:
        post(client, "/curate/sign-out")
    assert sign_in(client, email).status_code == 302


def test_a_translation_typed_past_the_idle_limit_is_kept_and_offered_after_sign_in_A26(
    client: FlaskClient, curator: CuratorAccount, make_story: MakeStory, frozen: FrozenDateTimeFactory
) -> None:
    story = make_story(body=BODY)
    sign_in(client, curator.email)
    page = _translation_url(story)
    status, answer = _expired_post(
        client,
        frozen,
        page,
        {
            "p-0": "I arrived zqxkeptword.",
            "p-1": "",
            "provenance": "community",
            "revision": str(story.revision),
        },
        page,
    )
    assert status == 302
    location, html = answer.split("\n", 1)
    assert "/curate/sign-in" in location and "next=" in location
    assert "What you typed is kept" in html
    assert db.session.scalar(select(func.count()).select_from(ParagraphTranslation)) == 0  # nothing saved
    (draft,) = _drafts()
    assert draft.account_id == curator.id and draft.story_id == story.id and "csrf" not in draft.fields

    # Signing in again leads back to the form, filled with what was typed.
    sign_in_url = re.sub(r"^https?://[^/]+", "", location)
    response = client.post(
        sign_in_url,
        data={
            "email": curator.email,
            "password": "correct horse battery",
            "csrf_token": csrf(client, sign_in_url),
        },
    )
    assert response.headers["Location"].endswith(page)
    html = client.get(page, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "zqxkeptword" in html and "It is not saved yet" in html

    # Saving it saves the translation and forgets the draft.
    assert (
        post(
            client,
            page,
            {
                "p-0": "I arrived zqxkeptword.",
                "p-1": "",
                "provenance": "community",
                "revision": str(story.revision),
            },
            page=page,
        ).status_code
        == 302
    )
    assert _drafts() == []
    saved = db.session.scalars(select(ParagraphTranslation.text)).all()
    assert saved == ["I arrived zqxkeptword."]
    assert "It is not saved yet" not in client.get(page, headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )


def test_a_kept_description_meets_the_usual_conflict_check_when_the_story_changed_meanwhile_A26(
    app: Flask,
    client: FlaskClient,
    curator: CuratorAccount,
    make_curator: Callable[..., CuratorAccount],
    make_story: MakeStory,
    frozen: FrozenDateTimeFactory,
) -> None:
    story = make_story(body=BODY, title="Título guardado")
    page = f"/curate/stories/{story.public_id}/describe"
    sign_in(client, curator.email)
    form = {
        "title_es": "Título zqxmine",
        "title_en": "",
        "summary_es": "",
        "summary_en": "",
        "revision": str(story.revision),
    }
    _expired_post(client, frozen, page, form, page)
    assert len(_drafts()) == 1

    # Meanwhile another curator saves the description.
    other = app.test_client()
    sign_in(other, make_curator(Role.CURATOR).email)
    theirs = {**form, "title_es": "Título zqxtheirs"}
    assert post(other, page, theirs, page=page).status_code == 302

    _sign_in_again(client, curator.email)
    html = client.get(page, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "zqxmine" in html  # the draft is offered...
    response = post(client, page, form, page=page, headers={"Accept-Language": "en"})
    assert response.status_code == 409  # ...but saving it over a newer version is the usual conflict
    db.session.refresh(story)
    assert story.title_es == "Título zqxtheirs"
    assert len(_drafts()) == 1  # not saved: still kept


def test_a_draft_is_the_accounts_own_and_discarding_it_shows_the_saved_version_A26(
    client: FlaskClient,
    curator: CuratorAccount,
    make_curator: Callable[..., CuratorAccount],
    make_story: MakeStory,
    frozen: FrozenDateTimeFactory,
) -> None:
    story = make_story(body=BODY)
    sign_in(client, curator.email)
    page = _keep_translation(client, frozen, story, "zqxonlymine")

    # Someone else signs in on the same browser: nothing of it is theirs.
    second = make_curator(Role.CURATOR)
    _sign_in_again(client, second.email)
    assert "zqxonlymine" not in client.get(page).get_data(as_text=True)
    assert post(client, "/curate/drafts/discard", {"page": page}).status_code == 302
    assert len(_drafts()) == 1  # another account's discard reaches only its own drafts

    _sign_in_again(client, curator.email)
    assert "zqxonlymine" in client.get(page).get_data(as_text=True)
    response = post(client, "/curate/drafts/discard", {"page": page}, page=page)
    assert response.headers["Location"].endswith(page)
    assert _drafts() == []
    assert "zqxonlymine" not in client.get(page).get_data(as_text=True)


@pytest.mark.parametrize("how", ["never-signed-in", "disabled", "bad-token", "not-a-story-form"])
def test_a_post_keeps_nothing_unless_an_idle_session_of_an_active_account_sent_it_A26(
    client: FlaskClient,
    curator: CuratorAccount,
    make_story: MakeStory,
    frozen: FrozenDateTimeFactory,
    how: str,
) -> None:
    story = make_story(body=BODY)
    page = _translation_url(story)
    data = {"p-0": "zqxnotkept", "provenance": "community", "revision": str(story.revision)}
    if how == "never-signed-in":
        token = csrf(client, "/curate/sign-in")
        assert client.post(page, data={**data, "csrf_token": token}).status_code == 302
    else:
        sign_in(client, curator.email)
        token = csrf(client, page)
        frozen.tick(IDLE)
        if how == "disabled":
            curator.is_active = False
            db.session.commit()
        if how == "bad-token":
            token = token[:-4] + "AAAA"
        url = f"/curate/stories/{story.public_id}/notes" if how == "not-a-story-form" else page
        response = client.post(url, data={**data, "body": "zqxnotkept", "csrf_token": token})
        assert response.status_code in (302, 400)
    assert _drafts() == []


def test_a_translator_keeps_a_translation_but_not_a_description_A26(
    client: FlaskClient,
    make_curator: Callable[..., CuratorAccount],
    make_story: MakeStory,
    frozen: FrozenDateTimeFactory,
) -> None:
    translator = make_curator(Role.TRANSLATOR)
    story = make_story(body=BODY)
    sign_in(client, translator.email)
    page = _translation_url(story)
    _expired_post(
        client,
        frozen,
        f"/curate/stories/{story.public_id}/describe",
        {"title_es": "zqxno", "revision": "1"},
        page,
    )
    assert _drafts() == []
    _sign_in_again(client, translator.email)
    _keep_translation(client, frozen, story, "zqxyes")
    assert [d.page for d in _drafts()] == [page]


@pytest.mark.parametrize("change", ["withdrawn", "nobody-but-me"])
def test_a_draft_goes_when_the_story_is_withdrawn_or_its_narrator_keeps_it_to_themselves_A26(
    app: Flask,
    client: FlaskClient,
    curator: CuratorAccount,
    make_story: MakeStory,
    frozen: FrozenDateTimeFactory,
    change: str,
) -> None:
    story = make_story(body=BODY)
    sign_in(client, curator.email)
    _keep_translation(client, frozen, story, "zqxdraftword")
    assert len(_drafts()) == 1
    story = db.session.get(Story, story.id)
    if change == "withdrawn":
        stories.withdraw(story)
    else:
        choices = ConsentChoices.of(story.current_consent)
        stories.change_consent(story, replace(choices, visibility=Visibility.CONTRIBUTOR), language="es")
    db.session.commit()
    assert _drafts() == []
    if not POSTGRES_URL and change == "withdrawn":  # and its words are in no database file
        main = Path(str(db.engine.url.database))
        for path in (main, Path(f"{main}-wal"), Path(f"{main}-journal")):
            if path.exists():
                assert b"zqxdraftword" not in path.read_bytes(), path.name


def test_drafts_are_offered_for_a_week_and_swept_after_it_A26(
    client: FlaskClient,
    runner: FlaskCliRunner,
    curator: CuratorAccount,
    make_story: MakeStory,
    frozen: FrozenDateTimeFactory,
) -> None:
    story = make_story(body=BODY)
    sign_in(client, curator.email)
    page = _keep_translation(client, frozen, story, "zqxoldword")
    frozen.tick(timedelta(days=6))
    _sign_in_again(client, curator.email)
    assert "zqxoldword" in client.get(page).get_data(as_text=True)
    frozen.tick(timedelta(days=2))
    _sign_in_again(client, curator.email)
    assert "zqxoldword" not in client.get(page).get_data(as_text=True)
    assert runner.invoke(args=["sweep"]).exit_code == 0
    assert _drafts() == []


@pytest.mark.parametrize(
    "page", ["", "//evil.example/x", "https://evil.example/", "/curate/\x07", "/" + "x" * 400]
)
def test_discarding_with_a_bad_address_changes_nothing_and_leads_home_A19(
    client: FlaskClient,
    curator: CuratorAccount,
    make_story: MakeStory,
    frozen: FrozenDateTimeFactory,
    page: str,
) -> None:
    story = make_story(body=BODY)
    url = _translation_url(story)
    sign_in(client, curator.email)
    _expired_post(client, frozen, url, {"p-0": "zqxstays", "provenance": "community", "revision": "1"}, url)
    _sign_in_again(client, curator.email)
    response = post(client, "/curate/drafts/discard", {"page": page})
    assert response.status_code == 302 and response.headers["Location"].endswith("/curate/")
    assert len(_drafts()) == 1
