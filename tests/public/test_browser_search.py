"""Issue 14 in a real Chromium: the header search box on a phone and a desktop (with and without
JavaScript), the results page at 1366x768 (first result in view, facets beside it) and on a phone
(facets behind "Filter"), and axe-core on the results page in both languages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from nuevonorte import search
from nuevonorte.consent import ConsentChoices
from nuevonorte.extensions import db
from nuevonorte.models import Place, PlaceLevel, Story
from tests.browser import AXE, VIEWPORTS, axe_violations, screenshot
from tests.public.media_factory import add_image
from tests.support import require

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 768}
BOX = {"es": "Busca en el archivo", "en": "Search the archive"}
MEXICO = {"es": re.compile(r"^México \(\d+\)$"), "en": re.compile(r"^Mexico \(\d+\)$")}


@pytest.fixture
def searchable(demo_archive: None, media_story: Story, make_story: Any) -> dict[str, Story]:
    """The demo archive, the story with a recording, and stories made to be found with "frontera":
    one with a public photo, one with a content warning, places in two countries."""
    tijuana = Place(
        slug="tijuana-b",
        slug_en="tijuana-b",
        name_es="Tijuana",
        name_en="Tijuana",
        country_code="MX",
        level=PlaceLevel.CITY,
    )
    phoenix = Place(
        slug="phoenix-b",
        slug_en="phoenix-b",
        name_es="Phoenix",
        name_en="Phoenix",
        country_code="US",
        level=PlaceLevel.CITY,
    )
    db.session.add_all([tijuana, phoenix])
    photo = make_story(
        title="La frontera de noche",
        title_en="The border at night",
        summary_en="Crossing the border.",
        choices=ConsentChoices(credit_name="Ana", photos_public=True),
        places=[tijuana],
    )
    add_image(photo)
    warned = make_story(title="Detenidos en la frontera", content_warnings="detention", places=[phoenix])
    for i in range(8):
        make_story(title=f"Frontera {i}", body=f"Cruzar la frontera, relato número {i}.", places=[tijuana])
    db.session.commit()
    search.rebuild()
    return {"photo": photo, "warned": warned, "audio": media_story}


@pytest.mark.parametrize("viewport", ["phone", "desktop"], indirect=True)
@pytest.mark.parametrize("lang", ["es", "en"])
def test_the_header_box_searches_from_any_page(
    live_server: str, page: Any, searchable: dict[str, Story], viewport: dict[str, int], lang: str
) -> None:
    width = "phone" if viewport["width"] < 600 else "desktop"
    for path in (f"/{lang}/", f"/{lang}/stories/{searchable['audio'].public_id}", f"/{lang}/about"):
        page.goto(live_server + path)
        box = page.get_by_role("search").get_by_role("searchbox", name=BOX[lang])
        expect(box).to_be_visible()
        assert box.bounding_box()["y"] < 200  # at the top, without scrolling
        width_px = box.bounding_box()["width"]
        assert width_px >= (240 if width == "phone" else 250), f"the box is {width_px}px wide on {path}"
    box.fill("frontera")
    box.press("Enter")
    page.wait_for_url(f"{live_server}/{lang}/search?q=frontera")
    assert page.locator("html").get_attribute("lang") == lang
    expect(page.locator("ol.results > li").first).to_be_visible()
    expect(page.get_by_role("search").get_by_role("searchbox")).to_have_value("frontera")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the results page scrolls sideways by {overflow}px"
    screenshot(page, f"search-{lang}-{width}")


def test_the_box_works_without_javascript(
    _browser: Any, live_server: str, searchable: dict[str, Story]
) -> None:
    context = _browser.new_context(java_script_enabled=False, viewport=VIEWPORTS["phone"])
    try:
        page = context.new_page()
        page.goto(f"{live_server}/en/")
        page.get_by_role("searchbox", name="Search the archive").fill("border")
        page.get_by_role("search").get_by_role("button", name="Search").click()
        page.wait_for_url(f"{live_server}/en/search?q=border")
        expect(page.get_by_role("link", name="The border at night")).to_be_visible()
        # Without JavaScript the facets stay behind "Filter", which still opens.
        facets = page.locator("details.filters")
        assert facets.get_attribute("open") is None
        facets.locator("summary").click()
        expect(facets.get_by_role("link", name=MEXICO["en"])).to_be_visible()
    finally:
        context.close()


@pytest.fixture
def laptop(_browser: Any) -> Iterator[Any]:
    """A 1366x768 screen, the most common laptop size."""
    context = _browser.new_context(viewport=LAPTOP, locale="es-MX")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.mark.parametrize("lang", ["es", "en"])
def test_at_1366_the_first_result_is_in_view_and_facets_beside_it(
    live_server: str, laptop: Any, searchable: dict[str, Story], lang: str
) -> None:
    laptop.goto(f"{live_server}/{lang}/search?q=frontera")
    first = laptop.locator("ol.results > li").first
    top = first.bounding_box()
    assert top["y"] + min(top["height"], 120) <= LAPTOP["height"], f"first result starts at {top['y']}px"
    facets = laptop.locator("details.filters")
    expect(facets).to_have_attribute("open", "")
    box = facets.bounding_box()
    assert box["x"] >= top["x"] + top["width"], "the facets are not beside the results"
    assert box["y"] < LAPTOP["height"]
    expect(facets.get_by_role("link").first).to_be_visible()
    input_width = laptop.get_by_role("searchbox").bounding_box()["width"]
    assert input_width >= 250, f"the box is {input_width}px wide"
    facets.get_by_role("link", name=MEXICO[lang]).click()
    laptop.wait_for_url(f"{live_server}/{lang}/search?q=frontera&country=mx")
    expect(laptop.locator("ol.results > li").filter(has_text="Detenidos")).to_have_count(0)  # in the US
    screenshot(laptop, f"search-{lang}-1366")


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_on_a_phone_facets_are_behind_filter(
    live_server: str, page: Any, searchable: dict[str, Story], viewport: dict[str, int]
) -> None:
    page.goto(f"{live_server}/en/search?q=frontera")
    first = page.locator("ol.results > li").first
    assert first.bounding_box()["y"] < viewport["height"] / 2, "the first result is not near the top"
    facets = page.locator("details.filters")
    assert facets.get_attribute("open") is None
    mexico = facets.get_by_role("link", name=MEXICO["en"])
    expect(mexico).to_be_hidden()
    summary = facets.get_by_text("Filter", exact=True)
    assert summary.bounding_box()["y"] < first.bounding_box()["y"]  # above the results, one line
    summary.click()
    expect(mexico).to_be_visible()
    mexico.click()
    page.wait_for_url(f"{live_server}/en/search?q=frontera&country=mx")
    expect(page.get_by_text("Country:")).to_be_visible()  # the filter in use shows, facets closed
    screenshot(page, "search-en-phone-filtered")


def test_results_show_thumbnail_warning_and_the_moment_in_the_recording(
    live_server: str, page: Any, searchable: dict[str, Story]
) -> None:
    page.goto(f"{live_server}/en/search?q=frontera")
    photo = page.locator("ol.results > li").filter(has_text="The border at night")
    expect(photo.locator("img.thumb")).to_be_visible()
    # The thumbnail loads lazily: visible (its size is set) before its bytes arrive.
    page.wait_for_function("(img) => img.complete", arg=photo.locator("img.thumb").element_handle())
    assert photo.locator("img.thumb").evaluate("img => img.naturalWidth") > 0  # really served
    warned = page.locator("ol.results > li").filter(has_text="Detenidos en la frontera")
    expect(warned.get_by_text("Detention")).to_be_visible()
    assert warned.locator("img").count() == 0
    page.goto(f"{live_server}/en/search?q=waiting")
    moment = (
        page.locator("ol.results > li").filter(has_text="The night we arrived").locator("ul.cues a").first
    )
    expect(moment).to_have_text("0:02 go to this moment in the recording")
    moment.click()
    page.wait_for_url(f"{live_server}/en/stories/{searchable['audio'].public_id}?t=2")


@pytest.fixture
def axe_page(_browser: Any) -> Iterator[Any]:
    """A page whose CSP is bypassed only so that axe can be injected as a script tag."""
    require(AXE.is_file(), f"axe-core not installed at {AXE} (run `make install-test`)")
    context = _browser.new_context(viewport=LAPTOP, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.mark.parametrize("lang", ["es", "en"])
def test_axe_finds_nothing_on_the_results_page(
    live_server: str, axe_page: Any, searchable: dict[str, Story], lang: str
) -> None:
    """Results with thumbnails, a warning, transcript moments, facets open and a filter in use;
    an empty search, no results, a suggestion and the too-long page; desktop and phone."""
    paths = [
        f"/{lang}/search?q=frontera",
        f"/{lang}/search?q=frontera&country=mx",
        f"/{lang}/search?q=waiting",
        f"/{lang}/search?q=",
        f"/{lang}/search?q=zzzzqqq",
        f"/{lang}/search?q=fronterra",
        f"/{lang}/search?q=" + "a" * 5000,
    ]
    problems = {}
    for size in (LAPTOP, VIEWPORTS["phone"]):
        axe_page.set_viewport_size(size)
        for path in paths:
            axe_page.goto(live_server + path)
            found = axe_violations(axe_page)
            if found:
                problems[f"{path[:60]} at {size['width']}px"] = found
    assert not problems
