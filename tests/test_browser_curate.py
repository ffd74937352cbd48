"""The curator flow in a real headless Chromium.

Sign in, review, describe, transcript, publish, collection, sign out.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from nuevonorte.consent import ConsentChoices
from nuevonorte.models import CuratorAccount, Story, StoryStatus
from tests.browser import AXE, VIEWPORTS, axe_violations, screenshot
from tests.curate_fixtures import PASSWORD, add_audio, add_image
from tests.support import require


@pytest.mark.browser
def test_curator_flow_in_browser(
    app, live_server: str, page, curator: CuratorAccount, make_story: Callable[..., Story], tmp_path
) -> None:  # type: ignore[no-untyped-def]
    story = make_story(
        StoryStatus.SUBMITTED,
        title="La espera",
        body="Esperamos tres días.\n\nNadie llegó.",
        choices=ConsentChoices(credit_name="Rosa", photos_public=True),
    )
    add_image(story)
    audio = add_audio(story)
    page.goto(live_server + "/curate/")
    assert "/curate/sign-in" in page.url
    page.get_by_label("Correo electrónico").fill(curator.email)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_role("heading", name="Cola de revisión")).to_be_visible()
    screenshot(page, "curate-queue-es")
    page.get_by_role("link", name="La espera").click()
    expect(page.get_by_text("la voz").first).to_be_visible()
    screenshot(page, "curate-review-es")
    # Switch the interface to English (a POST form, no JavaScript needed).
    page.get_by_role("button", name="View in English").click()
    expect(page.get_by_role("button", name="Publish")).to_be_visible()
    page.get_by_role("link", name="Describe and translate").click()
    page.get_by_label("Title in English").fill("The wait")
    page.get_by_label("Summary in Spanish").fill("Una espera en la frontera.")
    page.get_by_label("Summary in English").fill("A wait at the border.")
    page.get_by_label("Description in Spanish").fill("Una calle al atardecer.")
    page.get_by_label("Description in English").fill("A street at dusk.")
    page.get_by_role("button", name="Save description").click()
    expect(page.get_by_text("Description saved.")).to_be_visible()
    screenshot(page, "curate-describe-en")
    # Transcript: type one passage in the page.
    page.goto(f"{live_server}/curate/stories/{story.public_id}/media/{audio.public_id}/transcript")
    page.get_by_placeholder("New passage").fill("Esperamos tres días.")
    page.get_by_role("button", name="Save passages").click()
    expect(page.get_by_text("Transcript saved: 1 passages.")).to_be_visible()
    page.get_by_role("link", name="Back to The wait").click()
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("Done.")).to_be_visible()
    # The public page shows it.
    page.goto(f"{live_server}/en/stories/{story.public_id}")
    expect(page.get_by_role("heading", name="The wait")).to_be_visible()
    # A collection with this story, published.
    page.goto(live_server + "/curate/collections")
    page.get_by_role("button", name="New collection").click()
    page.get_by_label("Title in Spanish").fill("Esperas")
    page.get_by_label("Title in English").fill("Waiting")
    page.get_by_label("Introduction in Spanish").fill("Relatos de espera.")
    page.get_by_label("Introduction in English").fill("Stories of waiting.")
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_label("Story id").fill(story.public_id)
    page.get_by_role("button", name="Add", exact=True).click()
    screenshot(page, "curate-collection-en")
    page.get_by_role("button", name="Publish").click()
    collection_url = page.url
    page.goto(collection_url + "/preview/en")
    expect(page.get_by_role("heading", name="Waiting")).to_be_visible()
    expect(page.get_by_role("link", name="The wait")).to_be_visible()
    # Sign out is a POST and really ends the session.
    page.goto(live_server + "/curate/")
    page.get_by_role("button", name="Sign out").click()
    page.goto(live_server + "/curate/")
    assert "/curate/sign-in" in page.url


@pytest.mark.browser
@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_queue_and_review_fit_a_phone(
    app, live_server: str, page, curator: CuratorAccount, make_story
) -> None:  # type: ignore[no-untyped-def]
    """Curators on a phone: no sideways scrolling on the queue and the review page."""
    story = make_story(StoryStatus.SUBMITTED, title="Un relato largo de espera en la frontera")
    add_image(story)
    page.goto(live_server + "/curate/sign-in")
    page.get_by_label("Correo electrónico").fill(curator.email)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    for name in ("queue", "review"):
        if name == "review":
            page.get_by_role("link", name="Un relato largo de espera en la frontera").click()
        screenshot(page, f"curate-{name}-es-phone")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, name


@pytest.mark.browser
def test_a_curator_decides_flagged_passages_on_a_phone(
    app, live_server: str, _browser, curator: CuratorAccount, make_story
) -> None:  # type: ignore[no-untyped-def]
    """T16 in a browser at phone size: the flagged passages, their marked words and reasons fit
    the screen with nothing axe finds; withholding one and keeping the other lets the story be
    published; the public page lacks the withheld paragraph."""
    require(AXE.is_file(), f"axe-core not installed at {AXE} (run `make install-test`)")
    story = make_story(
        StoryStatus.SUBMITTED,
        title="Medio camino",
        body="Salimos de noche.\n\nMi celular es 55 3817 2290.\n\nEl coyote nos dejó solos a medio camino.",
    )
    # The CSP is bypassed only so that axe can be injected.
    context = _browser.new_context(viewport=VIEWPORTS["phone"], locale="es-MX", bypass_csp=True)
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(live_server + "/curate/sign-in")
        page.get_by_label("Correo electrónico").fill(curator.email)
        page.get_by_label("Contraseña").fill(PASSWORD)
        page.get_by_role("button", name="Entrar").click()
        page.goto(f"{live_server}/curate/stories/{story.public_id}")
        expect(page.get_by_role("heading", name="Pasajes para revisar (2)")).to_be_visible()
        expect(page.locator("#passages mark").first).to_have_text("55 3817 2290")
        screenshot(page, "curate-passages-es-phone")
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
        assert axe_violations(page) == []
        page.get_by_role("button", name="Publicar").click()
        expect(page.get_by_text("Algunos pasajes pueden poner en riesgo")).to_be_visible()
        page.get_by_role("button", name="Retener este pasaje").first.click()
        expect(page.get_by_text("Pasaje retenido: el público no lo verá.")).to_be_visible()
        page.get_by_role("button", name="Dejarlo público").click()
        expect(page.get_by_text("El pasaje se queda como está.")).to_be_visible()
        expect(page.get_by_role("heading", name="Pasajes para revisar", exact=True)).to_be_visible()
        page.get_by_role("button", name="Publicar").click()
        expect(page.get_by_text("Listo.")).to_be_visible()
        page.goto(f"{live_server}/es/stories/{story.public_id}")
        expect(page.get_by_text("El coyote nos dejó solos")).to_be_visible()
        assert "3817" not in page.content()
    finally:
        context.close()


@pytest.mark.browser
def test_a_curator_works_through_the_queue_with_ticks_and_keys(
    app, live_server: str, _browser, curator: CuratorAccount, make_story
) -> None:  # type: ignore[no-untyped-def]
    """Issue 16 in a browser at phone size: the queue (counts, excerpt, bulk bar) fits the screen
    with nothing axe finds; two ticked stories get a theme in one go with a result for each; on
    the review page "j" opens the next story, "m" puts the cursor in the message, and keys typed
    there stay text."""
    from nuevonorte.extensions import db
    from nuevonorte.models import Theme

    require(AXE.is_file(), f"axe-core not installed at {AXE} (run `make install-test`)")
    db.session.add(Theme(slug="trabajo", name_es="Trabajo", name_en="Work"))
    first = make_story(
        StoryStatus.SUBMITTED, title="Primera", body="Llegamos a la central de abasto de madrugada."
    )
    second = make_story(StoryStatus.SUBMITTED, title="Segunda")
    context = _browser.new_context(viewport=VIEWPORTS["phone"], locale="es-MX", bypass_csp=True)
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(live_server + "/curate/sign-in")
        page.get_by_label("Correo electrónico").fill(curator.email)
        page.get_by_label("Contraseña").fill(PASSWORD)
        page.get_by_role("button", name="Entrar").click()
        expect(page.get_by_text("2 historias coinciden.")).to_be_visible()
        expect(page.get_by_text("Llegamos a la central de abasto de madrugada.")).to_be_visible()
        # It fits the screen, also with larger text (or a wider font than this machine's), once
        # its style sheet is in: measured before it, the bare table is wider (73 px once).
        page.wait_for_load_state("load")
        for text_size in ("100%", "130%"):
            page.evaluate(f"document.documentElement.style.fontSize = '{text_size}'")
            assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0, text_size
        page.evaluate("document.documentElement.style.fontSize = ''")
        assert axe_violations(page) == []
        for story in (first, second):
            page.locator(f"#pick-{story.public_id}").check()
        page.get_by_label("Con las historias seleccionadas").select_option("add-theme")
        page.get_by_label("Tema", exact=True).select_option(label="Trabajo")
        page.get_by_role("button", name="Aplicar a las historias marcadas").click()
        expect(page.get_by_role("heading", name="Resultado de cada historia")).to_be_visible()
        expect(page.get_by_role("cell", name="Listo.")).to_have_count(2)
        page.get_by_role("link", name="Primera").click()
        assert axe_violations(page) == []
        page.keyboard.press("j")
        expect(page.get_by_role("heading", name="Segunda")).to_be_visible()
        page.wait_for_load_state("load")
        page.keyboard.press("m")
        message = page.get_by_label("Mensaje para quien narra (opcional; lo lee en “Mis historias”)")
        expect(message).to_be_focused()
        page.keyboard.type("jk")
        expect(message).to_have_value("jk")
        expect(page.get_by_role("heading", name="Segunda")).to_be_visible()
    finally:
        context.close()
