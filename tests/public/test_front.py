"""The public front (``nuevonorte.public.front``, decision 0031): a kept answer given again
before Flask is the app's own answer byte for byte, only for a request that asks nothing but
its address, and never after the archive changed (docs/security.md A01, A02, T19).

The lifecycle walk (tests/test_lifecycle.py) requests every public page and media file of its
stories through the front after every step, with no cookie: a front that kept answers across a
change fails it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, request_started
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from werkzeug.test import TestResponse

from nuevonorte import ledger, stories
from nuevonorte.consent import ConsentChoices
from nuevonorte.extensions import db
from nuevonorte.models import MediaKind, Story, Visibility
from nuevonorte.request_line import TOO_LONG
from nuevonorte.storage import get_storage
from tests.conftest import IsolatedClient


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """The page cache on, as in production: the front is there only then."""
    return {**app_config, "PUBLIC_PAGE_CACHE_SECONDS": 30}


@pytest.fixture
def entered(app: Flask) -> Iterator[list[str]]:
    """The paths of the requests that reached Flask (its ``request_started`` signal), once the
    app has seen the new archive's ledger whole (its guard, on the first two requests)."""
    for _ in range(2):
        IsolatedClient(app).get("/robots.txt").close()
    seen: list[str] = []

    def note(sender: Flask, **_: Any) -> None:
        from flask import request

        seen.append(request.path)

    request_started.connect(note, app)
    yield seen
    request_started.disconnect(note, app)


def _urls(story: Story) -> list[str]:
    photo = next(m for m in story.media if m.kind == MediaKind.IMAGE)
    voice = next(m for m in story.media if m.kind == MediaKind.AUDIO)
    pages = [
        f"/{lang}/{path}"
        for lang in ("es", "en")
        for path in ("", f"stories/{story.public_id}", "themes/", "places/", "about")
    ]
    media = [f"/media/{photo.public_id}/{v}" for v in ("original", "display", "thumbnail")]
    return [*pages, *media, f"/media/{voice.public_id}/original"]


def _answer(response: TestResponse) -> tuple[str, list[tuple[str, str]], bytes]:
    try:
        return response.status, list(response.headers.items()), response.get_data()
    finally:
        response.close()


def test_t19_a_kept_answer_is_the_apps_own_byte_for_byte(
    client: FlaskClient, media_story: Story, entered: list[str]
) -> None:
    """Every public page and media file: the first request is the app's, the second is given by
    the front without reaching Flask, with the same status line, headers (in order) and bytes."""
    for url in _urls(media_story):
        entered.clear()
        first = _answer(client.get(url))
        assert first[0] == "200 OK", url
        assert entered == [url.split("?")[0]], url
        again = _answer(client.get(url))
        assert entered == [url.split("?")[0]], f"{url} reached Flask again"
        assert again == first, url


def test_t19_a24_what_asks_more_than_its_address_goes_to_the_app(
    app: Flask, client: FlaskClient, media_story: Story, entered: list[str]
) -> None:
    """A cookie, a Range, a conditional header, an Origin, a HEAD, a foreign host or a request
    line the server refused: the app answers, as it would with no front."""
    page = f"/es/stories/{media_story.public_id}"
    photo = next(m for m in media_story.media if m.kind == MediaKind.IMAGE)
    thumbnail = f"/media/{photo.public_id}/thumbnail"
    for url in (page, thumbnail):
        client.get(url).close()
        client.get(url).close()  # kept, and given by the front
    entered.clear()
    with_cookie = IsolatedClient(app)
    with_cookie.set_cookie("session", "x")
    asked: list[tuple[Any, ...]] = [
        (with_cookie, page, {}, 200),
        (with_cookie, thumbnail, {}, 200),
        (client, thumbnail, {"headers": {"Range": "bytes=0-9"}}, 206),
        (client, thumbnail, {"headers": {"If-None-Match": '"x"'}}, 200),
        (client, page, {"headers": {"Origin": "https://otro.example"}}, 200),
        (client, page, {"method": "HEAD"}, 200),
        (client, page, {"headers": {"Host": "evil.example"}}, 400),
        (client, page, {"environ_overrides": {TOO_LONG: True}}, 414),
    ]
    for who, url, how, status in asked:
        before = len(entered)
        response = who.open(url, **how)
        response.close()
        assert response.status_code == status, (url, how)
        assert len(entered) == before + 1, (url, how)
    # The same page as a visitor with no cookie gets: the app's copy of the kept page.
    assert with_cookie.get(page).get_data() == client.get(page).get_data()


