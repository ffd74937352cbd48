"""Staff search inside /curate: every state but withdrawn, status facet, cues, faults (A05, F07, M18)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from nuevonorte import stories
from nuevonorte.consent import ConsentChoices
from nuevonorte.extensions import db
from nuevonorte.models import Story, StoryStatus, Visibility
from nuevonorte.request_line import MAX_REQUEST_LINE
from tests.curate_fixtures import post
from tests.search_fixtures import add_transcribed_audio

pytestmark = pytest.mark.usefixtures("index")

WORD = "zapotal"


@pytest.fixture
def archive(make_story: Callable[..., Story]) -> dict[str, Story]:
    made = {
        "submitted": make_story(
            status=StoryStatus.SUBMITTED, title="Llegada", body=f"El {WORD} de mi abuela."
        ),
        "private": make_story(
            status=StoryStatus.PRIVATE,
            choices=ConsentChoices(visibility=Visibility.CURATORS),
            title="Secreto",
            body=f"Un {WORD} escondido.",
        ),
        "published": make_story(title="Publicado", body=f"El {WORD} del pueblo."),
        "withdrawn": make_story(title="Retirado", body=f"Otro {WORD} retirado."),
    }
    stories.withdraw(made["withdrawn"])
    db.session.commit()
    return made


def ids_in(html: str, archive: dict[str, Story]) -> set[str]:
    return {name for name, story in archive.items() if story.public_id in html}


def test_staff_search_finds_unpublished_and_private_not_withdrawn(
    curator_client: FlaskClient, client: FlaskClient, archive: dict[str, Story]
) -> None:
    """M19: submitted and private stories are found by staff search (not by public search);
    a withdrawn story is found by neither. Results link to the review page, status in words."""
    response = curator_client.get(f"/curate/search?q={WORD}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert ids_in(html, archive) == {"submitted", "private", "published"}
    assert f'href="/curate/stories/{archive["private"].public_id}"' in html
    assert "Esperando revisión" in html and "Privado" in html  # status in plain words (es)
    assert "<mark" in html
    public = client.get(f"/es/search?q={WORD}").get_data(as_text=True)
    assert ids_in(public, archive) == {"published"}


def test_status_in_plain_words_and_status_filter(
    curator_client: FlaskClient, archive: dict[str, Story]
) -> None:
    """The status facet has counts and links that add the filter; the filter narrows results."""
    post(curator_client, "/curate/language", {"lang": "en", "next": "/curate/"})
    html = curator_client.get(f"/curate/search?q={WORD}").get_data(as_text=True)
    assert "Waiting for review" in html and "Kept private" in html and "Published" in html
    assert f'href="/curate/search?q={WORD}&amp;status=private"' in html
    assert "Kept private (1)" in html
    filtered = curator_client.get(f"/curate/search?q={WORD}&status=private").get_data(as_text=True)
    assert ids_in(filtered, archive) == {"private"}
    assert 'aria-current="true"' in filtered
    only = curator_client.get("/curate/search?status=submitted").get_data(as_text=True)
    assert ids_in(only, archive) == {"submitted"}


def test_published_stories_say_what_the_public_sees(
    curator_client: FlaskClient, make_story: Callable[..., Story]
) -> None:
    """Issue 14: a published story narrowed to curators, or under an embargo, is not labelled
    plain "Published": the label says what the public sees today (from ``consent.standing``)."""
    word = "mezquital"
    public = make_story(title="Abierta", body=f"El {word} abierto.")
    narrowed = make_story(
        title="Cerrada",
        body=f"El {word} cerrado.",
        choices=ConsentChoices(visibility=Visibility.CURATORS, credit_name="Ana"),
    )
    embargoed = make_story(title="Esperando", body=f"El {word} que espera.", embargo_until=date(2031, 3, 9))
    post(curator_client, "/curate/language", {"lang": "en", "next": "/curate/"})
    html = curator_client.get(f"/curate/search?q={word}").get_data(as_text=True)
    labels = {
        public_id: label
        for public_id, label in re.findall(
            r'href="/curate/stories/([^"]+)".*?<p class="status">[^<]*<strong>([^<]+)</strong>', html, re.S
        )
    }
    assert labels == {
        public.public_id: "Published — public",
        narrowed.public_id: "Published — curators only",
        embargoed.public_id: "Published — embargoed until March 9, 2031",
    }
    review = curator_client.get(f"/curate/stories/{narrowed.public_id}").get_data(as_text=True)
    assert "Published — curators only" in review


def test_transcript_cue_found_with_its_time(
    curator_client: FlaskClient, make_story: Callable[..., Story]
) -> None:
    """A word said in a recording is found, shown with the cue's time and highlighted text."""
    story = make_story(status=StoryStatus.SUBMITTED, title="Grabación", body="Texto sin la palabra.")
    add_transcribed_audio(
        story, [(2000, "Empezamos.", False), (95000, "Llegamos a Mexicali de noche.", False)]
    )
    html = curator_client.get("/curate/search?q=mexicali").get_data(as_text=True)
    assert story.public_id in html
    assert '<time datetime="PT95S">1:35</time>' in html
    assert ">Mexicali</mark>" in html


