"""Themes and places have a short id per language: English addresses use the English one, the
other language's id redirects there, and search filters and facets follow the page's language."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from nuevonorte import demo
from nuevonorte.extensions import db
from nuevonorte.models import Place, PlaceLevel, Story, StoryStatus, Theme
from tests.curate_fixtures import post


@pytest.fixture
def terms(make_story: Callable[..., Story]) -> Story:
    """A public story on the theme "trabajo"/"work" in "Ciudad de México"/"Mexico City"."""
    work = Theme(slug="trabajo", name_es="Trabajo", name_en="Work")
    cdmx = Place(
        slug="cdmx",
        name_es="Ciudad de México",
        name_en="Mexico City",
        country_code="MX",
        level=PlaceLevel.CITY,
    )
    db.session.add_all([work, cdmx])
    return make_story(title="La panadería", title_en="The bakery", themes=[work], places=[cdmx])


def _html(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def test_a_new_term_gets_an_english_short_id_from_its_english_name(terms: Story) -> None:
    work = db.session.scalar(select(Theme).where(Theme.slug == "trabajo"))
    cdmx = db.session.scalar(select(Place).where(Place.slug == "cdmx"))
    assert work is not None and work.slug_en == "work" and work.slug_for("es") == "trabajo"
    assert cdmx is not None and cdmx.slug_en == "mexico-city"


def test_english_pages_link_to_english_short_ids(client: FlaskClient, terms: Story) -> None:
    story = _html(client, f"/en/stories/{terms.public_id}")
    assert 'href="/en/themes/work"' in story and 'href="/en/places/mexico-city"' in story
    assert "/en/themes/trabajo" not in story and "/en/places/cdmx" not in story
    spanish = _html(client, f"/es/stories/{terms.public_id}")
    assert 'href="/es/themes/trabajo"' in spanish and 'href="/es/places/cdmx"' in spanish
    assert 'href="/en/themes/work"' in _html(client, "/en/themes/")
    assert 'href="/en/places/mexico-city"' in _html(client, "/en/places/")
    assert 'href="/en/themes/work"' in _html(client, "/en/")


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ("/en/themes/trabajo", "/en/themes/work"),
        ("/es/themes/work", "/es/themes/trabajo"),
        ("/en/places/cdmx", "/en/places/mexico-city"),
        ("/es/places/mexico-city", "/es/places/cdmx"),
        ("/en/themes/trabajo?page=1", "/en/themes/work?page=1"),
    ],
)
def test_the_other_languages_short_id_redirects_permanently(
    client: FlaskClient, terms: Story, path: str, target: str
) -> None:
    response = client.get(path)
    assert response.status_code == 301
    assert response.headers["Location"] == target
    assert "The bakery" in _html(client, target) or "La panadería" in _html(client, target)


def test_a_term_page_switches_language_to_the_other_short_id(client: FlaskClient, terms: Story) -> None:
    page = _html(client, "/en/themes/work")
    assert '<link rel="alternate" hreflang="es" href="http://localhost/es/themes/trabajo">' in page
    assert '<link rel="alternate" hreflang="en" href="http://localhost/en/themes/work">' in page
    assert 'href="/es/themes/trabajo" hreflang="es"' in page  # the language switch
    spanish = _html(client, "/es/places/cdmx")
    assert 'href="/en/places/mexico-city" hreflang="en"' in spanish


def test_unknown_and_overlong_short_ids_are_not_found(client: FlaskClient, terms: Story) -> None:
    assert client.get("/en/themes/no-such-theme").status_code == 404
    assert client.get("/es/places/" + "a" * 3000).status_code == 404  # 5,000 is a 414 (request_line)


def test_a_term_whose_names_match_keeps_one_address(client: FlaskClient, make_story) -> None:
    chicago = Place(
        slug="chicago", name_es="Chicago", name_en="Chicago", country_code="US", level=PlaceLevel.CITY
    )
    db.session.add(chicago)
    make_story(places=[chicago])
    assert "Chicago" in _html(client, "/en/places/chicago")
    assert "Chicago" in _html(client, "/es/places/chicago")


def test_the_demo_archive_has_english_addresses_in_english(client: FlaskClient, app) -> None:
    demo.load()
    db.session.commit()
    english = {t.slug: t.slug_en for t in db.session.scalars(select(Theme))}
    assert english["trabajo"] == "work" and english["deportacion"] == "deportation"
    places = {p.slug: p.slug_en for p in db.session.scalars(select(Place))}
    assert places["cdmx"] == "mexico-city" and places["los-angeles"] == "los-angeles"
    page = _html(client, "/en/themes/")
    assert 'href="/en/themes/family"' in page and "/en/themes/familia" not in page


@pytest.mark.usefixtures("index")
def test_search_filters_take_either_short_id_and_facets_use_the_pages(
    client: FlaskClient, terms: Story, make_story
) -> None:
    make_story(title="Otra panadería", body="Otra historia de pan.")
    make_story(status=StoryStatus.PRIVATE, title="Pan privado", body="Pan.")
    english = _html(client, "/en/search?q=relato")
    assert "theme=work" in english and "place=mexico-city" in english
    assert "theme=trabajo" not in english
    spanish = _html(client, "/es/search?q=relato")
    assert "theme=trabajo" in spanish and "place=cdmx" in spanish
    for path in ("/en/search?q=relato&theme=work", "/en/search?q=relato&theme=trabajo"):
        filtered = _html(client, path)
        assert terms.public_id in filtered and "1 story found" in filtered, path
    api = client.get("/api/v1/search?q=relato&lang=en&place=mexico-city").get_json()
    assert [hit["id"] for hit in api["hits"]] == [terms.public_id]
    assert api["facets"]["place"] == [{"value": "cdmx", "count": 1, "label": "Mexico City"}]  # a stable key


def test_curators_set_and_keep_the_english_short_id(admin_client: FlaskClient, terms: Story) -> None:
    page = "/curate/admin/vocabularies"
    url = "/curate/admin/vocabularies/theme"
    assert 'lang="en">work</code>' in admin_client.get(page).get_data(as_text=True)
    made = post(
        admin_client, url, {"slug": "retorno", "name_es": "Retorno", "name_en": "Coming home"}, page=page
    )
    assert made.status_code == 302
    assert _theme("retorno").slug_en == "coming-home"
    renamed = post(
        admin_client, url, {"slug": "retorno", "name_es": "Retorno", "name_en": "Return"}, page=page
    )
    assert renamed.status_code == 302 and _theme("retorno").slug_en == "coming-home"  # addresses stay
    changed = post(
        admin_client,
        url,
        {"slug": "retorno", "slug_en": "return", "name_es": "Retorno", "name_en": "Return"},
        page=page,
    )
    assert changed.status_code == 302 and _theme("retorno").slug_en == "return"
    for clash in ({"slug": "retorno", "slug_en": "work"}, {"slug": "work", "slug_en": "labour"}):
        refused = post(
            admin_client,
            url,
            {**clash, "name_es": "X", "name_en": "X"},
            page=page,
            headers={"Accept-Language": "en"},
        )
        assert refused.status_code == 400
        assert "already leads to" in refused.get_data(as_text=True)
    bad = post(
        admin_client,
        url,
        {"slug": "retorno", "slug_en": "Not A Slug", "name_es": "R", "name_en": "R"},
        page=page,
    )
    assert bad.status_code == 400
    assert _theme("retorno").slug_en == "return" and _theme("retorno").name_en == "Return"
    assert db.session.scalar(select(Theme).where(Theme.slug == "work")) is None


def _theme(slug: str) -> Theme:
    found = db.session.scalar(select(Theme).where(Theme.slug == slug))
    assert found is not None
    return found
