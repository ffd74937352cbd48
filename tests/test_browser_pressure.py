"""T12 in a real headless Chromium at phone size, in both languages: while wrong codes flood the
sign-in, the page's proof of work is solved by the browser and the owner of a code gets in."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import expect
from sqlalchemy import func, select

from nuevonorte.extensions import db
from nuevonorte.models import SpentChallenge, Story, StoryStatus
from nuevonorte.ratelimit import Limit
from tests.browser import screenshot
from tests.contribute_fixtures import contribute, csrf_token, receipt_code

WRONG = "ábaco acción ácido acné aéreo zumo"
TEXT = {
    "es": {"see": "Ver mis historias", "delete": "Borrar mi historia"},
    "en": {"see": "See my stories", "delete": "Delete my story"},
}


def _owner_and_flood(app: Flask, client: FlaskClient, lang: str) -> tuple[str, Story]:
    """A story and its code, then wrong codes up to the cap: the sign-in is under pressure."""
    app.config["RATE_LIMITS"] = {"receipt": (Limit(3, 3600),)}
    code = receipt_code(contribute(client, lang, title="Mi camino"))
    _flood(client)
    return code, db.session.scalars(select(Story)).one()


def _flood(client: FlaskClient) -> None:
    token = csrf_token(client, "/es/my-stories")
    statuses = [
        client.post("/es/my-stories", data={"csrf_token": token, "code": WRONG}).status_code for _ in range(4)
    ]
    assert statuses == [422, 422, 422, 429]


def _spent() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(SpentChallenge)) or 0


def _withdraw(page: Any, lang: str, story: Story) -> None:
    page.locator(f'a[href$="/my-stories/{story.public_id}"]').first.click()
    page.locator("section.danger").get_by_role("checkbox").check()
    page.get_by_role("button", name=TEXT[lang]["delete"]).click()
    page.wait_for_url(f"**/{lang}/my-stories")
    db.session.rollback()
    assert db.session.get(Story, story.id).status == StoryStatus.WITHDRAWN


@pytest.mark.browser
@pytest.mark.timeout(120)
@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
@pytest.mark.parametrize("lang", ["es", "en"])
def test_under_pressure_the_phone_solves_the_challenge_and_signs_in_T12(
    app: Flask, client: FlaskClient, live_server: str, page: Any, lang: str
) -> None:
    code, story = _owner_and_flood(app, client, lang)
    # A CPU slowed six times, as a cheap phone's (benchmarks/proof_of_work.py).
    page.context.new_cdp_session(page).send("Emulation.setCPUThrottlingRate", {"rate": 6})
    page.goto(f"{live_server}/{lang}/my-stories")
    assert page.locator(".proof-of-work[data-salt]").count() == 1
    page.fill("#code", code)
    # Pressed at once, most likely before the answer is found: sending waits for it, then goes
    # on by itself.
    page.get_by_role("button", name=TEXT[lang]["see"]).click()
    page.wait_for_url(f"**/{lang}/my-stories")
    page.get_by_text("Mi camino").wait_for()
    assert _spent() == 1  # the browser's answer was checked and spent
    screenshot(page, f"pressure-{lang}-signed-in-phone")
    _withdraw(page, lang, story)


@pytest.mark.browser
@pytest.mark.timeout(120)
@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
@pytest.mark.parametrize("lang", ["es", "en"])
def test_pressure_that_starts_while_typing_asks_to_press_again_T12(
    app: Flask, client: FlaskClient, live_server: str, page: Any, lang: str
) -> None:
    """The page opened in calm (no challenge); the flood starts; sending answers 429 with a
    challenge that the page solves, and pressing the button again signs in."""
    app.config["RATE_LIMITS"] = {"receipt": (Limit(3, 3600),)}
    code = receipt_code(contribute(client, lang, title="Mi camino"))
    page.goto(f"{live_server}/{lang}/my-stories")
    assert page.locator(".proof-of-work[data-salt]").count() == 0
    _flood(client)
    page.fill("#code", code)
    page.get_by_role("button", name=TEXT[lang]["see"]).click()
    page.locator("#problem").wait_for()
    expect(page.locator('input[name="pow_nonce"]')).to_have_value(re.compile(r"^[0-9]+$"))  # solved
    if lang == "en":  # (the Spanish text is checked once the catalogs are merged)
        status = page.locator('.proof-of-work [role="status"]').inner_text()
        assert status == "The safety check is done: you can try again now."
    assert page.input_value("#code") == code
    screenshot(page, f"pressure-{lang}-press-again-phone")
    page.get_by_role("button", name=TEXT[lang]["see"]).click()
    page.get_by_text("Mi camino").wait_for()
    assert _spent() == 1