def test_a01_t19_every_worker_obeys_a_change_on_its_next_request(
    app: Flask, make_app: Any, media_story: Story, entered: list[str]
) -> None:
    """Two workers keep every answer; a narrowed consent, a story taken out of public view and
    then a withdrawal, each committed elsewhere, are obeyed by the next request to each."""
    workers = [IsolatedClient(worker) for worker in (app, make_app())]
    urls = _urls(media_story)
    page, photo_urls = urls[1], [u for u in urls if "/media/" in u][:3]
    for worker in workers:
        for url in urls * 2:  # the second time from the front
            assert _answer(worker.get(url))[0] == "200 OK", url
    story_id = media_story.id

    def elsewhere(change: Any) -> None:
        with make_app().app_context():  # another process's session and connection
            change(db.session.get(Story, story_id))
            db.session.commit()

    no_photos = ConsentChoices(credit_name="Rosa", voice_public=True, photos_public=False)
    elsewhere(lambda s: stories.change_consent(s, no_photos, language="es"))
    for worker in workers:
        assert [_answer(worker.get(url))[0] for url in photo_urls] == ["404 NOT FOUND"] * 3
    curators_only = ConsentChoices(visibility=Visibility.CURATORS)
    elsewhere(lambda s: stories.change_consent(s, curators_only, language="es"))
    for worker in workers:
        assert _answer(worker.get(page))[0] == "404 NOT FOUND"
        assert b"La noche que llegamos" not in _answer(worker.get("/es/"))[2]
    elsewhere(stories.withdraw)
    for worker in workers:
        for url in urls:
            status, _, body = _answer(worker.get(url))
            assert b"La noche que llegamos" not in body, url
            if "/media/" in url or "stories/" in url:
                assert status == "404 NOT FOUND", url


def test_t19_a_kept_file_gone_since_is_the_apps_to_answer(
    client: FlaskClient, media_story: Story, entered: list[str]
) -> None:
    """A stored file removed behind the archive's back (no change recorded): the front does not
    answer for it; the app's answer is the same 404 as for anything missing."""
    photo = next(m for m in media_story.media if m.kind == MediaKind.IMAGE)
    url = f"/media/{photo.public_id}/thumbnail"
    for _ in range(2):
        client.get(url).close()
    get_storage().path(photo.thumbnail_key).unlink()
    entered.clear()
    assert client.get(url).status_code == 404
    assert entered == [url]


def test_t19_a_ledger_that_grew_sends_the_next_request_to_the_guard(
    client: FlaskClient, media_story: Story, entered: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A withdrawal written down in the ledger whose transaction never committed (or an older
    backup restored under it): the front gives nothing kept; the app's guard replays it first."""
    page = f"/es/stories/{media_story.public_id}"
    for _ in range(2):
        assert client.get(page).status_code == 200
    entered.clear()
    ledger.record("withdrawn", media_story)
    db.session.rollback()  # the line is written, the database never learnt it
    monkeypatch.setattr(ledger, "GRACE_SECONDS", 0.0)  # not a process still committing it
    assert client.get(page).status_code == 404
    assert entered == [page]


def test_t19_an_answer_naming_its_file_for_nginx_is_given_only_while_the_file_is_there(
    make_app: Any, media_story: Story
) -> None:
    """With ``media_sendfile = "nginx"`` the kept answer only names the file; once the file is
    gone behind the archive's back, the app answers (its 404), not nginx's own page."""
    nginx = make_app(MEDIA_SENDFILE="nginx")
    photo = next(m for m in media_story.media if m.kind == MediaKind.IMAGE)
    url = f"/media/{photo.public_id}/thumbnail"
    answers = [_answer(IsolatedClient(nginx).get(url)) for _ in range(4)]
    assert answers[0][0] == "200 OK" and answers[0][2] == b""
    assert ("X-Accel-Redirect", f"/_nuevonorte_media/{photo.thumbnail_key[:2]}/{photo.thumbnail_key}") in (
        answers[0][1]
    )
    assert all(a == answers[0] for a in answers)
    with nginx.app_context():
        get_storage().path(photo.thumbnail_key).unlink()
    assert _answer(IsolatedClient(nginx).get(url))[0] == "404 NOT FOUND"


@pytest.mark.parametrize("fault", ["the ledger cannot be read", "the database refuses connections"])
def test_t19_what_the_front_cannot_ask_the_app_answers(
    app: Flask, media_story: Story, entered: list[str], fault: str
) -> None:
    """When the ledger or the database cannot be asked, the front gives nothing kept and raises
    nothing of its own: the app answers, as it answers a visitor with a cookie (its own error
    page, in the visitor's language, with its headers)."""
    if fault == "the database refuses connections" and db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite is a file: the front asks it on a connection of its own, always open")
    app.config["PROPAGATE_EXCEPTIONS"] = False  # the app's own error pages, as in production
    page = f"/es/stories/{media_story.public_id}"
    for _ in range(2):
        assert _answer(IsolatedClient(app).get(page))[0] == "200 OK"
    ledger_file = Path(app.config["LEDGER_PATH"])
    kept = ledger_file.read_bytes()
    engine = db.engine

    def refuse(*_: Any, **__: Any) -> None:
        raise OperationalError("connect", {}, Exception("the database refuses connections"))

    if fault == "the ledger cannot be read":
        ledger_file.unlink()
        ledger_file.symlink_to(ledger_file)  # stat: too many levels of symbolic links
    else:
        db.session.remove()
        engine.dispose()
        event.listen(engine, "do_connect", refuse)
    try:
        entered.clear()
        plain = _answer(IsolatedClient(app).get(page))
        assert entered == [page]
        with_cookie = IsolatedClient(app)
        with_cookie.set_cookie("session", "x")
        assert plain[0] == _answer(with_cookie.get(page))[0] != "200 OK"
    finally:
        if fault == "the ledger cannot be read":
            ledger_file.unlink()
            ledger_file.write_bytes(kept)
        else:
            event.remove(engine, "do_connect", refuse)
