"""Issue 16 in a real headless Chromium: a collection's entries ordered with the keyboard (and
by dragging), announced as they move, saved with one press; the picker and the order form with
nothing axe finds, at desktop and phone widths (C21)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from nuevonorte import collections
from nuevonorte.consent import ConsentChoices
from nuevonorte.extensions import db
from nuevonorte.models import Collection, CuratorAccount, Story, StoryStatus
from tests.browser import AXE, VIEWPORTS, axe_violations, screenshot
from tests.curate_fixtures import PASSWORD, add_image
from tests.support import require

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("index")]


def sign_in(page: Any, live_server: str, curator: CuratorAccount) -> None:
    page.goto(live_server + "/curate/sign-in")
    page.get_by_label("Correo electrónico").fill(curator.email)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_role("heading", name="Cola de revisión")).to_be_visible()


def order_shown(page: Any) -> list[str]:
    return [label.strip() for label in page.locator("form.order ol.order li label").all_inner_texts()]


def saved_order(collection: Collection) -> list[str]:
    db.session.rollback()
    db.session.expire_all()
    found = db.session.get(Collection, collection.id)
    assert found is not None
    return [e.story.title_es for e in found.entries if e.story is not None]


def test_a_curator_reorders_a_collection_with_the_keyboard_and_saves_once(
    app: Any, live_server: str, page: Any, curator: CuratorAccount, make_story: Callable[..., Story]
) -> None:
    """Under the real Content-Security-Policy (only self-hosted scripts): focus the third entry's
    handle, press the up arrow twice, hear where it went, drag another to the end, save once."""
    titles = ["Primera parada", "Segunda parada", "Tercera parada"]
    made = [
        make_story(StoryStatus.PUBLISHED, title=t, choices=ConsentChoices(credit_name="Ana")) for t in titles
    ]
    collection = collections.create(curator, "Paradas", "Stops")
    for story in made:
        collections.add_story(collection, story, curator)
    db.session.commit()
    sign_in(page, live_server, curator)
    page.goto(f"{live_server}/curate/collections/{collection.public_id}")
    assert order_shown(page) == titles

    handle = page.locator("form.order li", has_text="Tercera parada").locator(".handle")
    expect(handle).to_be_visible()  # the script runs: handles are shown only with it
    handle.focus()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    expect(handle).to_be_focused()
    assert order_shown(page) == ["Tercera parada", "Primera parada", "Segunda parada"]
    expect(page.locator("#order-status")).to_contain_text("Tercera parada")
    expect(page.locator("#order-status")).to_contain_text("1")
    values = page.locator("form.order input[type=number]").evaluate_all("els => els.map(e => e.value)")
    assert values == ["1", "2", "3"]
    page.keyboard.press("End")
    page.keyboard.press("Home")
    assert order_shown(page)[0] == "Tercera parada"
    # Dragging: "Primera parada" by its handle, below "Segunda parada".
    first = page.locator("form.order li", has_text="Primera parada").locator(".handle")
    first.drag_to(page.locator("form.order li", has_text="Segunda parada"), target_position={"x": 5, "y": 30})
    assert order_shown(page) == ["Tercera parada", "Segunda parada", "Primera parada"]
    assert saved_order(collection) == titles  # nothing saved yet

    page.locator("form.order button[type=submit]").click()
    page.wait_for_load_state("load")
    assert saved_order(collection) == ["Tercera parada", "Segunda parada", "Primera parada"]
    assert order_shown(page) == ["Tercera parada", "Segunda parada", "Primera parada"]
    screenshot(page, "curate-collection-order-es")


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_picker_and_the_order_have_nothing_axe_finds(
    app: Any,
    live_server: str,
    _browser: Any,
    curator: CuratorAccount,
    make_story: Callable[..., Story],
    size: str,
) -> None:
    """The collection page with a search in the picker (badges, a thumbnail, a disabled box) and
    the order form, in Spanish: nothing axe finds, and nothing wider than a phone."""
    require(AXE.is_file(), f"axe-core not installed at {AXE} (run `make install-test`)")
    allowed = make_story(
        StoryStatus.PUBLISHED, title="Camino al norte", choices=ConsentChoices(credit_name="Ana")
    )
    add_image(allowed, alt=True)
    make_story(
        StoryStatus.PUBLISHED,
        title="Camino sin colecciones",
        choices=ConsentChoices(credit_name="Ana", in_collections=False),
    )
    make_story(StoryStatus.SUBMITTED, title="", body="Un camino largo desde Honduras.")
    collection = collections.create(curator, "Caminos", "Roads")
    collections.add_story(collection, allowed, curator)
    collections.add_text(collection, curator, "Entre caminos", "Between roads")
    db.session.commit()
    # The CSP is bypassed only so that axe can be injected.
    context = _browser.new_context(viewport=VIEWPORTS[size], locale="es-MX", bypass_csp=True)
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        sign_in(page, live_server, curator)
        page.goto(f"{live_server}/curate/collections/{collection.public_id}?q=camino")
        expect(page.locator("ul.picker li")).to_have_count(3)
        expect(page.locator("ul.picker input:disabled")).to_have_count(2)  # not allowed; already in
        expect(page.locator("ul.picker img.pick-thumb")).to_have_count(1)
        screenshot(page, f"curate-collection-picker-es-{size}")
        assert axe_violations(page) == []
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    finally:
        context.close()
