"""End to end with the test client, in Spanish and English.

Review → describe → transcript → publish → collection → publish.
Also stored XSS in every text field a curator can write (A17), rendered in both languages."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from nuevonorte.consent import ConsentChoices
from nuevonorte.extensions import db
from nuevonorte.models import Collection, Place, PlaceLevel, Story, StoryStatus, Theme
from tests.curate_fixtures import add_audio, add_image, post

MakeStory = Callable[..., Story]
XSS = '<script>alert(1)</script>" onmouseover="alert(2)'


@pytest.mark.parametrize(
    ("lang", "labels"),
    [
        (
            "es",
            {
                "queue": "Cola de revisión",
                "publish": "Publicar",
                "saved": "Descripción guardada.",
                "done": "Listo.",
            },
        ),
        (
            "en",
            {"queue": "Review queue", "publish": "Publish", "saved": "Description saved.", "done": "Done."},
        ),
    ],
)
def test_curator_flow_end_to_end(
    curator_client: FlaskClient, make_story: MakeStory, client: FlaskClient, lang: str, labels: dict[str, str]
) -> None:
    db.session.add(Theme(slug="trabajo", name_es="Trabajo", name_en="Work"))
    db.session.commit()
    post(curator_client, "/curate/language", {"lang": lang})
    story = make_story(
        StoryStatus.SUBMITTED,
        title="Mi llegada",
        body="Primer párrafo.\n\nSegundo párrafo.",
        choices=ConsentChoices(credit_name="Rosa", photos_public=True, voice_public=True),
    )
    image = add_image(story)
    audio = add_audio(story)
    # Review.
    queue = curator_client.get("/curate/").get_data(as_text=True)
    assert labels["queue"] in queue and "Mi llegada" in queue
    review_url = f"/curate/stories/{story.public_id}"
    review = curator_client.get(review_url).get_data(as_text=True)
    assert labels["publish"] in review and "Rosa" in review
    # Describe.
    describe_url = review_url + "/describe"
    theme = db.session.scalar(select(Theme))
    data = {
        "revision": db.session.get(Story, story.id).revision,
        "title_es": "Mi llegada",
        "title_en": "My arrival",
        "summary_es": "Resumen",
        "summary_en": "Summary",
        "themes": str(theme.id),
        f"alt_es_{image.public_id}": "Foto de una calle",
        f"alt_en_{image.public_id}": "Photo of a street",
    }
    r = post(curator_client, describe_url, data, page=describe_url, follow_redirects=True)
    assert labels["saved"] in r.get_data(as_text=True)
    # Transcript.
    transcript_url = f"{review_url}/media/{audio.public_id}/transcript"
    vtt = b"WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nHola.\n"
    r = post(
        curator_client,
        transcript_url + "/upload",
        {"file": (io.BytesIO(vtt), "t.vtt"), "language": "es"},
        page=transcript_url,
        content_type="multipart/form-data",
    )
    assert r.status_code == 302
    # Publish.
    revision = db.session.get(Story, story.id).revision
    r = post(
        curator_client,
        review_url + "/publish",
        {"revision": revision},
        page=review_url,
        follow_redirects=True,
    )
    assert labels["done"] in r.get_data(as_text=True)
    public = client.get(f"/{lang}/stories/{story.public_id}")
    assert public.status_code == 200 and ("My arrival" if lang == "en" else "Mi llegada") in public.get_data(
        as_text=True
    )
    # Collection, then publish it.
    r = post(curator_client, "/curate/collections", page="/curate/collections")
    collection_url = r.headers["Location"]
    c = db.session.scalar(select(Collection))
    post(
        curator_client,
        collection_url,
        {
            "revision": c.revision,
            "title_es": "Llegadas",
            "title_en": "Arrivals",
            "intro_es": "Intro",
            "intro_en": "Intro",
        },
        page=collection_url,
    )
    post(
        curator_client,
        collection_url + "/entries",
        {"story_id": story.public_id, "text_es": "Nota", "text_en": "Note"},
        page=collection_url,
    )
    post(curator_client, collection_url + "/cover", {"media": image.public_id}, page=collection_url)
    post(curator_client, collection_url + "/publish", page=collection_url)
    page = client.get(f"/{lang}/collections/{c.public_id}").get_data(as_text=True)
    assert ("Arrivals" if lang == "en" else "Llegadas") in page and (
        "My arrival" if lang == "en" else "Mi llegada"
    ) in page


def test_a17_stored_script_is_escaped_everywhere_in_both_languages(
    curator_client: FlaskClient, make_story: MakeStory, client: FlaskClient
) -> None:
    """A17: script in every text field a curator writes is escaped on curator and public pages, es and en."""
    theme = Theme(slug="xss", name_es=XSS, name_en=XSS)
    place = Place(slug="xss", name_es=XSS, name_en=XSS, country_code="MX", level=PlaceLevel.CITY)
    db.session.add_all([theme, place])
    db.session.commit()
    story = make_story(
        StoryStatus.PUBLISHED,
        title=XSS,
        body=f"{XSS}\n\n{XSS}",
        choices=ConsentChoices(credit_name=XSS, photos_public=True),
    )
    image = add_image(story)
    audio = add_audio(story)
    sid = story.public_id
    describe_url = f"/curate/stories/{sid}/describe"
    data = {
        "revision": db.session.get(Story, story.id).revision,
        "title_es": XSS,
        "title_en": XSS,
        "summary_es": XSS,
        "summary_en": XSS,
        "themes": str(theme.id),
        "places": str(place.id),
        f"alt_es_{image.public_id}": XSS,
        f"alt_en_{image.public_id}": XSS,
        "restricted": "1",
    }
    assert post(curator_client, describe_url, data, page=describe_url).status_code == 302
    transcript_url = f"/curate/stories/{sid}/media/{audio.public_id}/transcript"
    post(
        curator_client,
        transcript_url,
        {"rows": "1", "start_0": "0:00", "end_0": "0:01", "text_0": XSS, "translation_0": XSS},
        page=transcript_url,
    )
    collection_url = post(curator_client, "/curate/collections", page="/curate/collections").headers[
        "Location"
    ]
    c = db.session.scalar(select(Collection))
    post(
        curator_client,
        collection_url,
        {"revision": c.revision, "title_es": XSS, "title_en": XSS, "intro_es": XSS, "intro_en": XSS},
        page=collection_url,
    )
    post(
        curator_client,
        collection_url + "/entries",
        {"story_id": sid, "text_es": XSS, "text_en": "[x](javascript:alert(1))"},
        page=collection_url,
    )
    post(
        curator_client,
        collection_url + "/entries",
        {"text_es": XSS, "text_en": "[x](javascript:alert(1))"},
        page=collection_url,
    )
    post(curator_client, collection_url + "/publish", page=collection_url)
    pages = [
        "/curate/",
        f"/curate/stories/{sid}",
        describe_url,
        transcript_url,
        "/curate/collections",
        collection_url,
        f"{collection_url}/preview/es",
        f"{collection_url}/preview/en",
        "/curate/admin/audit",
    ]
    for lang in ("es", "en"):
        post(curator_client, "/curate/language", {"lang": lang})
        for url in [*pages, f"/{lang}/stories/{sid}", f"/{lang}/collections/{c.public_id}"]:
            response = curator_client.get(url)
            if url == "/curate/admin/audit":
                assert response.status_code == 403
                continue
            html = response.get_data(as_text=True)
            assert response.status_code == 200, url
            assert "<script>alert" not in html, url
            assert '" onmouseover="' not in html, url
            assert not re.search(r'href="\s*javascript:', html, re.I), url
