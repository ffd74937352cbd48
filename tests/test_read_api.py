"""The read API (issue 17): stories, collections, themes, places and the change feed as JSON,
through the consent rule, in both languages; JSON errors with stable codes on every /api/ route;
read-only CORS; and an OpenAPI document that names exactly the routes and whose schemas every
answer here matches (checked by jsonschema, the document by openapi-spec-validator)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_spec
from sqlalchemy import event, select

from nuevonorte import collections, database, publication, stories
from nuevonorte.api import read
from nuevonorte.consent import ConsentChoices
from nuevonorte.extensions import db
from nuevonorte.models import (
    ChangeCounter,
    Collection,
    CuratorAccount,
    Place,
    PlaceLevel,
    PublicRecord,
    Story,
    StoryStatus,
    Theme,
    Visibility,
)
from nuevonorte.models.base import today
from tests.public.media_factory import add_audio, add_image

MakeStory = Callable[..., Story]


def answer(client: FlaskClient, url: str, schema: str, status: int = 200, **kwargs: Any) -> Any:
    """GET ``url``: its JSON, checked against the OpenAPI document's schema ``schema``."""
    response = client.get(url, **kwargs)
    db.session.rollback()
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == "application/json"
    body = response.get_json()
    document = client.get("/api/v1/openapi.json").get_json()
    validator = Draft202012Validator({**document, "$ref": f"#/components/schemas/{schema}"})
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]
    assert not errors, errors
    return body


@pytest.fixture
def full_story(make_story: MakeStory) -> Story:
    """A public story with both languages, a theme, a place, a withheld paragraph, an image and
    a transcribed recording whose voice is public."""
    story = make_story(
        choices=ConsentChoices(credit_name="Rosa", voice_public=True, photos_public=True),
        title="La noche que llegamos",
        title_en="The night we arrived",
        summary_es="Un regreso de noche.",
        summary_en="A return at night.",
        body="Primer párrafo.\n\nUn pasaje privado PRIVADO1.\n\nÚltimo párrafo.",
        restricted_paragraphs="1",
        period_start=2019,
    )
    theme = Theme(slug="llegada", name_es="Llegada", name_en="Arrival")
    place = Place(
        slug="tijuana", name_es="Tijuana", name_en="Tijuana", country_code="MX", level=PlaceLevel.CITY
    )
    story.themes.append(theme)
    story.places.append(place)
    add_image(story)
    add_audio(story)
    db.session.commit()
    return story


def test_the_openapi_document_is_valid_and_names_exactly_the_api_routes(
    app: Flask, client: FlaskClient
) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    validate_spec(document)
    routed: set[tuple[str, str]] = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
            routed |= {(path, m.lower()) for m in rule.methods or () if m not in ("HEAD", "OPTIONS")}
    documented = {(path, method) for path, item in document["paths"].items() for method in item}
    assert documented == routed
    assert document["servers"] == [{"url": "http://localhost/api/v1"}]


def test_a_public_story_in_both_languages_with_only_its_public_parts(
    client: FlaskClient, full_story: Story
) -> None:
    body = answer(client, f"/api/v1/stories/{full_story.public_id}", "Story")
    assert body["title"] == {"es": "La noche que llegamos", "en": "The night we arrived"}
    assert body["url"] == f"http://localhost/s/{full_story.public_id}"
    assert body["text"]["paragraphs"] == ["Primer párrafo.", None, "Último párrafo."]
    assert "PRIVADO1" not in str(body)
    assert body["credit"] == "Rosa" and body["period"] == {"start": 2019, "end": None}
    assert [t["name"]["es"] for t in body["themes"]] == [full_story.themes[0].name_es]
    image = body["images"][0]
    assert set(image["files"]) == {"original", "display", "thumbnail"}
    for url in image["files"].values():  # every file is the archive's own, and served now
        with client.get(url.removeprefix("http://localhost")) as served:
            assert served.status_code == 200
    recording = body["recordings"][0]
    assert recording["audio"] and recording["transcript_vtt"]
    assert [c["text"] for c in recording["transcript"]["cues"] if c] == [
        c.text
        for c in full_story.media[1].transcript.cues  # type: ignore[union-attr]
    ]


def test_a_private_voice_is_a_transcript_without_its_file_or_id(
    client: FlaskClient, make_story: MakeStory
) -> None:
    story = make_story(choices=ConsentChoices(credit_name="Ana", voice_public=False))
    audio = add_audio(story)
    db.session.commit()
    body = answer(client, f"/api/v1/stories/{story.public_id}", "Story")
    (recording,) = body["recordings"]
    assert recording["id"] is None and recording["audio"] is None and recording["transcript_vtt"] is None
    assert recording["transcript"]["cues"]
    assert audio.public_id not in str(body)


