""" "My story" in a real Chromium at phone width, in both languages: the person's photo shows as a
thumbnail and their recording in a player that loads and seeks, under the site's real CSP."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from nuevonorte.extensions import db
from nuevonorte.models import MediaKind, Story
from tests import media_samples
from tests.browser import AXE, VIEWPORTS, axe_violations, screenshot
from tests.contribute_fixtures import contribute, receipt_code, sent, upload
from tests.support import require

pytestmark = pytest.mark.browser


def _sent(client: FlaskClient, lang: str) -> tuple[str, Story]:
    """A story with a photo and a three-second recording, sent through the real form."""
    response = contribute(
        client,
        lang,
        title="Mi camino" if lang == "es" else "My way",
        body="Salí de casa un martes.\n\nCrucé de noche.",
        language=lang,
        photos=[upload(media_samples.jpeg(media_samples.picture(1200, 900), dirty=True), "IMG_1.jpg")],
        audio=[upload(media_samples.wav(seconds=3.0), "voz.wav")],
    )
    assert sent(response)
    story = db.session.scalars(select(Story)).one()
    db.session.commit()  # end the test's read snapshot
    return receipt_code(response), story


def _sign_in(page: Any, live_server: str, lang: str, code: str) -> None:
    page.goto(f"{live_server}/{lang}/my-stories")
    page.fill("#code", code)
    page.locator("#code").press("Enter")
    page.wait_for_url(f"{live_server}/{lang}/my-stories")
    assert page.locator("#code").count() == 0  # signed in: the list, not the form


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
@pytest.mark.parametrize("lang", ["es", "en"])
def test_my_story_shows_the_photo_and_a_player_on_a_phone(
    app: Flask, client: FlaskClient, live_server: str, page: Any, lang: str
) -> None:
    code, story = _sent(client, lang)
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    _sign_in(page, live_server, lang, code)
    page.goto(f"{live_server}/{lang}/my-stories/{story.public_id}")
    assert page.locator("html").get_attribute("lang") == lang
    assert page.locator(".sent h3").inner_text() == ("Mi camino" if lang == "es" else "My way")
    assert page.locator(".sent p").all_inner_texts() == ["Salí de casa un martes.", "Crucé de noche."]

    image = next(m for m in story.media if m.kind == MediaKind.IMAGE)
    photo = page.locator(f'img[src="/my-stories/media/{image.public_id}/thumbnail"]')
    photo.scroll_into_view_if_needed()
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=photo.element_handle())
    assert photo.is_visible()
    box = photo.bounding_box()
    assert box and 0 < box["width"] <= VIEWPORTS["phone"]["width"] and box["height"] > 0

    player = page.locator("ul.files audio")
    assert player.is_visible() and player.get_attribute("controls") is not None
    page.wait_for_function("(a) => a.readyState >= 1 && a.duration > 2.5", arg=player.element_handle())
    # Seeking asks for a byte range; the player gets there.
    player.evaluate("a => { a.currentTime = 2; }")
    page.wait_for_function("(a) => !a.seeking && a.currentTime >= 2", arg=player.element_handle())
    assert player.evaluate("a => a.error") is None

    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"my story scrolls sideways by {overflow}px on a phone"
    assert refused == []
    screenshot(page, f"my-story-{lang}-files-phone")


@pytest.mark.parametrize("lang", ["es", "en"])
def test_axe_reports_no_violations_on_my_story(
    app: Flask, client: FlaskClient, live_server: str, _browser: Any, lang: str
) -> None:
    require(AXE.is_file(), f"axe-core not installed at {AXE} (run `make install-test`)")
    code, story = _sent(client, lang)
    # The CSP is bypassed only so that axe can be injected as a script tag.
    context = _browser.new_context(viewport=VIEWPORTS["phone"], bypass_csp=True)
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        _sign_in(page, live_server, lang, code)
        page.goto(f"{live_server}/{lang}/my-stories/{story.public_id}")
        assert axe_violations(page) == []
    finally:
        context.close()
