"""The home page in a real headless Chromium, at phone width, in both languages."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from nuevonorte import demo
from nuevonorte.extensions import db
from tests.browser import screenshot


@pytest.mark.browser
@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_home_in_browser_switches_language(app, live_server: str, page) -> None:
    demo.load()
    db.session.commit()
    page.goto(live_server + "/")
    # The browser context asks for es-MX, so the root sends it to the Spanish home page.
    assert page.url == live_server + "/es/"
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.get_by_role("heading", level=1).inner_text() == "Archivo Nuevo Norte"
    screenshot(page, "home-es-phone")
    page.get_by_role("link", name="English").click()
    assert page.url == live_server + "/en/"
    assert page.locator("html").get_attribute("lang") == "en"
    expect(page.get_by_text("Coming back: stories of return (demo)")).to_be_visible()
    screenshot(page, "home-en-phone")