def test_a05_anonymous_is_sent_to_sign_in_and_sees_nothing(
    client: FlaskClient, archive: dict[str, Story]
) -> None:
    """A05: without signing in, staff search redirects to sign-in and shows no result."""
    response = client.get(f"/curate/search?q={WORD}")
    assert response.status_code in (302, 303)
    assert "/curate/sign-in" in response.headers["Location"]
    body = response.get_data(as_text=True)
    assert not ids_in(body, archive) and "Secreto" not in body


def test_admin_can_search_and_nav_link_on_every_page(
    admin_client: FlaskClient, archive: dict[str, Story]
) -> None:
    for url in ("/curate/", "/curate/collections", f"/curate/stories/{archive['submitted'].public_id}"):
        html = admin_client.get(url).get_data(as_text=True)
        assert 'href="/curate/search"' in html, url
    assert admin_client.get(f"/curate/search?q={WORD}").status_code == 200


def test_empty_query_is_a_friendly_prompt(curator_client: FlaskClient, archive: dict[str, Story]) -> None:
    response = curator_client.get("/curate/search")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Escribe una palabra" in html or "Type a word" in html
    assert not ids_in(html, archive)


@pytest.mark.parametrize(
    "q",
    [
        '"',
        '"zapotal',
        "zapotal*",
        "*",
        "title:zapotal",
        ":",
        "status:private",
        "a" * 3000,
        "a" * 5000,
        "(()",
        "\x00zapotal",
    ],
    ids=[
        "quote",
        "open-quote",
        "star-suffix",
        "star",
        "field",
        "colon",
        "field2",
        "3000",
        "5000",
        "parens",
        "nul",
    ],
)
def test_m18_bad_queries_give_results_or_a_message(
    curator_client: FlaskClient, archive: dict[str, Story], q: str
) -> None:
    """M18: query syntax and huge input never cause a 500: results, or a clear message (for a NUL,
    which PostgreSQL cannot compare, the bad-input page: A23)."""
    response = curator_client.get("/curate/search", query_string={"q": q, "status": "../x", "page": "-3"})
    html = response.get_data(as_text=True)
    if "\x00" in q:
        assert response.status_code == 400
        return
    if len(q) > MAX_REQUEST_LINE:  # longer than any server reads: a localized 414 (issue 14)
        assert response.status_code == 414 and 'lang="es"' in html
        return
    assert response.status_code == 200
    assert 'role="status"' in html


def test_bad_page_and_filter_values(curator_client: FlaskClient, archive: dict[str, Story]) -> None:
    html = curator_client.get(f"/curate/search?q={WORD}&page=99999&theme=%3Cb%3E").get_data(as_text=True)
    assert "<b>" not in html
    assert "Uno de los filtros no era válido" in html or "One of the filters" in html
    # A page past any listing cannot exist (A23).
    assert curator_client.get(f"/curate/search?q={WORD}&page=999999999").status_code == 404


@pytest.mark.parametrize(
    "lang,words", [("es", "La búsqueda no está disponible"), ("en", "Search is temporarily unavailable")]
)
def test_f07_index_deleted_gives_localized_503(
    app: Flask, curator_client: FlaskClient, archive: dict[str, Story], lang: str, words: str
) -> None:
    """F07: index deleted -> 503 with a localized message; other curator pages keep working."""
    post(curator_client, "/curate/language", {"lang": lang, "next": "/curate/"})
    shutil.rmtree(Path(app.config["INDEX_DIR"]))
    response = curator_client.get(f"/curate/search?q={WORD}")
    assert response.status_code == 503
    html = response.get_data(as_text=True)
    assert words in html and f'lang="{lang}"' in html
    assert not ids_in(html, archive)
    assert curator_client.get("/curate/").status_code == 200
    assert curator_client.get(f"/curate/stories/{archive['private'].public_id}").status_code == 200


@pytest.mark.parametrize(
    "lang,heading", [("es", "Buscar en todas las historias"), ("en", "Search all stories")]
)
def test_both_interface_languages_render(
    curator_client: FlaskClient, archive: dict[str, Story], lang: str, heading: str
) -> None:
    post(curator_client, "/curate/language", {"lang": lang, "next": "/curate/"})
    html = curator_client.get(f"/curate/search?q={WORD}").get_data(as_text=True)
    assert heading in html and f'lang="{lang}"' in html
