"""Issue 14: the public search page and API as a visitor meets them — the box in every page's
header, thumbnails only of photos the public may see, content-warning flags, transcript moments
(also when only a cue's translation matched), country names and API answers in the visitor's
language."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from nuevonorte.consent import ConsentChoices
from nuevonorte.extensions import db
from nuevonorte.models import Place, PlaceLevel, Story
from tests.public.media_factory import add_image

pytestmark = pytest.mark.usefixtures("index")


def _thumbnails(html: str) -> set[str]:
    return set(re.findall(r'src="/media/([^/"]+)/thumbnail"', html))


def test_the_header_box_is_on_every_public_page(
    client: FlaskClient, media_story: Story, curator_client: FlaskClient
) -> None:
    """A labelled GET form to the search page of the page's language, on every public page
    (errors too); not in the curators' workspace, which has its own search."""
    for lang in ("es", "en"):
        for path in (
            f"/{lang}/",
            f"/{lang}/stories/{media_story.public_id}",
            f"/{lang}/themes/",
            f"/{lang}/about",
            f"/{lang}/how-it-works",
            f"/{lang}/search",
            f"/{lang}/stories/no-such-story",
            f"/{lang}/contribute",
        ):
            html = client.get(path).get_data(as_text=True)
            form = re.search(r'<form class="site-search" role="search" method="get" action="([^"]+)">', html)
            assert form is not None and form.group(1) == f"/{lang}/search", path
            assert '<label class="visually-hidden" for="site-search-q">' in html, path
            assert 'id="site-search-q" name="q" type="search"' in html, path
    assert 'class="site-search"' not in curator_client.get("/curate/").get_data(as_text=True)


def test_the_query_stays_in_the_box_and_the_first_page_shows_results(
    client: FlaskClient, media_story: Story
) -> None:
    html = client.get("/en/search?q=noche").get_data(as_text=True)
    assert 'value="noche"' in html
    assert html.index('class="card result') < html.index('<details class="filters"')  # results first
    assert html.index("<summary>Filter</summary>") > 0


def test_thumbnails_only_of_photos_the_public_may_see(
    client: FlaskClient, make_story: Callable[..., Story]
) -> None:
    shown = make_story(title="Pan de muerto", choices=ConsentChoices(credit_name="Ana", photos_public=True))
    hidden = make_story(title="Pan dulce", choices=ConsentChoices(credit_name="Ana", photos_public=False))
    warned = make_story(
        title="Pan duro",
        choices=ConsentChoices(credit_name="Ana", photos_public=True),
        content_warnings="detention",
    )
    images = {story.public_id: add_image(story) for story in (shown, hidden, warned)}
    db.session.commit()
    html = client.get("/en/search?q=pan").get_data(as_text=True)
    assert all(story.public_id in html for story in (shown, hidden, warned))
    # Only the public photo; none of a story whose content warning holds it back.
    assert _thumbnails(html) == {images[shown.public_id].public_id}
    with client.get(f"/media/{images[shown.public_id].public_id}/thumbnail") as served:
        assert served.status_code == 200 and served.mimetype == "image/jpeg"
    card = html[html.index(warned.public_id) :]
    card = card[: card.index("</li>")]
    assert "Content warning:" in card and "Detention" in card
    data = client.get("/api/v1/search?q=pan&lang=en").get_json()
    by_id = {hit["id"]: hit for hit in data["hits"]}
    assert by_id[shown.public_id]["thumbnail"] == f"/media/{images[shown.public_id].public_id}/thumbnail"
    assert by_id[hidden.public_id]["thumbnail"] is None and by_id[warned.public_id]["thumbnail"] is None
    assert by_id[warned.public_id]["content_warnings"] == ["detention"]


def test_story_cards_show_thumbnails_and_warnings_too(
    client: FlaskClient, make_story: Callable[..., Story]
) -> None:
    """The home page's cards follow the same rules as search results."""
    shown = make_story(title="Con foto", choices=ConsentChoices(credit_name="Ana", photos_public=True))
    hidden = make_story(title="Sin permiso", choices=ConsentChoices(credit_name="Ana", photos_public=False))
    warned = make_story(title="Con aviso", content_warnings="violence")
    image = add_image(shown)
    add_image(hidden)
    db.session.commit()
    html = client.get("/en/").get_data(as_text=True)
    assert _thumbnails(html) == {image.public_id}
    card = html[html.index(warned.public_id) :]
    assert "Violence" in card[: card.index("</li>")]


