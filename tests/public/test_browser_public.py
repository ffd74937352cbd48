"""The public site in a real Chromium: language switch, collections, audio with transcript,
content warnings, phone widths, screenshots, and axe-core accessibility checks (WCAG 2.1 AA)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from nuevonorte.extensions import db
from nuevonorte.models import Collection, Story
from tests.browser import AXE, VIEWPORTS, axe_violations, screenshot
from tests.support import require

pytestmark = pytest.mark.browser


@pytest.fixture
def archive(demo_archive: None, media_story: Story) -> dict[str, str]:
    """Demo content plus a story with public voice and a transcript; returns useful ids."""
    collection = db.session.scalar(select(Collection))
    return {"collection": collection.public_id, "story": media_story.public_id}


def test_language_switch_keeps_the_page(live_server: str, page: Any, archive: dict[str, str]) -> None:
    page.goto(f"{live_server}/es/stories/{archive['story']}")
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.get_by_role("heading", level=1).inner_text() == "La noche que llegamos"
    page.get_by_role("link", name="English").click()
    assert page.url == f"{live_server}/en/stories/{archive['story']}"
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "The night we arrived"
    page.get_by_role("link", name="Español").click()
    assert page.url == f"{live_server}/es/stories/{archive['story']}"


def test_browsing_a_collection(live_server: str, page: Any, archive: dict[str, str]) -> None:
    page.goto(f"{live_server}/en/")
    page.get_by_role("link", name="Coming back: stories of return (demo)").click()
    assert page.url == f"{live_server}/en/collections/{archive['collection']}"
    expect(page.get_by_text("Hands remember.")).to_be_visible()
    page.get_by_role("link", name="Learning Spanish again").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Learning Spanish again"
    page.get_by_role("link", name="Deportation").first.click()
    assert page.url == f"{live_server}/en/themes/deportation"
    assert page.get_by_role("heading", level=1).inner_text() == "Deportation"


def test_audio_plays_and_a_transcript_cue_seeks(live_server: str, page: Any, archive: dict[str, str]) -> None:
    url = f"{live_server}/en/stories/{archive['story']}"
    page.goto(url)
    audio = page.locator("audio")
    page.wait_for_function("() => document.querySelector('audio').readyState >= 1")
    page.locator("li.cue").nth(1).get_by_role("link").click()
    assert page.url == url  # seeking happened in place, no reload
    assert page.evaluate("document.querySelector('audio').currentTime") >= 2.0
    assert page.locator("li.cue").nth(1).get_attribute("aria-current") == "true"
    page.wait_for_function("() => document.querySelector('audio').currentTime > 2.2")  # it really plays
    assert audio.evaluate("a => a.paused") is False
    screenshot(page, "story-playing-en-desktop")
    # Time passes: the highlight follows the recording into the third cue.
    page.evaluate("document.querySelector('audio').currentTime = 4.5")
    page.wait_for_function("() => document.querySelectorAll('li.cue')[2].classList.contains('current')")
    # A shared link with ?t= starts there.
    page.goto(url + "?t=4")
    page.wait_for_function("() => document.querySelector('audio').currentTime >= 4")


def test_transcript_works_without_javascript(
    _browser: Any, live_server: str, archive: dict[str, str]
) -> None:
    context = _browser.new_context(java_script_enabled=False, viewport=VIEWPORTS["desktop"])
    try:
        page = context.new_page()
        page.goto(f"{live_server}/es/stories/{archive['story']}")
        page.locator("li.cue").nth(2).get_by_role("link").click()
        assert page.url.endswith("?t=4")
        assert "#t=4.0" in page.locator("audio").get_attribute("src")
        expect(page.get_by_text("Pero al otro día salió el sol.")).to_be_visible()
    finally:
        context.close()


def test_content_warning_then_continue(live_server: str, page: Any, make_story) -> None:
    story = make_story(
        title="Un relato difícil", body="Lo que pasó en la estación.", content_warnings="detention"
    )
    page.goto(f"{live_server}/es/stories/{story.public_id}")
    expect(page.get_by_role("heading", name="Aviso sobre el contenido")).to_be_visible()
    expect(page.get_by_text("Detención")).to_be_visible()
    assert page.get_by_text("Lo que pasó en la estación.").count() == 0
    screenshot(page, "story-warning-es-desktop")
    page.get_by_role("link", name="Seguir a la historia").click()
    expect(page.get_by_text("Lo que pasó en la estación.")).to_be_visible()


@pytest.mark.parametrize("viewport", ["phone", "desktop"], indirect=True)
@pytest.mark.parametrize("lang", ["es", "en"])
def test_screenshots_and_no_horizontal_scroll(
    live_server: str, page: Any, archive: dict[str, str], viewport: dict[str, int], lang: str
) -> None:
    """Main pages at phone and desktop widths, for people to look at; nothing wider than the screen."""
    width = "phone" if viewport["width"] < 600 else "desktop"
    pages = {
        "home": f"/{lang}/",
        "collection": f"/{lang}/collections/{archive['collection']}",
        "story": f"/{lang}/stories/{archive['story']}",
        "themes": f"/{lang}/themes/",
        "how-it-works": f"/{lang}/how-it-works",
    }
    for name, path in pages.items():
        page.goto(live_server + path)
        assert page.locator("html").get_attribute("lang") == lang
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at {width} width"
        screenshot(page, f"{name}-{lang}-{width}")


def test_keyboard_reaches_the_skip_link_and_focus_is_visible(
    live_server: str, page: Any, archive: dict[str, str]
) -> None:
    page.goto(f"{live_server}/es/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Ir al contenido")
    assert skip.evaluate("el => el === document.activeElement")
    assert skip.evaluate("el => getComputedStyle(el).left") != "-999px"
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"


# --- axe-core -------------------------------------------------------------------------------


@pytest.fixture
def axe_page(_browser: Any) -> Iterator[Any]:
    """A page whose CSP is bypassed only so that axe can be injected as a script tag."""
    require(AXE.is_file(), f"axe-core not installed at {AXE} (run `make install-test`)")
    context = _browser.new_context(viewport=VIEWPORTS["desktop"], bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def _has_rule(app: Flask, prefix: str) -> bool:
    return any(str(rule).startswith(prefix) for rule in app.url_map.iter_rules())


@pytest.mark.parametrize("lang", ["es", "en"])
def test_axe_reports_no_violations_on_public_pages(
    app: Flask, live_server: str, axe_page: Any, archive: dict[str, str], make_story, lang: str
) -> None:
    warned = make_story(title="Con aviso", content_warnings="violence")
    paths = [
        f"/{lang}/",
        f"/{lang}/collections/{archive['collection']}",
        f"/{lang}/stories/{archive['story']}",
        f"/{lang}/stories/{warned.public_id}",
        f"/{lang}/themes/",
        f"/{lang}/places/tijuana",
        f"/{lang}/about",
        f"/{lang}/how-it-works",
        f"/{lang}/stories/no-such-story",
    ]
    problems = {}
    for path in paths:
        axe_page.goto(live_server + path)
        found = axe_violations(axe_page)
        if found:
            problems[path] = found
    assert not problems


@pytest.mark.parametrize("lang", ["es", "en"])
@pytest.mark.parametrize(("area", "path"), [("contribute", "/contribute"), ("search", "/search?q=pan")])
def test_axe_reports_no_violations_on_pages_built_elsewhere(
    app: Flask, live_server: str, axe_page: Any, archive: dict[str, str], lang: str, area: str, path: str
) -> None:
    """The contribute and search pages come from other branches; they are checked once merged."""
    require(_has_rule(app, f"/<lang>{path.split('?')[0]}"), f"the {area} page is not on this branch")
    axe_page.goto(f"{live_server}/{lang}{path}")
    assert not axe_violations(axe_page)


@pytest.mark.parametrize("lang", ["es", "en"])
def test_axe_reports_no_violations_on_the_receipt_page(
    app: Flask, live_server: str, axe_page: Any, lang: str
) -> None:
    """The receipt page appears after a contribution (another branch): reached by submitting the form."""
    require(_has_rule(app, "/<lang>/contribute"), "the contribute page is not on this branch")
    axe_page.goto(f"{live_server}/{lang}/contribute")
    form = axe_page.locator("form").filter(has=axe_page.locator("textarea")).first
    for field in form.locator("textarea").all():
        field.fill("Un relato de prueba para revisar la accesibilidad del comprobante.")
    for field in form.locator("input[type=text][required], input:not([type])[required]").all():
        field.fill("Prueba")
    seen: set[str] = set()
    for radio in form.locator("input[type=radio]").all():
        name = radio.get_attribute("name") or ""
        if name not in seen:
            seen.add(name)
            radio.check()
    for box in form.locator("input[type=checkbox][required]").all():
        box.check()
    form.locator("[type=submit]").last.click()
    axe_page.wait_for_load_state()
    require(
        "receipt" in axe_page.url or axe_page.locator("text=/comprobante|receipt/i").count() > 0,
        "submitting the contribute form did not lead to a receipt page",
    )
    assert not axe_violations(axe_page)
