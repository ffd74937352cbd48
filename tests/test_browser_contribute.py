"""The whole contributor journey in a real headless Chromium at phone size, in both languages:
type, record, attach a photo, consent, send, read the code, sign in, change consent, withdraw."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from nuevonorte.extensions import db
from nuevonorte.models import MediaKind, Story, StoryStatus, Visibility
from tests import media_samples
from tests.browser import screenshot

TEXT = {
    "es": {
        "record": "Empezar a grabar",
        "stop": "Detener",
        "send": "Enviar mi historia",
        "see": "Ver mis historias",
        "written": "Ya lo anoté",
        "manage": "Cambiar quién puede verla, o borrarla",
        "save": "Guardar mis decisiones",
        "saved": "Listo.",
        "delete": "Borrar mi historia",
        "deleted": "Tu historia se borró",
    },
    "en": {
        "record": "Start recording",
        "stop": "Stop",
        "send": "Send my story",
        "see": "See my stories",
        "written": "I wrote it down",
        "manage": "Change who may see it, or delete it",
        "save": "Save my choices",
        "saved": "Saved.",
        "delete": "Delete my story",
        "deleted": "Your story was deleted",
    },
}


@pytest.mark.browser
@pytest.mark.timeout(180)
@pytest.mark.parametrize("lang", ["es", "en"])
def test_contributor_journey_on_a_phone(app, live_server: str, phone: Any, lang: str) -> None:
    t = TEXT[lang]
    page = phone
    page.goto(f"{live_server}/{lang}/contribute")
    assert page.locator("html").get_attribute("lang") == lang
    page.fill("#title", "Mi camino" if lang == "es" else "My way")
    page.fill("#body", "Salí de casa un martes.\n\nCrucé de noche.")
    screenshot(page, f"contribute-{lang}-1-form-phone")

    page.get_by_role("button", name=t["record"]).click()
    page.wait_for_timeout(2500)
    assert page.locator("#record-timer").inner_text() != "0:00"
    page.get_by_role("button", name=t["stop"], exact=True).click()
    page.locator("#record-playback").wait_for(state="visible")
    assert page.eval_on_selector('input[name="audio"]', "i => i.files.length") == 1

    page.set_input_files(
        'input[name="photos"]',
        files=[{"name": "IMG_2026.jpg", "mimeType": "image/jpeg", "buffer": media_samples.jpeg(dirty=True)}],
    )
    page.check(f'input[name="visibility"][value="{Visibility.PUBLIC.value}"]')
    page.fill("#credit_name", "Lupita")
    page.check('input[name="voice_public"]')
    page.check('input[name="agree"]')
    screenshot(page, f"contribute-{lang}-2-consent-phone")
    page.get_by_role("button", name=t["send"]).click()

    code_box = page.locator("#receipt-code")
    code_box.wait_for()
    code = code_box.inner_text().strip()
    assert len(code.split()) == 6
    screenshot(page, f"contribute-{lang}-3-receipt-phone")

    db.session.rollback()
    story = db.session.scalars(select(Story)).one()
    assert sorted(m.kind for m in story.media) == [MediaKind.AUDIO, MediaKind.IMAGE]
    assert story.current_consent.voice_public and story.current_consent.credit_name == "Lupita"
    files = [Path(app.config["MEDIA_DIR"], k[:2], k) for m in story.media for k in m.storage_keys()]

    page.get_by_role("button", name=t["written"]).click()
    page.wait_for_url(f"{live_server}/{lang}/my-stories")
    page.fill("#code", code.upper())
    page.get_by_role("button", name=t["see"]).click()
    page.get_by_role("link", name=t["manage"]).click()
    page.check(f'input[name="visibility"][value="{Visibility.CURATORS.value}"]')
    page.get_by_role("button", name=t["save"]).click()
    page.get_by_text(t["saved"]).wait_for()
    screenshot(page, f"contribute-{lang}-4-my-story-phone")
    db.session.rollback()
    assert story.current_consent.visibility == Visibility.CURATORS

    page.locator("section.danger").get_by_role("checkbox").check()
    page.get_by_role("button", name=t["delete"]).click()
    page.get_by_text(t["deleted"]).wait_for()
    screenshot(page, f"contribute-{lang}-5-withdrawn-phone")
    db.session.rollback()
    assert story.status == StoryStatus.WITHDRAWN
    assert not any(p.exists() for p in files)


@pytest.mark.browser
@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_language_switch_in_the_header_keeps_what_was_typed(app, live_server: str, page: Any) -> None:
    """C13: switching language mid-flow keeps the typed text and choices."""
    page.goto(f"{live_server}/es/contribute")
    page.fill("#body", "Lo que ya escribí")
    page.check('input[name="credit"][value="anonymous"]')
    page.get_by_role("link", name="English").click()
    page.wait_for_url(f"{live_server}/en/contribute")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.input_value("#body") == "Lo que ya escribí"
    assert page.is_checked('input[name="credit"][value="anonymous"]')
    screenshot(page, "contribute-switch-en-phone")