def test_a_cue_found_by_its_translation_links_to_its_moment(client: FlaskClient, media_story: Story) -> None:
    """ "waiting" is said only in the English translation of the second cue (2 s): the result
    shows that moment, the translation highlighted and marked as English, linked to ?t=2."""
    for lang in ("en", "es"):
        html = client.get(f"/{lang}/search?q=waiting").get_data(as_text=True)
        assert media_story.public_id in html
        link = f'href="/{lang}/stories/{media_story.public_id}?t=2"><time datetime="PT2S">0:02</time>'
        assert link in html, lang
        assert "Nobody was <mark>waiting</mark> for us." in html
        assert ('<span lang="en">Nobody was' in html) is (lang == "es")
    cue = client.get("/api/v1/search?q=waiting&lang=es").get_json()["hits"][0]["cues"][0]
    assert cue["start_seconds"] == 2 and cue["lang"] == "en"
    assert cue["url"] == f"/es/stories/{media_story.public_id}?t=2"


def test_countries_by_name_in_the_visitors_language(
    client: FlaskClient, make_story: Callable[..., Story]
) -> None:
    tijuana = Place(
        slug="tijuana", name_es="Tijuana", name_en="Tijuana", country_code="MX", level=PlaceLevel.CITY
    )
    phoenix = Place(
        slug="phoenix", name_es="Phoenix", name_en="Phoenix", country_code="US", level=PlaceLevel.CITY
    )
    db.session.add_all([tijuana, phoenix])
    make_story(title="Viaje al norte", places=[tijuana])
    make_story(title="Viaje de vuelta", places=[phoenix])
    english = client.get("/en/search?q=viaje").get_data(as_text=True)
    assert "Mexico (1)" in english and "United States (1)" in english and "MX (1)" not in english
    spanish = client.get("/es/search?q=viaje").get_data(as_text=True)
    assert "México (1)" in spanish and "Estados Unidos (1)" in spanish
    filtered = client.get("/en/search?q=viaje&country=mx").get_data(as_text=True)
    assert "Country: <strong>Mexico</strong>" in filtered  # the filter in use, with a way out
    assert 'href="/en/search?q=viaje">Remove' in filtered
    facet = client.get("/api/v1/search?q=viaje&lang=es").get_json()["facets"]["country"]
    assert {f["value"]: f["label"] for f in facet} == {"mx": "México", "us": "Estados Unidos"}


def test_the_api_answers_in_the_language_of_lang(client: FlaskClient, media_story: Story) -> None:
    """Issue 14: ``lang=en`` without Accept-Language used to answer in Spanish."""
    english = "Type a word or a name to search the archive."
    body = client.get("/api/v1/search?q=&lang=en").get_json()
    assert body["lang"] == "en" and body["message"] == english
    body = client.get("/api/v1/search?q=&lang=en", headers={"Accept-Language": "es"}).get_json()
    assert body["message"] == english
    # Without ``lang``: the browser's language, for results and messages alike.
    body = client.get("/api/v1/search?q=", headers={"Accept-Language": "en"}).get_json()
    assert body["lang"] == "en" and body["message"] == english
    body = client.get("/api/v1/search?q=&lang=es", headers={"Accept-Language": "en"}).get_json()
    assert body["lang"] == "es" and body["message"] != english
    hit = client.get("/api/v1/search?q=noche&lang=en").get_json()["hits"][0]
    assert hit["title"] == "The night we arrived" and hit["url"].startswith("/en/")


def test_a_snippet_says_its_language_when_it_is_not_the_pages(
    client: FlaskClient, media_story: Story
) -> None:
    """A screen reader reads a Spanish snippet on an English page with Spanish voice: the snippet
    carries ``lang`` when its text is in the other language (here the story's own words), and
    the API says which language it is in."""
    english = client.get("/en/search?q=párrafo").get_data(as_text=True)
    assert '<p class="snippet" lang="es">Primer <mark>párrafo</mark>' in english
    spanish = client.get("/es/search?q=párrafo").get_data(as_text=True)
    assert '<p class="snippet">Primer <mark>párrafo</mark>' in spanish
    # A hit on the English summary only: the snippet is that summary, in English.
    english = client.get("/es/search?q=return").get_data(as_text=True)
    assert '<p class="snippet" lang="en">A <mark>return</mark> at night.' in english
    hit = client.get("/api/v1/search?q=párrafo&lang=en").get_json()["hits"][0]
    assert hit["snippet_lang"] == "es"
