"""Issue 13 in a real Chromium at phone width, in Spanish and English: what a stressed person
on a cheap phone must never lose (the code, the recording, the words) and never be confused by.
Each test names the numbered problem of the issue it covers; the server side is in
test_contribute_flow.py."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from nuevonorte.extensions import db
from nuevonorte.models import MediaKind, Story
from tests import media_samples
from tests.browser import VIEWPORTS, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

TEXT = {
    "es": {
        "send": "Enviar mi historia",
        "record": "Empezar a grabar",
        "stop": "Detener",
        "written": "Ya lo anoté",
        "see": "Ver mis historias",
        "again": "Ver otra vez tu código de recibo",
    },
    "en": {
        "send": "Send my story",
        "record": "Start recording",
        "stop": "Stop",
        "written": "I wrote it down",
        "see": "See my stories",
        "again": "See your receipt code again",
    },
}


def _stories() -> list[Story]:
    db.session.rollback()
    return list(db.session.scalars(select(Story).order_by(Story.id)))


def _fill(page: Any, *, visibility: str | None = "curators") -> None:
    page.locator("#body").press_sequentially("Salí de casa un martes.")
    if visibility:
        page.check(f'input[name="visibility"][value="{visibility}"]')
    page.check('input[name="credit"][value="anonymous"]')
    page.check('input[name="agree"]')


def _code_in_view(page: Any) -> str:
    box = page.locator("#receipt-code")
    box.wait_for()
    rect = box.bounding_box()
    assert rect is not None
    scroll = page.evaluate("window.scrollY")
    # On arrival, without scrolling, the whole code is on the screen.
    assert rect["y"] >= 0 and rect["y"] + rect["height"] <= VIEWPORTS["phone"]["height"], (rect, scroll)
    return str(box.inner_text().strip())


@pytest.mark.parametrize("lang", ["es", "en"])
def test_1_2_8_code_on_screen_after_an_upload_reloads_and_back_finds_it(
    app: Any, live_server: str, phone: Any, lang: str
) -> None:
    t, page = TEXT[lang], phone
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{live_server}/{lang}/contribute")
    # 8: nothing chosen for the person; the browser asks before anything is sent.
    assert page.locator('input[name="visibility"]:checked').count() == 0
    _fill(page, visibility=None)
    page.set_input_files(
        'input[name="photos"]',
        files=[{"name": "IMG_1.jpg", "mimeType": "image/jpeg", "buffer": media_samples.jpeg()}],
    )
    page.get_by_role("button", name=t["send"]).click()
    page.wait_for_timeout(500)
    assert page.url.endswith(f"/{lang}/contribute") and _stories() == []
    assert page.evaluate("document.querySelector('input[name=visibility]').validity.valueMissing")
    page.check('input[name="visibility"][value="curators"]')
    # 1: sent with a file (through the upload with progress): the code is on screen on arrival.
    page.get_by_role("button", name=t["send"]).click()
    page.wait_for_url(f"{live_server}/{lang}/contribute/receipt")
    code = _code_in_view(page)
    screenshot(page, f"issue13-{lang}-receipt-on-arrival-phone")
    # 2: reloading shows the same code and sends nothing again.
    page.reload()
    assert _code_in_view(page) == code
    assert len(_stories()) == 1 and [m.kind for m in _stories()[0].media] == [MediaKind.IMAGE]
    # 1: Back shows the form, which leads back to the code.
    page.go_back()
    page.wait_for_url(f"{live_server}/{lang}/contribute")
    page.get_by_role("link", name=t["again"]).click()
    assert _code_in_view(page) == code
    # "I wrote it down" ends the page's copy; my stories opens with the code.
    page.get_by_role("button", name=t["written"]).click()
    page.wait_for_url(f"{live_server}/{lang}/my-stories")
    page.fill("#code", code)
    page.get_by_role("button", name=t["see"]).click()
    page.wait_for_url(f"{live_server}/{lang}/my-stories")
    assert page.locator("#code").count() == 0
    assert len(_stories()) == 1


@pytest.mark.parametrize("lang", ["es", "en"])
def test_3_4_5_a_recording_is_heard_before_sending_and_survives_a_form_error(
    app: Any, live_server: str, phone: Any, lang: str
) -> None:
    t, page = TEXT[lang], phone
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{live_server}/{lang}/contribute")
    # 4: nothing to delete before anything is recorded.
    assert not page.locator("#record-discard").is_visible()
    page.get_by_role("button", name=t["record"]).click()
    page.wait_for_timeout(2000)
    page.get_by_role("button", name=t["stop"], exact=True).click()
    page.locator("#record-playback").wait_for(state="visible")
    assert page.locator("#record-discard").is_visible()
    # 4: the preview plays (the page's policy lets it load its own recording).
    assert page.evaluate(
        "() => { const a = document.getElementById('record-playback'); a.muted = true;"
        " return a.play().then(() => true, () => false); }"
    )
    assert blocked == []
    # 3: a mistake the server finds (a date in the past) keeps the recording.
    _fill(page)
    page.fill('input[name="embargo_until"]', "2020-01-01")
    page.get_by_role("button", name=t["send"]).click()
    page.locator("#held-files").wait_for()
    assert page.locator('input[name="drop_held"]').count() == 1
    assert _stories() == []
    # 5: the summary takes the focus and its link leads to the field, which says what is wrong.
    assert page.evaluate("document.activeElement.id") == "error-summary"
    link = page.locator("#error-summary a")
    assert link.count() == 1
    target = link.get_attribute("href")
    assert target == "#embargo_until"
    assert page.locator(target).get_attribute("aria-invalid") == "true"
    assert page.locator(target).get_attribute("aria-describedby") == "embargo_until-errors"
    screenshot(page, f"issue13-{lang}-recording-kept-phone")
    page.fill('input[name="embargo_until"]', "")
    page.get_by_role("button", name=t["send"]).click()
    page.wait_for_url(f"{live_server}/{lang}/contribute/receipt")
    story = _stories()[0]
    assert [m.kind for m in story.media] == [MediaKind.AUDIO]


@pytest.mark.parametrize("lang", ["es", "en"])
def test_3_leaving_with_words_typed_asks_first(app: Any, live_server: str, phone: Any, lang: str) -> None:
    page = phone
    asked: list[str] = []
    page.on("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))
    page.goto(f"{live_server}/{lang}/contribute")
    page.locator("#body").press_sequentially("Lo que ya escribí")
    page.close(run_before_unload=True)
    page.wait_for_timeout(500)
    assert asked == ["beforeunload"]


@pytest.mark.parametrize("lang", ["es", "en"])
def test_6_on_a_shared_phone_the_next_person_gets_their_own_code(
    app: Any, live_server: str, phone: Any, lang: str
) -> None:
    t, page = TEXT[lang], phone
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{live_server}/{lang}/contribute")
    _fill(page)
    page.get_by_role("button", name=t["send"]).click()
    first = _code_in_view(page)
    page.get_by_role("button", name=t["written"]).click()
    page.fill("#code", first)
    page.get_by_role("button", name=t["see"]).click()
    page.wait_for_url(f"{live_server}/{lang}/my-stories")
    # The next person, on the same phone.
    page.goto(f"{live_server}/{lang}/contribute")
    assert page.is_checked('input[name="whose"][value="new"]')
    screenshot(page, f"issue13-{lang}-shared-phone-phone")
    _fill(page)
    page.get_by_role("button", name=t["send"]).click()
    second = _code_in_view(page)
    assert second != first
    stories = _stories()
    assert len(stories) == 2 and stories[0].contributor_id != stories[1].contributor_id
    # The first person was signed out: their stories ask for a code again.
    page.goto(f"{live_server}/{lang}/my-stories")
    assert page.locator("#code").count() == 1
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Story)) == 2
