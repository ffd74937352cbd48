"""A story printed from a real Chromium (print media emulated): the story and how to cite it,
without the site's navigation, buttons, players or download links."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from nuevonorte.extensions import db
from nuevonorte.models import Collection, CollectionEntry, CollectionStatus, EntryKind, Story
from nuevonorte.models.base import today
from tests.browser import screenshot

pytestmark = pytest.mark.browser

#: What a printed story leaves out.
HIDDEN_IN_PRINT = [
    "header.site",
    "header.site nav",
    "footer.site",
    "audio",
    "section.in-collections",
    "section.cite details",
]


@pytest.fixture
def in_a_collection(media_story: Story) -> Story:
    db.session.add(
        Collection(
            title_es="Regresar",
            title_en="Coming back",
            status=CollectionStatus.PUBLISHED,
            published_on=today(),
            entries=[CollectionEntry(position=0, kind=EntryKind.STORY, story=media_story)],
        )
    )
    db.session.commit()
    return media_story


def test_a_printed_story_has_its_text_teller_date_and_citation_and_no_site_chrome(
    live_server: str, page: Any, in_a_collection: Story
) -> None:
    page.goto(f"{live_server}/en/stories/{in_a_collection.public_id}")
    # On screen, everything a print leaves out is there (so the checks below can fail).
    for selector in HIDDEN_IN_PRINT:
        expect(page.locator(selector).first).to_be_visible()
    expect(page.locator("header.site nav.sections")).to_be_visible()

    page.locator("section.cite details").first.click()  # open the BibTeX, as a reader would
    screenshot(page, "story-screen-en")

    page.emulate_media(media="print")
    for selector in HIDDEN_IN_PRINT:
        assert page.locator(selector).count() >= 1, selector
        for element in page.locator(selector).all():
            expect(element).to_be_hidden()
    for button in page.locator("button, .button, a[download]").all():
        expect(button).to_be_hidden()
    expect(page.get_by_role("heading", level=1)).to_have_text("The night we arrived")
    expect(page.get_by_text("Primer párrafo del relato.")).to_be_visible()
    expect(page.locator("dl.facts")).to_contain_text("Rosa")
    expect(page.locator("dl.facts")).to_contain_text(str(today().year))
    expect(page.get_by_text("Nadie nos esperaba.")).to_be_visible()  # the transcript is text: it prints
    citation = page.locator("section.cite p.citation")
    expect(citation).to_be_visible()
    expect(citation).to_contain_text(f"/s/{in_a_collection.public_id}")  # its persistent address
    # The citation comes last: nothing printed outside it reaches below its top.
    lowest_other = page.evaluate(
        """() => {
            const cite = document.querySelector("section.cite");
            let lowest = 0;
            for (const el of document.body.querySelectorAll("*")) {
                if (cite.contains(el) || el.contains(cite) || !el.getClientRects().length) continue;
                lowest = Math.max(lowest, el.getBoundingClientRect().bottom);
            }
            return lowest;
        }"""
    )
    assert lowest_other <= page.locator("section.cite").bounding_box()["y"] + 1
    screenshot(page, "story-print-en")


def test_a_printed_content_warning_has_no_buttons(live_server: str, page: Any, make_story) -> None:
    story = make_story(title="Con aviso", content_warnings="violence")
    page.goto(f"{live_server}/es/stories/{story.public_id}")
    continue_link = page.locator("section.warning .button")
    expect(continue_link).to_be_visible()
    page.emulate_media(media="print")
    expect(continue_link).to_be_hidden()
    expect(page.locator("section.warning h2")).to_be_visible()
