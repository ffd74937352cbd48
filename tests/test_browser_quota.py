"""U20 in a real headless Chromium at phone size: over the daily quota, the page sent by the
progress-bar upload (JavaScript) shows the localized message with the typed text kept."""

from __future__ import annotations

from typing import Any

import pytest

from nuevonorte.extensions import db
from tests import media_samples
from tests.browser import screenshot
from tests.contribute_fixtures import counts


@pytest.mark.browser
@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_over_the_daily_file_quota_the_phone_keeps_the_text_U20(app, live_server: str, page: Any) -> None:
    app.config["CONTRIBUTOR_DAILY_FILES"] = 1
    page.goto(f"{live_server}/es/contribute")
    page.fill("#body", "Esto lo escribí en el camión.")
    page.set_input_files(
        'input[name="photos"]',
        files=[
            {
                "name": f"foto{i}.png",
                "mimeType": "image/png",
                "buffer": media_samples.png(media_samples.picture(9 + i, 9)),
            }
            for i in range(2)
        ],
    )
    page.fill("#credit_name", "Lupita")
    page.check('input[name="visibility"][value="curators"]')
    page.check('input[name="agree"]')
    page.get_by_role("button", name="Enviar mi historia").click()
    problem = page.locator("#problem")
    problem.wait_for()
    assert "Puedes enviar hasta 1 archivo al día" in problem.inner_text()  # singular (ngettext)
    assert "tu texto sigue aquí" in problem.inner_text()
    assert page.input_value("#body") == "Esto lo escribí en el camión."
    assert page.input_value("#credit_name") == "Lupita"
    screenshot(page, "contribute-quota-es-phone")
    assert counts()["story"] == 0


@pytest.mark.browser
@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
@pytest.mark.parametrize("refusal", ["quota", "rate limit"])
def test_a_refusal_keeps_the_chosen_files_on_the_page_U20_T12(
    app, live_server: str, page: Any, refusal: str
) -> None:
    """A 429 (daily quota or the contribution rate limit) after the progress-bar upload keeps
    this page: the typed text, the chosen files (a browser cannot re-fill a file input from a
    new page) and the reason, so the person can send again (issue 11 item 7).

    The rate limit refuses a browser only when the archive came under pressure after the form
    was opened (an open form under pressure carries a proof of work the page solves, decision
    0008): then the page takes the answer's fresh challenge in, and sending again works."""
    from nuevonorte.ratelimit import Limit

    if refusal == "quota":
        app.config["CONTRIBUTOR_DAILY_FILES"] = 1
    page.goto(f"{live_server}/es/contribute")
    if refusal == "rate limit":
        app.config["RATE_LIMITS"] = {"contribute": (Limit(0, 3600),)}
    page.fill("#body", "Esto lo escribí en el camión.")
    page.set_input_files(
        'input[name="photos"]',
        files=[
            {
                "name": f"foto{i}.png",
                "mimeType": "image/png",
                "buffer": media_samples.png(media_samples.picture(9 + i, 9)),
            }
            for i in range(2)
        ],
    )
    page.fill("#credit_name", "Lupita")
    page.check('input[name="visibility"][value="curators"]')
    page.check('input[name="agree"]')
    page.get_by_role("button", name="Enviar mi historia").click()
    problem = page.locator("#problem")
    problem.wait_for()
    expected = "Puedes enviar hasta 1 archivo al día" if refusal == "quota" else "Espera un minuto"
    assert expected in problem.inner_text(), problem.inner_text()
    assert "tu texto sigue aquí" in problem.inner_text()
    assert page.eval_on_selector('input[name="photos"]', "input => input.files.length") == 2
    assert page.input_value("#body") == "Esto lo escribí en el camión."
    assert counts()["story"] == 0
    if refusal == "rate limit":  # still under pressure: the solved challenge lets it in
        page.get_by_role("button", name="Enviar mi historia").click()
        page.locator("#receipt-code").wait_for()
        db.session.rollback()  # a fresh snapshot
        assert counts()["story"] == 1