@pytest.mark.parametrize("status", ["submitted", "private", "withdrawn", "narrowed", "embargoed", "unknown"])
def test_a01_anything_not_public_is_the_same_404(
    client: FlaskClient, make_story: MakeStory, status: str
) -> None:
    public_id = "doesnotexist0000"
    if status in ("submitted", "private", "withdrawn"):
        public_id = make_story(status=StoryStatus(status), title="OCULTO").public_id
    elif status == "narrowed":
        public_id = make_story(
            choices=ConsentChoices(visibility=Visibility.CURATORS), title="OCULTO"
        ).public_id
    elif status == "embargoed":
        public_id = make_story(embargo_until=today() + timedelta(days=3), title="OCULTO").public_id
    body = answer(client, f"/api/v1/stories/{public_id}", "Error", 404)
    assert body["error"] == "not_found"
    listed = answer(client, "/api/v1/stories", "StoryPage")
    assert listed["stories"] == [] and "OCULTO" not in str(listed)
    assert client.get(f"/s/{public_id}").status_code == 404


def test_lists_page_filter_and_name_only_terms_of_public_stories(
    client: FlaskClient, make_story: MakeStory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(read, "PAGE_SIZE", 2)
    theme = Theme(slug="trabajo", name_es="Trabajo", name_en="Work")
    other = Theme(slug="familia", name_es="Familia", name_en="Family")
    made = [make_story(title=f"Relato {n}") for n in range(3)]
    hidden = make_story(choices=ConsentChoices(visibility=Visibility.CURATORS))
    for story in made[:2]:
        story.themes.append(theme)
    hidden.themes.append(other)
    db.session.commit()
    first = answer(client, "/api/v1/stories", "StoryPage")
    assert (first["total"], first["pages"], len(first["stories"])) == (3, 2, 2)
    second = answer(client, first["next_url"].removeprefix("http://localhost"), "StoryPage")
    assert second["next_url"] is None
    seen = {s["id"] for s in first["stories"] + second["stories"]}
    assert seen == {s.public_id for s in made}
    answer(client, "/api/v1/stories?page=3", "Error", 404)
    by_theme = answer(client, f"/api/v1/stories?theme={theme.slug_en}", "StoryPage")
    assert {s["id"] for s in by_theme["stories"]} == {s.public_id for s in made[:2]}
    unknown = answer(client, "/api/v1/stories?theme=nada-de-nada", "Error", 404)
    assert unknown["error"] == "unknown_term"
    themes = answer(client, "/api/v1/themes", "Terms")["themes"]
    assert [(t["id"], t["stories"]) for t in themes] == [(theme.slug, 2)]  # not the hidden story's
    assert answer(client, "/api/v1/places", "Terms") == {"places": []}


def test_a_collection_shows_only_the_stories_its_narrators_allow(
    client: FlaskClient, make_story: MakeStory, make_curator: Callable[..., CuratorAccount]
) -> None:
    curator = make_curator()
    shown = make_story(title="Se ve")
    kept_out = make_story(title="NO_EN_COLECCIONES")  # its narrator later says no to collections
    collection = collections.create(curator, title_es="Regresos", title_en="Returns")
    collection.intro_es = "Introducción."
    for story in (shown, kept_out):
        collections.add_story(collection, story, curator)
    collections.add_text(collection, curator, "Un texto.", "A text.")
    collections.publish(collection, curator)
    stories.change_consent(kept_out, ConsentChoices(credit_name="Ana", in_collections=False), language="es")
    db.session.commit()
    listed = answer(client, "/api/v1/collections", "CollectionPage")
    assert [c["id"] for c in listed["collections"]] == [collection.public_id]
    body = answer(client, f"/api/v1/collections/{collection.public_id}", "Collection")
    assert body["title"] == {"es": "Regresos", "en": "Returns"}
    assert [e["kind"] for e in body["entries"]] == ["story", "text"]
    assert body["entries"][0]["story"]["id"] == shown.public_id
    assert "NO_EN_COLECCIONES" not in str(body)
    story = answer(client, f"/api/v1/stories/{shown.public_id}", "Story")
    assert [c["id"] for c in story["collections"]] == [collection.public_id]
    collections.unpublish(collection, curator)
    db.session.commit()
    answer(client, f"/api/v1/collections/{collection.public_id}", "Error", 404)
    assert client.get(f"/c/{collection.public_id}").status_code == 404


def _all_changes(client: FlaskClient, since: str = "0") -> tuple[list[dict[str, Any]], str]:
    found: list[dict[str, Any]] = []
    while True:
        page = answer(client, f"/api/v1/changes?since={since}", "ChangePage")
        found += page["changes"]
        since = page["next"]
        if not page["more"]:
            return found, since


def test_changes_tell_additions_updates_and_removals_and_never_a_story_never_public(
    client: FlaskClient, make_story: MakeStory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(read, "CHANGES_PAGE", 2)
    first, second, third = (make_story(title=f"Relato {n}") for n in range(3))
    never = make_story(choices=ConsentChoices(visibility=Visibility.CURATORS))
    changes, cursor = _all_changes(client)
    assert [(c["id"], c["change"]) for c in changes] == [
        (s.public_id, "added") for s in (first, second, third)
    ]
    assert [int(c["cursor"]) for c in changes] == sorted(int(c["cursor"]) for c in changes)
    first.title_es = "Relato cambiado"
    stories.withdraw(second)
    never.title_es = "Cambiado también"
    db.session.commit()
    changes, cursor = _all_changes(client, cursor)
    assert [(c["id"], c["change"], c["api_url"] is None) for c in changes] == [
        (first.public_id, "updated", False),
        (second.public_id, "removed", True),
    ]
    assert never.public_id not in str(_all_changes(client)[0])
    assert _all_changes(client, cursor) == ([], cursor)  # nothing new: the same cursor back
    # A client that never read anything learns only the latest state of each.
    assert [(c["id"], c["change"]) for c in _all_changes(client)[0]] == [
        (third.public_id, "added"),
        (first.public_id, "added"),
        (second.public_id, "removed"),
    ]


def test_an_embargo_that_ends_is_announced_on_its_day(client: FlaskClient, make_story: MakeStory) -> None:
    story = make_story(embargo_until=today() + timedelta(days=2))
    changes, cursor = _all_changes(client)
    assert changes == []
    with freeze_time(today() + timedelta(days=2)):
        changes, _ = _all_changes(client, cursor)
    assert [(c["id"], c["change"], c["day"]) for c in changes] == [
        (story.public_id, "added", (today() + timedelta(days=2)).isoformat())
    ]


@pytest.mark.parametrize("since", ["abc", "-1", "1.5", "9" * 19, "%00", "5"])
def test_a_bad_cursor_is_a_json_error(client: FlaskClient, since: str) -> None:
    body = answer(client, f"/api/v1/changes?since={since}", "Error", 400, headers={"Accept-Language": "en"})
    assert body["error"] in ("bad_cursor", "bad_input")


def test_routing_errors_under_api_are_json_with_stable_codes(client: FlaskClient) -> None:
    assert answer(client, "/api/v1/nothing-here", "Error", 404)["error"] == "not_found"
    response = client.post("/api/v1/stories")
    assert response.status_code == 405 and response.get_json()["error"] == "method_not_allowed"
    response = client.delete("/api/v1/changes")
    assert response.status_code == 405 and response.get_json()["error"] == "method_not_allowed"


def test_messages_follow_lang_then_accept_language(client: FlaskClient) -> None:
    english = answer(client, "/api/v1/changes?since=x&lang=en", "Error", 400)
    spanish = answer(client, "/api/v1/changes?since=x", "Error", 400, headers={"Accept-Language": "es"})
    assert english["message"] == "The cursor is not one this archive gave."
    assert spanish["message"] != english["message"]


def test_cors_lets_any_site_read_and_none_write(client: FlaskClient, full_story: Story) -> None:
    origin = {"Origin": "https://otra-ciudad.example"}
    for url in (
        "/api/v1/stories",
        f"/api/v1/stories/{full_story.public_id}",
        "/api/v1/changes",
        "/es/feed.atom",
    ):
        response = client.get(url, headers=origin)
        assert response.headers["Access-Control-Allow-Origin"] == "*", url
        assert "Access-Control-Allow-Credentials" not in response.headers
    oai = client.get("/oai?verb=Identify", headers=origin)
    assert oai.headers["Access-Control-Allow-Origin"] == "*"
    preflight = client.options(
        "/api/v1/contributions", headers={**origin, "Access-Control-Request-Method": "POST"}
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers
    post = client.post("/api/v1/contributions", headers=origin)
    assert "Access-Control-Allow-Origin" not in post.headers
    page = client.get(f"/es/stories/{full_story.public_id}", headers=origin)
    assert "Access-Control-Allow-Origin" not in page.headers  # pages and cookies stay same-origin


def test_numbers_follow_commit_order_when_two_publish_at_once(app: Flask, make_story: MakeStory) -> None:
    """The counter's row is locked from the moment a transaction numbers a change until it
    commits: a second transaction waits, and takes the next number after the first committed
    (on PostgreSQL, an id taken earlier could otherwise be committed later and skipped by a
    client that had read past it)."""
    early, late = (make_story(status=StoryStatus.SUBMITTED) for _ in range(2))
    ids = (early.id, late.id)
    db.session.remove()
    holding, done = threading.Event(), threading.Event()
    order: list[str] = []

    def second() -> None:
        with app.app_context(), database.write_intent():  # BEGIN IMMEDIATE on SQLite: it queues
            holding.wait(10)
            story = db.session.get(Story, ids[1])
            assert story is not None
            stories.publish(story, None)
            db.session.commit()
            order.append("second committed")
            done.set()
            db.session.remove()

    thread = threading.Thread(target=second)
    thread.start()
    story = db.session.get(Story, ids[0])
    assert story is not None
    stories.publish(story, None)
    db.session.flush()
    publication.note(db.session(), [story])  # numbers taken: the counter's row is now held
    holding.set()
    time.sleep(1.0)
    assert not done.is_set(), "the second numbered a change while the first held the counter"
    order.append("first committed")
    db.session.commit()
    thread.join(20)
    assert order == ["first committed", "second committed"]
    seqs = dict(db.session.execute(select(PublicRecord.story_id, PublicRecord.change_seq)).all())
    first_seq, second_seq = seqs[ids[0]], seqs[ids[1]]
    assert first_seq is not None and second_seq is not None and first_seq < second_seq
    assert db.session.scalar(select(ChangeCounter.value)) == second_seq


def test_a_change_committed_between_the_two_tables_reads_is_not_passed_over(
    app: Flask, client: FlaskClient, make_story: MakeStory, make_curator: Callable[..., CuratorAccount]
) -> None:
    """On PostgreSQL each statement sees what was committed when it began: a story withdrawn
    and a collection published between the feed's read of stories and its read of collections
    must not leave the client's next cursor past the withdrawal (the reads stop at the counter's
    value, read first)."""
    curator = make_curator()
    leaving = make_story(title="Se va")
    collection = collections.create(curator, title_es="Regresos", title_en="Returns")
    db.session.commit()
    ids = (leaving.id, collection.id, curator.id)
    cursor = client.get("/api/v1/changes").get_json()["next"]
    db.session.remove()
    fired: list[bool] = []

    def writer() -> None:
        with app.app_context(), database.write_intent():
            story, found = db.session.get(Story, ids[0]), db.session.get(Collection, ids[1])
            by = db.session.get(CuratorAccount, ids[2])
            assert story is not None and found is not None and by is not None
            stories.withdraw(story)
            collections.publish(found, by)
            db.session.commit()
            db.session.remove()

    def between_the_reads(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "FROM collection_record" in statement and "change_seq BETWEEN" in statement and not fired:
            fired.append(True)
            thread = threading.Thread(target=writer)
            thread.start()
            thread.join(20)

    event.listen(db.engine, "before_cursor_execute", between_the_reads)
    try:
        page = client.get(f"/api/v1/changes?since={cursor}").get_json()
    finally:
        event.remove(db.engine, "before_cursor_execute", between_the_reads)
    assert fired
    later = client.get(f"/api/v1/changes?since={page['next']}").get_json()
    db.session.rollback()
    told = [(c["type"], c["change"]) for c in page["changes"] + later["changes"]]
    assert sorted(told) == [("collection", "added"), ("story", "removed")]


def test_a_story_out_of_embargo_then_withdrawn_before_anyone_read_the_feed_is_removed(
    client: FlaskClient, make_story: MakeStory
) -> None:
    """Public by its row from the day its embargo ended (the pages, the API, OAI showed it),
    though the feed had not numbered it yet: its withdrawal must still be announced."""
    story = make_story(embargo_until=today() + timedelta(days=1))
    with freeze_time(today() + timedelta(days=1)):
        assert client.get(f"/api/v1/stories/{story.public_id}").status_code == 200
        stories.withdraw(story)
        db.session.commit()
        changes, _ = _all_changes(client)
    assert [(c["id"], c["change"]) for c in changes] == [(story.public_id, "removed")]


def test_a_collection_changes_when_a_story_it_shows_leaves_it(
    client: FlaskClient, make_story: MakeStory, make_curator: Callable[..., CuratorAccount]
) -> None:
    """A collection's answer carries its stories' titles and summaries: when a narrator says no
    to collections, or narrows, the collection is announced again (a partner fetches it again
    and the story is gone from it)."""
    curator = make_curator()
    shown = make_story(title="SECRETO_TITULO")
    collection = collections.create(curator, title_es="Regresos", title_en="Returns")
    collections.add_story(collection, shown, curator)
    collections.publish(collection, curator)
    db.session.commit()
    _, cursor = _all_changes(client)
    stories.change_consent(shown, ConsentChoices(credit_name="Ana", in_collections=False), language="es")
    db.session.commit()
    changes, cursor = _all_changes(client, cursor)
    assert sorted((c["type"], c["change"]) for c in changes) == [
        ("collection", "updated"),
        ("story", "updated"),
    ]
    body = answer(client, f"/api/v1/collections/{collection.public_id}", "Collection")
    assert "SECRETO_TITULO" not in str(body)
