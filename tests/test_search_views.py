"""The public search page and JSON API: results, snippets, facets, pages, bad input (M18)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nuevonorte.extensions import db
from nuevonorte.models import Place, PlaceLevel, Story, StoryStatus, Theme
from nuevonorte.request_line import MAX_REQUEST_LINE

pytestmark = pytest.mark.usefixtures("index")


@pytest.fixture
def archive(make_story: Callable[..., Story]) -> dict[str, Story]:
    theme = Theme(slug="deportacion", name_es="Deportación", name_en="Deportation")
    tijuana = Place(
        slug="tijuana", name_es="Tijuana", name_en="Tijuana", country_code="MX", level=PlaceLevel.CITY
    )
    phoenix = Place(
        slug="phoenix", name_es="Phoenix", name_en="Phoenix", country_code="US", level=PlaceLevel.CITY
    )
    db.session.add_all([theme, tijuana, phoenix])
    made = {
        "tj": make_story(
            title="Deportado a Tijuana",
            body="Me deportaron a Tijuana una madrugada. <script>alert(1)</script> No conocía a nadie.",
            themes=[theme],
            places=[tijuana],
            period_start=2008,
            period_end=2011,
        ),
        "px": make_story(
            title="Trabajo en Phoenix",
            body="Trabajé diez años en Phoenix antes de que me deportaran.",
            places=[phoenix],
            language="es",
            period_start=1995,
        ),
        "private": make_story(status=StoryStatus.PRIVATE, title="Deportado en secreto", body="Deportado."),
    }
    for i in range(12):
        make_story(title=f"Frontera {i}", body=f"Cruzar la frontera, relato número {i}.")
    return made


def test_page_shows_results_snippets_and_facets(client: FlaskClient, archive: dict[str, Story]) -> None:
    response = client.get("/es/search?q=deportado")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert archive["tj"].public_id in html and archive["px"].public_id in html
    assert archive["private"].public_id not in html
    assert "<mark" in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "Deportación (1)" in html  # theme facet with its count, in Spanish
    assert 'lang="es"' in html


def test_filters_combine_with_the_query(client: FlaskClient, archive: dict[str, Story]) -> None:
    data = client.get("/api/v1/search?q=deportado&lang=es&place=tijuana").get_json()
    assert [h["id"] for h in data["hits"]] == [archive["tj"].public_id]
    data = client.get("/api/v1/search?q=deportado&lang=es&decade=1990s").get_json()
    assert [h["id"] for h in data["hits"]] == [archive["px"].public_id]
    data = client.get("/api/v1/search?q=deportado&lang=es&theme=deportacion").get_json()
    assert data["total"] == 1
    facets = {f: {v["value"]: v["count"] for v in vs} for f, vs in data["facets"].items()}
    assert facets["country"] == {"mx": 1} and facets["decade"]["2010s"] == 1


def test_api_json_shape_and_english(client: FlaskClient, archive: dict[str, Story]) -> None:
    data = client.get("/api/v1/search?q=tijuana&lang=en").get_json()
    assert data["total"] == 1
    hit = data["hits"][0]
    assert hit["url"] == f"/en/stories/{archive['tj'].public_id}"
    assert set(hit) >= {"id", "title", "snippet", "cues", "themes", "url"}
    assert hit["themes"] == ["Deportation"]


def test_pagination(client: FlaskClient, archive: dict[str, Story]) -> None:
    first = client.get("/api/v1/search?q=frontera&lang=es").get_json()
    assert first["total"] == 12 and first["pages"] == 1
    page1 = client.get("/es/search?q=frontera").get_data(as_text=True)
    assert "Página 1 de 2" in page1 or "Page 1 of 2" in page1
    page2 = client.get("/es/search?q=frontera&page=2")
    assert page2.status_code == 200
    late = client.get("/api/v1/search?q=frontera&lang=es&page=999").get_json()
    assert late["problem"] == "page-out-of-range" and late["page"] == 1 and len(late["hits"]) == 12


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   ",
        "a" * 3000,
        "deportado " * 300,
        "a" * 5000,
        "deportado " * 600,
        '"',
        '"familia',
        "*",
        "depor*",
        "title_es:deportado",
        "deportado AND",
        "AND OR NOT",
        "((tijuana",
        "tijuana)",
        "[a TO z]",
        "^2 ~ \\",
        "%00",
        "\x00\x01",
        "🙂🙂",
        "<script>alert(1)</script>",
    ],
)
def test_bad_queries_never_500(client: FlaskClient, archive: dict[str, Story], query: str) -> None:
    """M18: stray syntax, huge and empty queries give results or a message, never a 500; a NUL,
    which PostgreSQL cannot compare, is a clear 400 (A23); an address longer than any server
    reads, a localized 414 (issue 14: tests/test_request_line.py)."""
    expected = 400 if "\x00" in query else 414 if len(query) > MAX_REQUEST_LINE else 200
    for url in ("/es/search", "/api/v1/search"):
        response = client.get(url, query_string={"q": query, "lang": "es"})
        assert response.status_code == expected, (url, query)
        if url == "/es/search":
            assert "<script>alert" not in response.get_data(as_text=True)


def test_empty_query_says_what_to_do(client: FlaskClient, archive: dict[str, Story]) -> None:
    html = client.get("/es/search?q=").get_data(as_text=True)
    assert "Escribe una palabra" in html
    html = client.get("/en/search?q=").get_data(as_text=True)
    assert "Type a word" in html


def test_invalid_utf8_and_bad_filters(client: FlaskClient, archive: dict[str, Story]) -> None:
    response = client.get("/es/search?q=%ff%fe%c3&theme=%ff")
    assert response.status_code == 200
    data = client.get("/api/v1/search?q=tijuana&theme=..%2F..%2Fetc&page=-3&lang=xx").get_json()
    assert data["problem"] == "bad-filter" and data["total"] == 1 and data["lang"] == "es"
    data = client.get("/api/v1/search?q=tijuana&theme=no-such-theme").get_json()
    assert data["total"] == 0 and data["hits"] == []
    assert client.get("/fr/search?q=x").status_code == 404


def test_did_you_mean_on_the_page(client: FlaskClient, archive: dict[str, Story]) -> None:
    html = client.get("/es/search?q=tijuanna").get_data(as_text=True)
    assert "tijuana" in html and "¿Quisiste decir" in html


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=300))
def test_any_text_never_500(client: FlaskClient, make_story: Callable[..., Story], text: str) -> None:
    """Hypothesis: arbitrary text in q never gives a 500 on the page or the API (a NUL is a 400: A23)."""
    for url in ("/en/search", "/api/v1/search"):
        response = client.get(url, query_string={"q": text})
        assert response.status_code == (400 if "\x00" in text else 200)
