"""The public page cache never outlives a consent change and never shares anything personal."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update

from nuevonorte import stories
from nuevonorte.consent import ConsentChoices
from nuevonorte.extensions import db
from nuevonorte.models import Collection, Credit, Story, Visibility


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """These tests run with the public page cache on, as in production."""
    return {**app_config, "PUBLIC_PAGE_CACHE_SECONDS": 30}


def test_cached_page_is_reused_until_the_archive_changes(client: FlaskClient, make_story) -> None:
    story = make_story(title="Primero")
    url = f"/es/stories/{story.public_id}"
    assert "Primero" in client.get(url).get_data(as_text=True)
    # An edit made behind the archive's back (no audit event, no change number: plain SQL) is not
    # seen while the cached copy is fresh...
    db.session.execute(update(Story).where(Story.id == story.id).values(title_es="Cambiado"))
    db.session.commit()
    assert "Primero" in client.get(url).get_data(as_text=True)
    # ...but any recorded change (here a narrower credit) is seen at once.
    stories.change_consent(story, ConsentChoices(credit=Credit.ANONYMOUS), language="es")
    db.session.commit()
    assert "Cambiado" in client.get(url).get_data(as_text=True)


def test_a01_withdrawal_and_narrowed_consent_take_effect_at_once(client: FlaskClient, make_story) -> None:
    kept = make_story(title="Se queda privado")
    gone = make_story(title="Se retira")
    for story in (kept, gone):
        assert client.get(f"/es/stories/{story.public_id}").status_code == 200
    assert "Se retira" in client.get("/es/").get_data(as_text=True)
    stories.change_consent(
        kept, ConsentChoices(visibility=Visibility.CURATORS, credit_name="Ana"), language="es"
    )
    stories.withdraw(gone)
    db.session.commit()
    assert client.get(f"/es/stories/{kept.public_id}").status_code == 404
    assert client.get(f"/es/stories/{gone.public_id}").status_code == 404
    home = client.get("/es/").get_data(as_text=True)
    assert "Se retira" not in home and "Se queda privado" not in home


def test_with_cookies_only_everyones_pages_come_from_the_cache(app, client: FlaskClient, make_story) -> None:
    """A visitor with a session (a chosen language, a contribution) gets the cached copy of a page
    that is the same for everyone; nothing a request with cookies renders is kept for others."""
    story = make_story(title="Primero")
    url, other_url = f"/es/stories/{story.public_id}", f"/en/stories/{story.public_id}"
    client.get(url)
    db.session.execute(update(Story).where(Story.id == story.id).values(title_es="Cambiado"))
    db.session.commit()
    with_cookie = app.test_client()
    with_cookie.set_cookie("session", "x")
    assert "Primero" in with_cookie.get(url).get_data(as_text=True)  # everyone's page, from the cache
    assert "Cambiado" in with_cookie.get(other_url).get_data(as_text=True)  # rendered, not kept:
    db.session.execute(update(Story).where(Story.id == story.id).values(title_es="Otra vez"))
    db.session.commit()
    assert "Otra vez" in client.get(other_url).get_data(as_text=True)


def test_public_pages_are_the_same_with_any_session(
    app, make_app, curator, demo_archive, media_story, index
) -> None:
    """Why a cached page may go to a visitor with cookies: every public page renders the same for
    a visitor without cookies, one who chose a language, and a signed-in curator (rendered with
    the cache off, so each answer is made for its own request)."""
    from tests.curate_fixtures import csrf, sign_in

    uncached = make_app(PUBLIC_PAGE_CACHE_SECONDS=0)
    with uncached.app_context():
        collection = db.session.scalar(select(Collection))
        assert collection is not None
        urls = [
            f"/{lang}/{path}"
            for lang in ("es", "en")
            for path in (
                "",
                f"stories/{media_story.public_id}",
                f"collections/{collection.public_id}",
                "themes/",
                "places/",
                "search?q=noche",
                "about",
            )
        ]
    anonymous, chose_language, curating = (uncached.test_client() for _ in range(3))
    token = csrf(chose_language)
    chosen = chose_language.post("/language", data={"lang": "en", "next": "/", "csrf_token": token})
    assert chosen.status_code == 303 and chose_language.get_cookie("session") is not None
    assert sign_in(curating, curator.email).status_code == 302
    for url in urls:
        pages = [c.get(url) for c in (anonymous, chose_language, curating)]
        assert [p.status_code for p in pages] == [200, 200, 200], url
        assert pages[1].get_data() == pages[0].get_data() == pages[2].get_data(), url


def test_cache_is_on_by_default_and_can_be_turned_off(app, app_config) -> None:
    from nuevonorte import create_app

    assert app.extensions["nuevonorte.page_cache"].seconds == 30
    off = create_app({**app_config, "PUBLIC_PAGE_CACHE_SECONDS": 0})
    assert off.extensions["nuevonorte.page_cache"].seconds == 0
    production_like = create_app(
        {k: v for k, v in app_config.items() if k not in ("TESTING", "PUBLIC_PAGE_CACHE_SECONDS")}
    )
    assert production_like.extensions["nuevonorte.page_cache"].seconds == 30


def _status(client: FlaskClient, url: str) -> int:
    response = client.get(url)
    response.close()
    return response.status_code


def test_a01_a02_t19_media_decisions_follow_every_change_in_every_worker(app, make_app, media_story) -> None:
    """Each worker remembers which stored file a media address serves (``page_cache.Decisions``);
    a narrowed consent, a withdrawn recording and a withdrawn story made through one worker are
    obeyed by the next request to any worker, and a renewed consent too."""
    other = make_app()
    workers = [app.test_client(), other.test_client()]
    photo = next(m for m in media_story.media if m.kind == "image")
    voice = next(m for m in media_story.media if m.kind == "audio")
    photo_urls = [f"/media/{photo.public_id}/{v}" for v in ("original", "display", "thumbnail")]
    voice_url = f"/media/{voice.public_id}/original"

    def served() -> set[str]:
        return {url for url in [*photo_urls, voice_url] for w in workers if _status(w, url) == 200}

    assert served() == {*photo_urls, voice_url}
    assert served() == {*photo_urls, voice_url}  # the second time from each worker's memory
    stories.change_consent(
        media_story, ConsentChoices(credit_name="Rosa", voice_public=True, photos_public=False), language="es"
    )
    db.session.commit()
    assert served() == {voice_url}
    stories.withdraw_media(media_story, voice)
    db.session.commit()
    assert served() == set()
    stories.change_consent(
        media_story, ConsentChoices(credit_name="Rosa", voice_public=True, photos_public=True), language="es"
    )
    stories.publish(media_story, None)  # a widened consent returns to review; published again
    db.session.commit()
    assert served() == set(photo_urls)
    stories.withdraw(media_story)
    db.session.commit()
    assert served() == set()


def test_media_decisions_are_kept_only_while_caching_is_on(app, make_app) -> None:
    from nuevonorte.public import page_cache

    with app.app_context():
        assert page_cache.media_decisions() is not None
    off = make_app(PUBLIC_PAGE_CACHE_SECONDS=0)
    with off.app_context():
        assert page_cache.media_decisions() is None


def test_theme_counts_read_by_a_page_never_outlive_a_withdrawal(app, client: FlaskClient, make_story) -> None:
    """A withdrawal committed by another process while a page is being rendered — after its
    stories were read, before its theme counts — does not leave the withdrawn story's only theme
    listed afterwards (the page is kept under the generation of the snapshot it was read in,
    not a newer one)."""
    from nuevonorte import term_counts
    from nuevonorte.models import Theme

    secret = Theme(slug="tema-unico", slug_en="only-theme", name_es="Tema único", name_en="Only theme")
    db.session.add(secret)
    story = make_story(title="Con su tema", themes=[secret])
    make_story(title="Otro relato")
    story_id = story.id
    real = term_counts.in_public_use
    withdrawn: list[bool] = []

    def withdrawn_meanwhile(model, on=None):
        if not withdrawn:
            with app.app_context():  # another session: another connection, as another process
                stories.withdraw(db.session.get(Story, story_id))
                db.session.commit()
            withdrawn.append(True)
        return real(model, on)

    term_counts.in_public_use = withdrawn_meanwhile
    try:
        client.get("/es/")  # its stories read before the withdrawal, its theme counts after
    finally:
        term_counts.in_public_use = real
    assert withdrawn
    for url in ("/es/themes/", "/en/themes/", "/es/"):
        page = client.get(url).get_data(as_text=True)
        assert "Tema único" not in page and "Only theme" not in page, url


def test_a_public_recordings_part_edited_takes_a_change_number_T19(client: FlaskClient, media_story) -> None:
    """A part's title and synopsis are on the public story page: editing them is a public change,
    numbered under the counter's lock like any other (on PostgreSQL the audit id alone may commit
    below one already seen, and a cached page would outlive the edit)."""
    from nuevonorte import changes, transcripts
    from nuevonorte.models import MediaKind

    voice = next(m for m in media_story.media if m.kind == MediaKind.AUDIO)
    part = transcripts.add_segment(voice, 0, transcripts.SegmentText(title_es="Llegada de noche"), None)
    db.session.commit()
    page = f"/es/stories/{media_story.public_id}"
    assert "Llegada de noche" in client.get(page).get_data(as_text=True)
    before = changes.last_seq()
    transcripts.update_segment(part, 0, transcripts.SegmentText(title_es="Sin nombres"), None)
    db.session.commit()
    assert changes.last_seq() > before
    shown = client.get(page).get_data(as_text=True)
    assert "Sin nombres" in shown and "Llegada de noche" not in shown


def test_the_generation_is_read_again_after_any_commit_T19(app, make_story) -> None:
    """On SQLite a worker asks ``PRAGMA data_version`` instead of reading the generation when its
    session has not read yet: the same generation while nothing at all was committed, a new one
    after any commit on another connection (another worker, another process), and never one
    remembered from a snapshot older than the moment it was asked."""
    from nuevonorte.public import page_cache

    story = make_story(title="Con su foto")
    story_id = story.id
    db.session.commit()
    db.session.remove()

    def asked() -> tuple[Any, ...]:
        with app.test_request_context("/es/"):
            try:
                return page_cache.generation()
            finally:
                db.session.remove()

    before = asked()
    assert asked() == before
    with app.app_context():  # another session: another connection, as another worker
        stories.withdraw(db.session.get(Story, story_id))
        db.session.commit()
    after = asked()
    assert after != before
    assert asked() == after
    # Asked inside a read that began before a commit: that read's (older) generation, and
    # nothing remembered from it.
    with app.test_request_context("/es/"):
        db.session.execute(select(Story.id)).all()  # the snapshot begins here
        with app.app_context():
            collection = db.session.scalar(select(Collection))
            if collection is not None:
                collection.revision += 1
            else:
                make_story(title="Otra")
            db.session.commit()
        if db.engine.dialect.name == "sqlite":  # PostgreSQL reads each statement afresh
            assert page_cache.generation() == after
        db.session.remove()
    assert asked() != after


def test_another_databases_generation_is_never_taken_for_this_ones_T19(
    app, make_story, tmp_path, _sqlite_template
) -> None:
    """A thread's connection to ask ``data_version`` is opened again for another database file
    (another path, or the same path replaced by a restore), and starts counting again from the
    same small number: what was seen on the old one must not pass for the new one's (found by
    the full run, where a test's first page was cached under the previous test's generation)."""
    import shutil

    from nuevonorte import create_app
    from nuevonorte.public import page_cache
    from tests.conftest import archive_settings

    if db.engine.dialect.name != "sqlite":
        pytest.skip("PRAGMA data_version is SQLite's")
    make_story(title="Una historia")  # audit events: this archive's generation is not empty
    db.session.commit()
    with app.test_request_context("/es/"):
        here = page_cache.generation()
        db.session.remove()
    shutil.copyfile(_sqlite_template, tmp_path / "other.sqlite3")
    other = create_app(
        {
            **archive_settings(tmp_path / "other", f"sqlite:///{tmp_path / 'other.sqlite3'}"),
            "PUBLIC_PAGE_CACHE_SECONDS": 30,
        }
    )
    try:
        with other.test_request_context("/es/"):
            there = page_cache.generation()
            truth = db.session.connection().exec_driver_sql(page_cache._GENERATION).one()
            db.session.remove()
        assert there[:3] == tuple(truth) != here[:3]
    finally:
        with other.app_context():
            db.engine.dispose()
