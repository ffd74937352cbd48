"""A story its contributor keeps to themselves ("nobody but me, for now") is closed to curators
too (issue 10, hole 7; docs/security.md C02, M19): every curator page that takes the story shows
only that it exists, its day and status; its media answer 404; the staff index, read byte by
byte, holds none of its words. Widening again opens it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from nuevonorte import search, stories
from nuevonorte.consent import ConsentChoices
from nuevonorte.extensions import db
from nuevonorte.models import Credit, Story, StoryStatus, Visibility
from tests import index_bytes
from tests.curate_fixtures import add_audio, add_image
from tests.search_fixtures import add_transcribed_audio

pytestmark = pytest.mark.usefixtures("index")

MARKERS = ["Tlalnepantlense", "Cuauhximalpa", "Zihuatanejeña", "Ixmiquilpanes"]


def curator_urls(app: Flask, story: Story) -> list[str]:
    """Every GET route of the curators' workspace that takes a story (and media) id."""
    media = story.media[0].public_id
    urls = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("curate.") and "GET" in rule.methods and "story_id" in rule.arguments:
            path = rule.rule.replace("<story_id>", story.public_id).replace("<media_id>", media)
            urls.append(path)
    return urls


def test_nobody_but_me_is_closed_to_curators_and_to_the_staff_index(
    app: Flask, curator_client: FlaskClient, make_story: Callable[..., Story]
) -> None:
    choices = ConsentChoices(
        credit=Credit.NAME, credit_name=MARKERS[0], voice_public=True, photos_public=True
    )
    story = make_story(
        StoryStatus.SUBMITTED, choices=choices, title=MARKERS[1], body=f"Vivo en {MARKERS[2]}."
    )
    add_transcribed_audio(story, [(0, f"Hablo de {MARKERS[3]}.", False)])
    image, audio = add_image(story), add_audio(story)
    db.session.commit()
    staff = Path(app.config["INDEX_DIR"])
    assert all(index_bytes.files_holding(staff, m) for m in MARKERS)  # indexed while curators may read
    stories.change_consent(story, replace(choices, visibility=Visibility.CONTRIBUTOR), language="es")
    db.session.commit()

    urls = curator_urls(app, story)
    assert len(urls) >= 3  # review, describe, transcript...: new routes are covered by themselves
    for url in urls:
        page = curator_client.get(url).get_data(as_text=True)
        assert not [m for m in MARKERS if m in page], url
    sealed = curator_client.get(f"/curate/stories/{story.public_id}", headers={"Accept-Language": "en"})
    assert sealed.status_code == 403
    assert "Kept private by its contributor for now" in sealed.get_data(as_text=True)
    queue = curator_client.get("/curate/").get_data(as_text=True)
    assert story.public_id in queue and not [m for m in MARKERS if m in queue]
    for media in (image, audio):
        for variant in ("original", "display", "thumbnail"):
            assert curator_client.get(f"/curate/media/{media.public_id}/{variant}").status_code == 404
    assert search.search_staff(MARKERS[2]).hits == []
    assert [m for m in MARKERS if index_bytes.files_holding(staff, m)] == []
    assert curator_client.post(f"/curate/stories/{story.public_id}/publish").status_code in (400, 403)

    stories.change_consent(story, replace(choices, visibility=Visibility.CURATORS), language="es")
    db.session.commit()
    assert MARKERS[1] in curator_client.get(f"/curate/stories/{story.public_id}").get_data(as_text=True)
    assert {h.public_id for h in search.search_staff(MARKERS[2]).hits} == {story.public_id}


def test_check_agrees_that_the_staff_index_leaves_out_nobody_but_me_stories(
    app: Flask, make_story: Callable[..., Story]
) -> None:
    """``nuevonorte check`` expects in the staff index exactly what curators may read: a story
    kept "nobody but me" is not drift (found by the lifecycle walk)."""
    search.rebuild()
    make_story(choices=ConsentChoices(visibility=Visibility.CONTRIBUTOR, credit_name="Ana"))
    result = app.test_cli_runner().invoke(args=["check"])
    assert result.exit_code == 0, result.output
