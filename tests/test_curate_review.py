"""Review queue and actions: access control (A05, A16), the consent boundary (A06, C09, C10), media (A07)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select, text

from nuevonorte import database, stories
from nuevonorte.consent import ConsentChoices
from nuevonorte.extensions import db
from nuevonorte.models import AuditEvent, Credit, CuratorAccount, Story, StoryStatus, Visibility
from tests.curate_fixtures import add_audio, add_image, csrf, post

MakeStory = Callable[..., Story]


def state(story: Story) -> tuple[str, int, int]:
    """Status, revision and number of consent records, read fresh from the database."""
    db.session.rollback()
    db.session.expire_all()
    fresh = db.session.get(Story, story.id)
    assert fresh is not None
    return fresh.status.value, fresh.revision, len(fresh.consents)


def curator_urls(story: Story) -> list[tuple[str, str]]:
    sid = story.public_id
    return [
        ("GET", "/curate/"),
        ("GET", f"/curate/stories/{sid}"),
        ("GET", f"/curate/stories/{sid}/describe"),
        ("GET", "/curate/collections"),
        ("POST", f"/curate/stories/{sid}/publish"),
        ("POST", f"/curate/stories/{sid}/reject"),
        ("POST", f"/curate/stories/{sid}/keep-private"),
        ("POST", f"/curate/stories/{sid}/return-to-review"),
        ("POST", f"/curate/stories/{sid}/consent"),
        ("POST", f"/curate/stories/{sid}/describe"),
        ("POST", "/curate/collections"),
    ]


ADMIN_URLS = [
    ("GET", "/curate/admin/accounts"),
    ("POST", "/curate/admin/accounts"),
    ("POST", "/curate/admin/accounts/1/disable"),
    ("POST", "/curate/admin/accounts/1/role"),
    ("POST", "/curate/admin/accounts/1/password"),
    ("GET", "/curate/admin/vocabularies"),
    ("POST", "/curate/admin/vocabularies/theme"),
    ("GET", "/curate/admin/audit"),
]


def test_a05_anonymous_and_contributor_cannot_reach_curator_pages(
    client: FlaskClient, make_story: MakeStory
) -> None:
    """A05: visitors (and contributors, who have no staff session) are sent to sign in; nothing changes."""
    story = make_story(StoryStatus.SUBMITTED)
    before = state(story)
    token = csrf(client)
    for method, url in [*curator_urls(story), *ADMIN_URLS]:
        response = client.open(url, method=method, data={"csrf_token": token, "revision": str(before[1])})
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/curate/sign-in"), url
    assert state(story) == before
    assert (
        db.session.scalar(select(db.func.count(AuditEvent.id)).where(AuditEvent.actor_id.is_not(None))) == 0
    )


def test_a05_curator_cannot_reach_admin_actions(curator_client: FlaskClient, admin: CuratorAccount) -> None:
    """A05: a curator gets 403 on every admin page and action, GET and POST; the admin is unchanged."""
    token = csrf(curator_client, "/curate/")
    for method, url in ADMIN_URLS:
        data = {
            "csrf_token": token,
            "role": "curator",
            "password": "another long password",
            "email": "x@example.org",
            "slug": "x",
            "name_es": "x",
            "name_en": "x",
        }
        response = curator_client.open(url.replace("/1/", f"/{admin.id}/"), method=method, data=data)
        assert response.status_code == 403, url
    db.session.rollback()
    db.session.refresh(admin)
    assert admin.is_active and admin.role.value == "admin"


def test_a16_every_state_change_needs_csrf(curator_client: FlaskClient, make_story: MakeStory) -> None:
    """A16: POST without a token is refused (400) and changes nothing; GET on an action is 405."""
    story = make_story(StoryStatus.SUBMITTED)
    before = state(story)
    for method, url in curator_urls(story):
        if method == "POST":
            assert (
                curator_client.post(
                    url, data={"revision": str(before[1]), "visibility": "contributor"}
                ).status_code
                == 400
            ), url
            assert (
                curator_client.post(
                    url, data={"csrf_token": "forged", "revision": str(before[1])}
                ).status_code
                == 400
            ), url
    assert curator_client.get(f"/curate/stories/{story.public_id}/publish").status_code == 405
    assert state(story) == before


def test_queue_in_order_of_arrival_with_filters(curator_client: FlaskClient, make_story: MakeStory) -> None:
    first = make_story(StoryStatus.SUBMITTED, title="Primero llegó", language="es")
    second = make_story(StoryStatus.SUBMITTED, title="Second arrived", language="en")
    add_image(second)
    make_story(StoryStatus.PUBLISHED, title="Ya publicado")
    html = curator_client.get("/curate/").get_data(as_text=True)
    assert html.index("Primero llegó") < html.index("Second arrived") and "Ya publicado" not in html
    assert "Primero llegó" not in curator_client.get("/curate/?language=en").get_data(as_text=True)
    assert "Second arrived" not in curator_client.get("/curate/?kind=audio").get_data(as_text=True)
    assert "Second arrived" in curator_client.get("/curate/?kind=image").get_data(as_text=True)
    assert "Ya publicado" in curator_client.get("/curate/?status=published").get_data(as_text=True)
    assert first.public_id in curator_client.get("/curate/?status=any").get_data(as_text=True)


def test_a_long_queue_pages_through_every_submission_keeping_filters(
    app, curator_client: FlaskClient, make_story: MakeStory
) -> None:
    """A curator with more submissions than fit on a page can still reach every one of them."""
    from nuevonorte.curate.queue import QUEUE_PAGE

    made = [
        make_story(StoryStatus.SUBMITTED, title=f"Relato número {n:03d}", language="es")
        for n in range(QUEUE_PAGE + 3)
    ]
    make_story(StoryStatus.SUBMITTED, title="In English", language="en")
    first = curator_client.get("/curate/?language=es").get_data(as_text=True)
    assert made[0].public_id in first and made[-1].public_id not in first
    assert 'rel="next"' in first and "page=2" in first and "language=es" in first
    second = curator_client.get("/curate/?language=es&page=2").get_data(as_text=True)
    assert all(s.public_id in second for s in made[QUEUE_PAGE:])
    assert made[0].public_id not in second and "In English" not in second
    assert 'rel="prev"' in second and 'rel="next"' not in second
    # Out-of-range or malformed pages show the nearest real page, never an error.
    assert made[-1].public_id in curator_client.get("/curate/?language=es&page=999").get_data(as_text=True)
    assert curator_client.get("/curate/?page=abc").status_code == 200


def test_consent_in_plain_words_in_both_languages(curator_client: FlaskClient, make_story: MakeStory) -> None:
    choices = ConsentChoices(credit_name="Lupita", embargo_until=date(2027, 3, 3))
    story = make_story(StoryStatus.SUBMITTED, choices=choices)
    add_image(story)
    add_audio(story)
    url = f"/curate/stories/{story.public_id}"
    post(curator_client, "/curate/language", {"lang": "en"})
    en = curator_client.get(url).get_data(as_text=True)
    assert (
        "public; pseudonym; voice may not be heard; photos may not be shown; may appear in collections; not embedded; embargoed until March 3, 2027"  # noqa: E501
        in en
    )
    assert "Photos will not be shown: the narrator did not allow it." in en
    post(curator_client, "/curate/language", {"lang": "es"})
    es = curator_client.get(url).get_data(as_text=True)
    assert "público; seudónimo; no se puede escuchar la voz" in es and "3 de marzo de 2027" in es
    assert "Las fotos no se mostrarán" in es


def test_publish_and_other_actions_are_audited(
    curator_client: FlaskClient, make_story: MakeStory, curator: CuratorAccount
) -> None:
    story = make_story(StoryStatus.SUBMITTED)
    for action, expected in [
        ("keep-private", "private"),
        ("return-to-review", "submitted"),
        ("publish", "published"),
        ("unpublish", "private"),
        ("reject", "rejected"),
    ]:
        response = post(
            curator_client, f"/curate/stories/{story.public_id}/{action}", {"revision": state(story)[1]}
        )
        assert response.status_code == 302, action
        assert state(story)[0] == expected
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == curator.id)).all()
    assert {"story.published", "story.rejected", "story.kept_private"} <= set(actions)


@pytest.mark.parametrize("visibility", [Visibility.CURATORS, Visibility.CONTRIBUTOR])
def test_a06_publishing_without_public_consent_is_refused(
    curator_client: FlaskClient, make_story: MakeStory, visibility: Visibility
) -> None:
    """A06: 409 with the localized reason; nothing changes. A story its contributor keeps to
    themselves is closed before that: the page says only that it is kept private (403)."""
    story = make_story(StoryStatus.SUBMITTED, choices=ConsentChoices(visibility=visibility))
    before = state(story)
    response = post(
        curator_client,
        f"/curate/stories/{story.public_id}/publish",
        {"revision": before[1]},
        headers={"Accept-Language": "en"},
    )
    if visibility == Visibility.CONTRIBUTOR:
        assert response.status_code == 403
        assert "Kept private by its contributor for now" in response.get_data(as_text=True)
    else:
        assert response.status_code == 409
        assert "has not agreed to make this story public" in response.get_data(as_text=True)
    assert state(story) == before


def test_c09_withdrawn_story_cannot_be_republished_or_described(
    curator_client: FlaskClient, make_story: MakeStory
) -> None:
    """C09: every action on a withdrawn story is refused by the state machine."""
    story = make_story(StoryStatus.PUBLISHED)
    revision = state(story)[1]
    stories.withdraw(story)
    db.session.commit()
    before = state(story)
    for action in ("publish", "keep-private", "return-to-review", "reject"):
        response = post(
            curator_client, f"/curate/stories/{story.public_id}/{action}", {"revision": before[1]}
        )
        assert response.status_code == 409, action
    # An old publish request replayed with the revision from before the withdrawal.
    assert (
        post(curator_client, f"/curate/stories/{story.public_id}/publish", {"revision": revision}).status_code
        == 409
    )
    assert (
        post(
            curator_client,
            f"/curate/stories/{story.public_id}/describe",
            {"revision": before[1], "title_es": "x"},
        ).status_code
        == 409
    )
    assert (
        post(
            curator_client, f"/curate/stories/{story.public_id}/consent", {"visibility": "contributor"}
        ).status_code
        == 409
    )
    assert state(story) == before


WIDENINGS = {
    "visibility": {"visibility": "public"},
    "voice": {"visibility": "curators", "voice_public": "y"},
    "photos": {"visibility": "curators", "photos_public": "y"},
    "collections": {"visibility": "curators", "in_collections": "y"},
    "embargo_removed": {"visibility": "curators", "embargo_until": ""},
    "embargo_shortened": {"visibility": "curators", "embargo_until": "2026-12-01"},
}


@pytest.mark.parametrize("widening", list(WIDENINGS))
def test_c10_curator_cannot_widen_consent(
    curator_client: FlaskClient, make_story: MakeStory, widening: str
) -> None:
    """C10: every widening a curator could submit through the form is refused (409) and recorded nowhere."""
    choices = ConsentChoices(
        visibility=Visibility.CURATORS,
        credit=Credit.ANONYMOUS,
        in_collections=False,
        embargo_until=date(2027, 3, 3),
    )
    story = make_story(StoryStatus.SUBMITTED, choices=choices)
    before = state(story)
    data = {"embargo_until": "2027-03-03", **WIDENINGS[widening]}
    response = post(
        curator_client, f"/curate/stories/{story.public_id}/consent", data, headers={"Accept-Language": "en"}
    )
    assert response.status_code == 409
    assert "Only the narrator can widen it" in response.get_data(as_text=True)
    assert state(story) == before


def test_c10_curator_can_narrow_consent_and_it_is_audited(
    curator_client: FlaskClient, make_story: MakeStory, curator: CuratorAccount
) -> None:
    story = make_story(
        StoryStatus.PUBLISHED,
        choices=ConsentChoices(credit_name="Ana", voice_public=True, photos_public=True),
    )
    data = {"visibility": "public", "anonymous": "y", "in_collections": "y", "embargo_until": "2030-01-01"}
    assert post(curator_client, f"/curate/stories/{story.public_id}/consent", data).status_code == 302
    db.session.expire_all()
    fresh = db.session.get(Story, story.id)
    assert fresh is not None and fresh.current_consent is not None
    c = fresh.current_consent
    assert (c.credit, c.voice_public, c.photos_public, c.embargo_until) == (
        Credit.ANONYMOUS,
        False,
        False,
        date(2030, 1, 1),
    )
    assert c.given_by.value == "curator"
    assert db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "story.consent_changed", AuditEvent.actor_id == curator.id
        )
    )


def test_stale_page_is_told_the_story_changed(curator_client: FlaskClient, make_story: MakeStory) -> None:
    story = make_story(StoryStatus.SUBMITTED)
    old = state(story)[1]
    story.title_es = "Otro título"
    db.session.commit()
    response = post(curator_client, f"/curate/stories/{story.public_id}/publish", {"revision": old})
    assert response.status_code == 409
    assert state(story)[0] == "submitted"


def test_c07_withdrawal_during_publish_wins(
    app: Flask, curator_client: FlaskClient, make_story: MakeStory
) -> None:
    """C07: the narrator withdraws after the curator's page read the story, just before the
    publication asks the database (its row lock): the publication sees the withdrawal,
    refuses with the withdrawn message and changes nothing."""
    if db.engine.dialect.name == "sqlite":
        pytest.skip(
            "SQLite takes the write lock (BEGIN IMMEDIATE) before the read: this interleaving cannot happen"
        )
    story = make_story(StoryStatus.SUBMITTED)
    revision = state(story)[1]
    story_id = story.id
    fired = []

    def narrator_withdraws(conn, _cursor, statement, *_):  # type: ignore[no-untyped-def]
        # Another worker commits the withdrawal on its own connection, just before the lock.
        if fired or "FOR UPDATE" not in statement:
            return
        fired.append(1)
        with db.engine.connect() as other:
            other.execute(
                text("UPDATE story SET status='withdrawn', body='', revision=revision+1 WHERE id=:id"),
                {"id": story_id},
            )
            other.commit()

    event.listen(db.engine, "before_cursor_execute", narrator_withdraws)
    try:
        response = post(
            curator_client,
            f"/curate/stories/{story.public_id}/publish",
            {"revision": revision},
            headers={"Accept-Language": "en"},
        )
    finally:
        event.remove(db.engine, "before_cursor_execute", narrator_withdraws)
    assert fired
    assert response.status_code == 409
    assert "withdrawn by its narrator" in response.get_data(as_text=True)
    assert state(story)[0] == "withdrawn"


def test_c07_withdrawal_sent_while_a_publication_commits_wins_after_it(
    app: Flask, curator_client: FlaskClient, make_story: MakeStory
) -> None:
    """C07: the narrator withdraws while the curator's publication is writing: the withdrawal
    waits for the story's row (PostgreSQL) or the write lock (SQLite), then is made: the story
    ends withdrawn, whichever committed first."""
    import threading

    story = make_story(StoryStatus.SUBMITTED)
    revision = state(story)[1]
    story_id = story.id
    waiting: list[threading.Thread] = []

    def withdraw_elsewhere() -> None:
        with app.app_context(), database.write_intent():
            stories.withdraw(db.session.get(Story, story_id))
            db.session.commit()

    def narrator_withdraws(session, _context, _instances):  # type: ignore[no-untyped-def]
        if not waiting:
            waiting.append(threading.Thread(target=withdraw_elsewhere))
            waiting[0].start()
            waiting[0].join(timeout=0.5)  # it waits for this transaction

    event.listen(db.session, "before_flush", narrator_withdraws)
    try:
        response = post(curator_client, f"/curate/stories/{story.public_id}/publish", {"revision": revision})
    finally:
        event.remove(db.session, "before_flush", narrator_withdraws)
    waiting[0].join(timeout=30)
    assert not waiting[0].is_alive()
    assert response.status_code in (302, 303, 409)
    assert state(story)[0] == "withdrawn"


def test_a07_private_media_only_for_curators_with_safe_headers(
    client: FlaskClient, curator: CuratorAccount, make_story: MakeStory
) -> None:
    """A07/A02: curators see unpublished media with no-store, nosniff and a sandbox CSP; others are sent away."""  # noqa: E501
    from tests.curate_fixtures import sign_in

    story = make_story(StoryStatus.SUBMITTED)
    image = add_image(story)
    audio = add_audio(story)
    for variant in ("original", "display", "thumbnail"):
        assert client.get(f"/curate/media/{image.public_id}/{variant}").status_code == 302
    sign_in(client, curator.email)
    with client.get(f"/curate/media/{image.public_id}/display") as r:
        assert r.status_code == 200 and r.mimetype == "image/jpeg" and r.data[:2] == b"\xff\xd8"
        assert r.headers["Cache-Control"] == "no-store"
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in r.headers["Content-Security-Policy"]
    with client.get(f"/curate/media/{audio.public_id}/original") as a:
        assert a.status_code == 200 and a.mimetype == "audio/wav"
    assert client.get("/curate/media/nope/original").status_code == 404
    assert client.get(f"/curate/media/{image.public_id}/../../etc").status_code == 404


def test_audit_trail_for_admins_filterable_by_person_and_object(
    admin_client: FlaskClient,
    make_story: MakeStory,
    admin: CuratorAccount,
    make_curator: Callable[..., CuratorAccount],
) -> None:
    """Audit: who, what, which object, when — filterable; never content (the title is not in it)."""
    story = make_story(StoryStatus.SUBMITTED, title="Título secreto")
    other = make_story(StoryStatus.SUBMITTED, title="Otro")
    make_curator()
    post(admin_client, f"/curate/stories/{story.public_id}/keep-private", {"revision": state(story)[1]})
    by_object = admin_client.get(f"/curate/admin/audit?object={story.public_id}").get_data(as_text=True)
    assert "story.kept_private" in by_object and "story.submitted" in by_object
    assert other.public_id not in by_object and "Título secreto" not in by_object
    by_person = admin_client.get(f"/curate/admin/audit?person={admin.id}").get_data(as_text=True)
    assert "story.kept_private" in by_person and "story.submitted" not in by_person


def test_audit_trail_pages_back_to_the_first_event_keeping_filters(
    admin_client: FlaskClient, admin: CuratorAccount
) -> None:
    """Every event stays reachable, however long the trail: pages of AUDIT_PAGE, filters kept."""
    from nuevonorte import audit
    from nuevonorte.curate.admin import AUDIT_PAGE

    for n in range(AUDIT_PAGE + 5):
        audit.record("story.published", "story", f"s{n:04d}", actor=admin)
    audit.record("story.published", "story", "other-person", actor=None)
    db.session.commit()
    first = admin_client.get(f"/curate/admin/audit?person={admin.id}").get_data(as_text=True)
    assert f"s{AUDIT_PAGE + 4:04d}" in first and "s0000" not in first and "other-person" not in first
    assert "Página 1 de 2" in first or "Page 1 of 2" in first
    older = admin_client.get(f"/curate/admin/audit?person={admin.id}&page=2")
    html = older.get_data(as_text=True)
    assert older.status_code == 200 and "s0000" in html and f"s{AUDIT_PAGE + 4:04d}" not in html
    assert f"person={admin.id}" in html  # the link back keeps the filter
    # A page past the end shows the last one rather than an empty list or an error.
    assert "s0000" in admin_client.get(f"/curate/admin/audit?person={admin.id}&page=99").get_data(
        as_text=True
    )
