"""Sharing a page: canonical address, Open Graph and Twitter cards, absolute hreflang alternates,
all built from the configured public address and never from the request's Host (A24)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from nuevonorte.consent import ConsentChoices
from nuevonorte.extensions import db
from nuevonorte.models import Collection, CollectionEntry, CollectionStatus, EntryKind, Story
from nuevonorte.models.base import today
from tests.public.media_factory import add_image

SITE = "https://archivo.example.org"


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """The archive as deployed: a public address, and the page cache on."""
    return {**app_config, "public_url": SITE + "/", "PUBLIC_PAGE_CACHE_SECONDS": 30}


def _page(client: FlaskClient, path: str, **kw: Any) -> str:
    response = client.get(path, **kw)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def _meta(page: str, key: str) -> str | None:
    """The content of the <meta> whose property or name is ``key``."""
    found = re.search(rf'<meta (?:property|name)="{re.escape(key)}" content="([^"]*)">', page)
    return found.group(1) if found else None


def _links(page: str, rel: str) -> list[tuple[str, str]]:
    """(hreflang or "", href) of every <link rel=``rel``>."""
    found = re.findall(rf'<link rel="{rel}"(?: hreflang="([^"]+)")? href="([^"]+)"', page)
    return [(lang, href) for lang, href in found]


def _alternates(path: str) -> list[tuple[str, str]]:
    rest = path.split("/", 2)[2]
    return [("es", f"{SITE}/es/{rest}"), ("en", f"{SITE}/en/{rest}"), ("x-default", f"{SITE}/es/{rest}")]


@pytest.fixture
def photo_story(make_story) -> Story:
    story = make_story(
        title="La noche que llegamos",
        title_en="The night we arrived",
        summary_es="Un regreso de noche.",
        summary_en="A return at night.",
        choices=ConsentChoices(credit_name="Rosa", photos_public=True),
        content_warnings="violence",
    )
    add_image(story)
    db.session.commit()
    return story


@pytest.mark.parametrize("lang", ["es", "en"])
def test_story_page_is_shared_under_its_canonical_address(
    client: FlaskClient, photo_story: Story, lang: str
) -> None:
    path = f"/{lang}/stories/{photo_story.public_id}"
    page = _page(client, f"{path}?show=1&t=3&utm_source=x")
    canonical = SITE + path
    assert _links(page, "canonical") == [("", canonical)]
    assert _meta(page, "og:url") == canonical
    assert _links(page, "alternate") == _alternates(path)
    assert _meta(page, "og:title") == ("La noche que llegamos" if lang == "es" else "The night we arrived")
    assert _meta(page, "og:description") == ("Un regreso de noche." if lang == "es" else "A return at night.")
    image = photo_story.media[0]
    assert _meta(page, "og:image") == f"{SITE}/media/{image.public_id}/display"
    # The display copy is 960x640; the original (the row's width and height) is 1200x800.
    assert (_meta(page, "og:image:width"), _meta(page, "og:image:height")) == ("960", "640")
    assert _meta(page, "og:image:type") == "image/jpeg"
    assert _meta(page, "twitter:card") == "summary_large_image"
    assert _meta(page, "twitter:image") == f"{SITE}/media/{image.public_id}/display"
    assert _meta(page, "twitter:title") == _meta(page, "og:title")
    assert _meta(page, "twitter:image:alt") == _meta(page, "og:image:alt") != ""
    assert "?show" not in page.split("</head>")[0] and "utm_source" not in page


def test_story_without_a_public_photo_gets_a_summary_card(client: FlaskClient, make_story) -> None:
    story = make_story(
        title="Sin fotos públicas", choices=ConsentChoices(credit_name="A", photos_public=False)
    )
    hidden = add_image(story)
    db.session.commit()
    page = _page(client, f"/en/stories/{story.public_id}")
    assert _meta(page, "twitter:card") == "summary"
    assert _meta(page, "og:image") is None and _meta(page, "twitter:image") is None
    assert hidden.public_id not in page


@pytest.fixture
def markdown_collection(make_story) -> Collection:
    story = make_story(title="Un relato de vuelta", summary_es="Volvimos en **tren**.")
    collection = Collection(
        title_es="Regresos",
        title_en="Returns",
        intro_es="Personas que **regresaron** a _casa_, con [sus voces](https://x.org).\n\n- una\n- dos",
        intro_en="People who **returned** _home_, in [their voices](https://x.org).\n\n- one\n- two",
        status=CollectionStatus.PUBLISHED,
        published_on=today(),
        entries=[CollectionEntry(position=0, kind=EntryKind.STORY, story=story)],
    )
    db.session.add(collection)
    db.session.commit()
    return collection


@pytest.mark.parametrize(
    ("lang", "plain"),
    [
        ("es", "Personas que regresaron a casa, con sus voces. una dos"),
        ("en", "People who returned home, in their voices. one two"),
    ],
)
def test_collection_page_and_home_card_show_plain_text(
    client: FlaskClient, markdown_collection: Collection, lang: str, plain: str
) -> None:
    path = f"/{lang}/collections/{markdown_collection.public_id}"
    page = _page(client, path)
    assert _links(page, "canonical") == [("", SITE + path)]
    assert _links(page, "alternate") == _alternates(path)
    assert _meta(page, "og:description") == _meta(page, "twitter:description") == plain
    assert _meta(page, "twitter:card") == "summary"
    # The introduction itself is still rendered as Markdown on the page.
    assert "<strong>" in page
    home = _page(client, f"/{lang}/")
    assert plain in home
    assert "**regresaron**" not in home and "**returned**" not in home and "](https" not in home
    # A story's summary is the narrator's plain words: shown exactly as written.
    assert "Volvimos en **tren**." in home


@pytest.mark.parametrize("lang", ["es", "en"])
def test_home_and_static_pages_have_canonical_and_alternates(client: FlaskClient, lang: str) -> None:
    for path in (f"/{lang}/", f"/{lang}/about", f"/{lang}/how-it-works"):
        page = _page(client, path + "?utm_campaign=x")
        assert _links(page, "canonical") == [("", SITE + path)], path
        assert _links(page, "alternate") == _alternates(path), path
    home = _page(client, f"/{lang}/")
    assert _meta(home, "og:url") == f"{SITE}/{lang}/"
    assert _meta(home, "twitter:card") == "summary"
    assert _meta(home, "og:locale") == ("es_MX" if lang == "es" else "en_US")
    assert _meta(home, "og:locale:alternate") == ("en_US" if lang == "es" else "es_MX")


def test_paged_lists_keep_only_their_page_number_in_the_canonical_address(
    client: FlaskClient, make_story
) -> None:
    from nuevonorte.models import Theme

    theme = Theme(slug="t", name_es="T", name_en="T")
    db.session.add(theme)
    for n in range(25):
        make_story(title=f"R{n}", themes=[theme])
    page = _page(client, "/en/themes/t?page=2&t=4&show=1")
    assert _links(page, "canonical") == [("", f"{SITE}/en/themes/t?page=2")]
    assert ("x-default", f"{SITE}/es/themes/t?page=2") in _links(page, "alternate")
    first = _page(client, "/en/themes/t?page=1")
    assert _links(first, "canonical") == [("", f"{SITE}/en/themes/t")]


def test_a24_a_foreign_host_cannot_poison_the_page_cache(client: FlaskClient, photo_story: Story) -> None:
    """A24: one request with a foreign Host is refused, and the next cookie-less visitor gets
    the configured address in every absolute URL."""
    path = f"/es/stories/{photo_story.public_id}?show=1"
    foreign = client.get(path, headers={"Host": "evil.example"})
    assert foreign.status_code == 400
    assert "evil.example" not in foreign.get_data(as_text=True)
    for host in (None, "archivo.example.org", "archivo.example.org:443"):
        page = _page(client, path, headers={"Host": host} if host else {})
        assert "evil.example" not in page and "http://localhost" not in page
        assert _meta(page, "og:url") == f"{SITE}/es/stories/{photo_story.public_id}"


@pytest.mark.parametrize("lang", ["es", "en"])
def test_a24_refused_host_gets_a_localized_400_never_a_500(client: FlaskClient, lang: str) -> None:
    accept = {"Accept-Language": lang}
    for method, path in (
        ("GET", f"/{lang}/"),
        ("GET", "/"),
        ("POST", f"/{lang}/contribute"),
        ("GET", "/robots.txt"),
        # Refused before any other check (here the NUL one, A23) could build a page without it.
        ("GET", f"/{lang}/?page=%00"),
        ("GET", "/nope%00"),
    ):
        response = client.open(path, method=method, headers={"Host": "evil.example", **accept})
        assert response.status_code == 400, (method, path)
        body = response.get_data(as_text=True)
        assert f'<html lang="{lang}">' in body
        if lang == "en":
            assert "This address is not the archive&#39;s" in body
        assert "evil.example" not in body and "Set-Cookie" not in response.headers
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    api = client.get("/api/v1/search?q=x", headers={"Host": "evil.example"})
    assert api.status_code == 400 and api.get_json()["error"] == "bad_request"


def test_a24_without_a_public_address_only_the_machine_itself_is_served(make_app, make_story) -> None:
    """The embedded default (``make run``): localhost and 127.0.0.1 work, and links use them."""
    app = make_app(public_url="")
    client = app.test_client()
    for host in ("localhost", "127.0.0.1:5000"):
        page = _page(client, "/en/about", headers={"Host": host})
        assert _links(page, "canonical") == [("", f"http://{host}/en/about")]
    assert client.get("/en/about", headers={"Host": "archivo.example.org"}).status_code == 400


def test_a24_in_debug_any_host_is_served_but_never_shares_cached_pages(make_app) -> None:
    """In debug mode (a developer's phone on the LAN) hosts are not checked: without a public
    address the links follow the host, and the page cache keeps each host's pages apart."""
    app = make_app(public_url="", debug=True)
    client = app.test_client()
    assert (
        _meta(_page(client, "/es/", headers={"Host": "evil.example"}), "og:url") == "http://evil.example/es/"
    )
    assert _meta(_page(client, "/es/"), "og:url") == "http://localhost/es/"
    configured = make_app(debug=True).test_client()
    assert _meta(_page(configured, "/es/", headers={"Host": "evil.example"}), "og:url") == f"{SITE}/es/"


def test_plain_text_keeps_the_words_of_markdown_and_nothing_else() -> None:
    from nuevonorte.rich_text import plain_text

    assert plain_text("# Título\n\n**Negritas**, _cursiva_ y `código` &amp; [enlace](https://x.org)") == (
        "Título Negritas, cursiva y código & enlace"
    )
    assert (
        plain_text("> cita\n>\n> otra línea\n\n1. uno\n2. dos\n\n```\nbloque\n```")
        == "cita otra línea uno dos bloque"
    )
    assert plain_text("<script>alert(1)</script> 5 * 3") == "<script>alert(1)</script> 5 * 3"
    assert plain_text("") == ""
