"""The public preview of a story before publishing (issue 16): exactly what the public page will
show under the narrator's newest consent, in both languages, with what is still missing."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from flask import Flask
from flask.testing import FlaskClient

from nuevonorte import stories, transcripts
from nuevonorte.consent import ConsentChoices
from nuevonorte.extensions import db
from nuevonorte.models import Credit, CuratorAccount, Story, StoryStatus, Visibility
from tests.curate_fixtures import add_audio, add_image, post

MakeStory = Callable[..., Story]
SAID = ("zqxuno", "zqxdos", "zqxtres")


def _story(make_story: MakeStory, curator: CuratorAccount, **choices: object) -> Story:
    """Three paragraphs, the second withheld; a warning; a photo; a recording whose second cue is
    withheld."""
    base = ConsentChoices(
        credit=Credit.PSEUDONYM, credit_name="La Güera", voice_public=True, photos_public=False
    )
    story = make_story(
        StoryStatus.SUBMITTED,
        title="Tres párrafos",
        body="\n\n".join(f"Párrafo {w}." for w in SAID),
        restricted_paragraphs="1",
        content_warnings="detention",
        choices=replace(base, **choices),
    )
    add_image(story, alt=True)
    audio = add_audio(story)
    cues = [
        replace(c, restricted=i == 1) for i, c in enumerate(transcripts.parse("Voz zqxcuea.\n\nVoz zqxcueb."))
    ]
    transcripts.set_cues(audio, cues, "es", curator)
    db.session.commit()
    return story


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def test_the_preview_shows_what_the_public_page_will_show(
    app: Flask, curator_client: FlaskClient, curator: CuratorAccount, make_story: MakeStory
) -> None:
    story = _story(make_story, curator)
    es = curator_client.get(f"/curate/stories/{story.public_id}/preview/es")
    en = curator_client.get(f"/curate/stories/{story.public_id}/preview/en")
    assert es.status_code == en.status_code == 200
    es_text, en_text = _text(es.get_data(as_text=True)), _text(en.get_data(as_text=True))
    assert "zqxuno" in es_text and "zqxtres" in es_text and "zqxdos" not in es_text
    assert "[fragmento reservado]" in es_text and "[passage withheld]" in en_text
    assert "zqxcuea" in en_text and "zqxcueb" not in en_text
    assert "La Güera" in en_text
    assert "Visitors will hear it with the withheld passages silent." in en_text
    assert "curate/media" not in en.get_data(as_text=True)  # photos not allowed: no image at all
    assert "Title in English" in en_text and "Título en inglés" in es_text
    assert "/media/" not in en.get_data(as_text=True).replace("/curate/media/", "")

    # Published, the public page shows the same words and hides the same ones.
    story.title_en = story.summary_es = story.summary_en = "Listo"
    stories.publish(story, None)
    db.session.commit()
    visitor = _text(app.test_client().get(f"/en/stories/{story.public_id}?show=1").get_data(as_text=True))
    for word in (*SAID, "zqxcuea", "zqxcueb", "La Güera"):
        assert (word in visitor) == (word in en_text), word


def test_an_allowed_photo_is_shown_from_the_curators_door_and_anonymous_is_anonymous(
    curator_client: FlaskClient, curator: CuratorAccount, make_story: MakeStory
) -> None:
    story = _story(make_story, curator, photos_public=True, voice_public=False, credit=Credit.ANONYMOUS)
    page = curator_client.get(f"/curate/stories/{story.public_id}/preview/es").get_data(as_text=True)
    photo = next(m for m in story.media if m.kind == "image")
    assert f'src="/curate/media/{photo.public_id}/display"' in page
    assert "La Güera" not in page and "Anónimo" in page
    assert "eligió no compartir su voz" in page


def test_what_cannot_be_published_says_so_and_bad_addresses_are_404(
    curator_client: FlaskClient, curator: CuratorAccount, make_story: MakeStory
) -> None:
    story = _story(make_story, curator, visibility=Visibility.CURATORS)
    page = curator_client.get(f"/curate/stories/{story.public_id}/preview/en").get_data(as_text=True)
    assert "This story cannot be published: the narrator did not make it public." in _text(page)
    assert curator_client.get(f"/curate/stories/{story.public_id}/preview/fr").status_code == 404
    sealed = _story(make_story, curator, visibility=Visibility.CONTRIBUTOR)
    assert curator_client.get(f"/curate/stories/{sealed.public_id}/preview/es").status_code == 403
    stories.withdraw(story)
    db.session.commit()
    assert curator_client.get(f"/curate/stories/{story.public_id}/preview/es").status_code == 404


def test_the_review_page_links_both_previews(
    curator_client: FlaskClient, curator: CuratorAccount, make_story: MakeStory
) -> None:
    story = _story(make_story, curator)
    page = curator_client.get(f"/curate/stories/{story.public_id}").get_data(as_text=True)
    for lang in ("es", "en"):
        assert f'href="/curate/stories/{story.public_id}/preview/{lang}"' in page
    post(curator_client, "/curate/language", {"lang": "en"})
    assert "Public preview in Spanish" in curator_client.get(f"/curate/stories/{story.public_id}").get_data(
        as_text=True
    )
