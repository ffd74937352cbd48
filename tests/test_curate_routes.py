"""Every route of the workspace, found from the URL map: A05 (who may reach it) and A16 (CSRF)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from nuevonorte import collections, curation, transcripts
from nuevonorte.extensions import db
from nuevonorte.jobs import records
from nuevonorte.models import AuditEvent, Collection, CuratorAccount, Story, StoryStatus
from tests.curate_fixtures import add_audio, csrf

OPEN = {"curate.sign_in", "curate.sign_out", "curate.language"}
ADMIN = ("/curate/admin/",)


def routes(app: Flask) -> Iterator[tuple[str, str, str]]:
    """(method, rule, endpoint) of every workspace route."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("curate."):
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                yield method, rule.rule, rule.endpoint


@pytest.fixture
def world(app: Flask, make_story: Callable[..., Story], curator: CuratorAccount) -> dict[str, str]:
    """Real objects for every URL parameter."""
    story = make_story(StoryStatus.SUBMITTED)
    audio = add_audio(story)
    collection = collections.create(curator, "C", "C")
    entry = collections.add_story(collection, story, curator)
    note = curation.add_note(story, curator, "Llamar al taller antes de publicar.")
    segment = transcripts.add_segment(audio, 0, transcripts.SegmentText(title_es="Llegada"), curator)
    job = records.request_draft(add_audio(story))
    db.session.commit()
    return {
        "job_id": str(job.id),
        "note_id": str(note.id),
        "segment_id": str(segment.id),
        "story_id": story.public_id,
        "media_id": audio.public_id,
        "collection_id": collection.public_id,
        "entry_id": str(entry.id),
        "account_id": str(curator.id),
        "kind": "theme",
        "variant": "original",
        "lang": "es",
    }


def url_for_rule(rule: str, world: dict[str, str]) -> str:
    url = rule
    for name, value in world.items():
        url = url.replace(f"<{name}>", value).replace(f"<int:{name}>", value)
    return url.replace("<action>", "disable" if "/admin/" in rule else "publish")


def snapshot() -> tuple[int, int, str, str]:
    db.session.rollback()
    story = db.session.scalars(select(Story)).first()
    coll = db.session.scalars(select(Collection)).first()
    assert story is not None and coll is not None
    events = db.session.scalar(select(func.count(AuditEvent.id)))
    accounts = db.session.scalar(select(func.count(CuratorAccount.id)).where(CuratorAccount.is_active))
    return events or 0, accounts or 0, story.status.value, coll.status.value


def test_routes_are_all_covered(app: Flask) -> None:
    """The enumeration below sees the workspace (guards against an empty loop)."""
    assert len(list(routes(app))) >= 25


def test_a05_anonymous_reaches_nothing(app: Flask, client: FlaskClient, world: dict[str, str]) -> None:
    """A05: every non-public route, GET and POST (with a valid token), sends a visitor to sign in."""
    before = snapshot()
    token = csrf(client)
    for method, rule, endpoint in routes(app):
        if endpoint in OPEN:
            continue
        response = client.open(url_for_rule(rule, world), method=method, data={"csrf_token": token})
        assert response.status_code == 302, (method, rule)
        assert response.headers["Location"].startswith("/curate/sign-in"), rule
    assert snapshot() == before


def test_a05_curator_gets_403_on_every_admin_route(
    app: Flask, curator_client: FlaskClient, world: dict[str, str]
) -> None:
    before = snapshot()
    token = csrf(curator_client, "/curate/")
    admin_routes = [(m, r) for m, r, _e in routes(app) if r.startswith(ADMIN)]
    assert len(admin_routes) >= 6
    for method, rule in admin_routes:
        response = curator_client.open(url_for_rule(rule, world), method=method, data={"csrf_token": token})
        assert response.status_code == 403, (method, rule)
    assert snapshot() == before


def test_a16_every_post_without_token_is_refused(
    app: Flask, admin_client: FlaskClient, world: dict[str, str]
) -> None:
    """A16: every POST of the workspace, without a token or with a forged one, is 400 and changes nothing."""
    before = snapshot()
    posts = [rule for method, rule, _e in routes(app) if method == "POST"]
    assert len(posts) >= 15
    for rule in posts:
        url = url_for_rule(rule, world)
        assert admin_client.post(url, data={"lang": "en", "revision": "1"}).status_code == 400, rule
        assert admin_client.post(url, data={"csrf_token": "forged"}).status_code == 400, rule
    assert snapshot() == before
    assert admin_client.get("/curate/").status_code == 200  # still signed in: sign-out needed a token
