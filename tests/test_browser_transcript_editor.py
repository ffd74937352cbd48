"""Issue 16 in a real headless Chromium: the transcript editor's player sets a passage's start
from where the recording is, by button and by keyboard while typing, under the real
Content-Security-Policy (the script is a file of nuevonorte/static), and the time is saved (C22)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from nuevonorte import demo, transcripts
from nuevonorte.extensions import db
from nuevonorte.models import CuratorAccount, MediaFile, Story, StoryStatus
from tests.test_browser_collection_order import sign_in

pytestmark = [pytest.mark.browser]


def saved_starts(media: MediaFile) -> list[int]:
    db.session.rollback()
    db.session.expire_all()
    found = db.session.get(MediaFile, media.id)
    assert found is not None and found.transcript is not None
    return [cue.start_ms for cue in found.transcript.cues]


def wait_until(page: Any, script: str) -> None:
    """Poll ``script`` (the page's policy refuses ``wait_for_function``'s string evaluation)."""
    for _ in range(100):
        if page.evaluate(script):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"never true: {script}")


def test_a_curator_sets_a_passage_start_from_the_player_and_saves_it(
    app: Any, live_server: str, page: Any, curator: CuratorAccount, make_story: Callable[..., Story]
) -> None:
    story = make_story(StoryStatus.SUBMITTED)
    media = demo.generated_audio(story, 5, 0, seconds=6, rate=8000)
    cues = [transcripts.ParsedCue(0, 2000, "Llegamos."), transcripts.ParsedCue(2000, 4000, "Nos quedamos.")]
    transcripts.set_cues(media, cues, "es", None)  # type: ignore[arg-type]
    db.session.commit()
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    sign_in(page, live_server, curator)
    page.goto(f"{live_server}/curate/stories/{story.public_id}/media/{media.public_id}/transcript")
    button = page.locator('button.from-player[data-target="start_0"]')
    expect(button).to_be_visible()  # the script runs: the buttons are shown only with it
    page.evaluate("document.getElementById('editor-player').muted = true")

    # Alt+K while typing in a passage plays the recording; again, pauses it.
    page.locator('textarea[name="text_1"]').click()
    page.keyboard.press("Alt+KeyK")
    wait_until(page, "() => document.getElementById('editor-player').currentTime > 1.2")
    page.keyboard.press("Alt+KeyK")
    wait_until(page, "() => document.getElementById('editor-player').paused")
    at = page.evaluate("document.getElementById('editor-player').currentTime")
    assert at > 1.2

    # The button of the first passage, and Alt+[ in the second passage's text.
    button.click()
    first = page.locator("#start_0").input_value()
    assert first == transcripts.format_clock(round(at * 1000))
    page.locator('textarea[name="text_1"]').click()
    page.keyboard.press("Alt+BracketLeft")
    assert page.locator("#start_1").input_value() == first
    page.locator('textarea[name="text_1"]').focus()
    page.keyboard.press("Alt+BracketRight")
    assert page.locator("#end_1").input_value() == first
    expect(page.locator("#player-said")).to_contain_text(first)

    page.locator("form#cues button[type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator("#start_0")).to_have_value(first)
    assert saved_starts(media) == [round(at * 1000)] * 2
    assert blocked == []
