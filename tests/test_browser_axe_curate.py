"""Issue 16 in a real headless Chromium: the correction page and the transcript editor (speakers,
a passage withheld whole, words withheld in another, parts, an error message) have nothing
axe-core finds against WCAG 2.1 A and AA, in Spanish and in English, on a desktop and a phone."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from nuevonorte import corrections, demo, description, sensitive, transcripts
from nuevonorte.extensions import db
from nuevonorte.models import CuratorAccount, Story, StoryStatus
from nuevonorte.withheld_words import CueWords
from tests.browser import AXE, VIEWPORTS, axe_violations, screenshot
from tests.curate_fixtures import PASSWORD
from tests.support import require

pytestmark = [pytest.mark.browser]

BODY = "Llegamos de noche a la calle Zqxaxecalle.\n\nMi tía nos esperaba.\n\nAl otro día salió el sol."
#: The browser's language, and what the sign-in button says in it.
LOCALES = {"es": ("es-MX", "Entrar"), "en": ("en-US", "Sign in")}


@pytest.fixture(params=[("es", "desktop"), ("en", "phone")], ids=["es-desktop", "en-phone"])
def staff_page(
    request: Any, _browser: Any, live_server: str, curator: CuratorAccount
) -> Iterator[tuple[Any, str]]:
    """A signed-in curator's page in a browser of that language and size (the CSP bypassed only
    so that axe can be injected); with the language code."""
    require(AXE.is_file(), f"axe-core not installed at {AXE} (run `make install-test`)")
    lang, size = request.param
    locale, button = LOCALES[lang]
    context = _browser.new_context(viewport=VIEWPORTS[size], locale=locale, bypass_csp=True)
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(live_server + "/curate/sign-in")
        page.locator('input[name="email"]').fill(curator.email)
        page.locator('input[name="password"]').fill(PASSWORD)
        page.get_by_role("button", name=button).click()
        page.wait_for_load_state("load")
        db.session.rollback()  # the server wrote the session: end this test's older read
        yield page, lang
    finally:
        context.close()


def test_the_correction_page_has_nothing_axe_finds(
    live_server: str, staff_page: tuple[Any, str], make_story: Callable[..., Story]
) -> None:
    page, lang = staff_page
    story = make_story(StoryStatus.PUBLISHED, body=BODY)
    fixed = story.paragraphs()
    fixed[1] = "Mi tía nos esperaba en la estación."
    corrections.correct(story, fixed, None)
    description.withhold_paragraph(story, 2, None)
    db.session.commit()
    page.goto(f"{live_server}/curate/stories/{story.public_id}/correct")
    expect(page.locator("textarea").first).to_be_visible()
    screenshot(page, f"curate-correction-{lang}")
    assert axe_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0


def test_the_transcript_editor_has_nothing_axe_finds_nor_after_an_error(
    live_server: str, staff_page: tuple[Any, str], make_story: Callable[..., Story]
) -> None:
    page, lang = staff_page
    story = make_story(StoryStatus.SUBMITTED)
    media = demo.generated_audio(story, 5, 0, seconds=6, rate=8000)
    cues = [
        transcripts.ParsedCue(
            0,
            2000,
            "Llegamos a la calle Zqxaxecalle.",
            "We arrived.",
            False,
            "Rosa",
            CueWords(("calle Zqxaxecalle",)),
        ),
        transcripts.ParsedCue(2000, 4000, "Mi tía nos esperaba.", "", True, "Rosa"),
        transcripts.ParsedCue(4000, 6000, "Al otro día salió el sol.", "", False, "Entrevistadora"),
    ]
    transcripts.set_cues(media, cues, "es", None, "en")  # type: ignore[arg-type]
    transcripts.add_segment(
        media, 0, transcripts.SegmentText(title_es="La llegada", title_en="Arrival"), None
    )
    db.session.commit()
    page.goto(f"{live_server}/curate/stories/{story.public_id}/media/{media.public_id}/transcript")
    expect(page.locator('textarea[name="words_0"]')).to_have_value("calle Zqxaxecalle")
    screenshot(page, f"curate-transcript-{lang}")
    assert axe_violations(page) == []

    # A bad time: the page comes back with the message and what was typed.
    page.locator("#start_2").fill("ayer")
    page.locator("form#cues button[type=submit]").click()
    page.wait_for_load_state("load")
    expect(page.locator("p.error[role=alert]")).to_contain_text("3")
    expect(page.locator("#start_2")).to_have_value("ayer")
    assert axe_violations(page) == []


#: What the draft card says while it waits, and its two buttons, in each language.
DRAFT_WORDS = {
    "es": ("En espera", "Hacer un borrador de la transcripción", "Marcar la transcripción como revisada"),
    "en": ("Waiting", "Make a draft transcript", "Mark the transcript reviewed"),
}


def test_a_curator_asks_for_a_draft_transcript_and_reviews_it_in_a_browser(
    live_server: str,
    staff_page: tuple[Any, str],
    make_story: Callable[..., Story],
    app: Any,
    tmp_path: Any,
) -> None:
    """Issue 18: press "Make a draft transcript", see it wait, the worker drafts the espeak-ng
    recording for real, the page notices by itself and shows the machine draft, which the curator
    marks reviewed; nothing axe-core finds at each step."""
    from nuevonorte.jobs import worker
    from nuevonorte.media.ingest import ingest_upload
    from tests.transcribe_fixtures import ENGLISH, spoken

    page, lang = staff_page
    waiting, ask, reviewed = DRAFT_WORDS[lang]
    story = make_story(StoryStatus.SUBMITTED, language="en")
    media, _report = ingest_upload(story, io.BytesIO(spoken(tmp_path, ENGLISH, "en")))
    db.session.commit()
    editor = f"{live_server}/curate/stories/{story.public_id}/media/{media.public_id}/transcript"
    page.goto(editor)
    page.get_by_role("button", name=ask).click()
    page.wait_for_load_state("load")
    expect(page.locator("#machine-draft")).to_contain_text(waiting)
    screenshot(page, f"curate-draft-waiting-{lang}")
    assert axe_violations(page) == []

    db.session.rollback()
    assert worker.drain(app) == 1
    # "crossed the border" is flagged (C27): decided first (kept), as on the review page.
    drafted = db.session.get(Story, story.id)
    assert drafted is not None
    for flag in sensitive.undecided(drafted):
        sensitive.dismiss(drafted, flag.fingerprint, None)
    db.session.commit()
    # The page asks every three seconds and loads itself again once the job has ended.
    expect(page.get_by_role("button", name=reviewed)).to_be_visible(timeout=15_000)
    expect(page.locator('textarea[name="text_0"]')).to_contain_text("family")
    screenshot(page, f"curate-draft-done-{lang}")
    assert axe_violations(page) == []
    page.get_by_role("button", name=reviewed).click()
    page.wait_for_load_state("load")
    expect(page.get_by_role("button", name=reviewed)).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
