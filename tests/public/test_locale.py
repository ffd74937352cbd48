"""Locale handling: URL prefixes rule public pages; nothing a visitor sends is reflected (A16, A18, A19)."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from nuevonorte.public.language import safe_next

GARBAGE = ["../../x", "<script>alert(1)</script>", "xx", "es-MX", "en_US", "' onmouseover='x", "\x00"]


@pytest.mark.parametrize("value", GARBAGE)
@pytest.mark.parametrize("lang", ["es", "en"])
def test_a18_lang_query_and_cookies_never_override_the_url_language(
    client: FlaskClient, value: str, lang: str
) -> None:
    client.set_cookie("lang", value)
    client.set_cookie("locale", value)
    response = client.get(f"/{lang}/", query_string={"lang": value, "locale": value})
    page = response.get_data(as_text=True)
    assert response.status_code == (400 if "\x00" in value else 200)  # a NUL is bad input (A23)
    assert f'<html lang="{lang}">' in page
    if value not in ("xx", "es-MX", "en_US"):
        assert value not in page


@pytest.mark.parametrize(
    "accept", ["<script>", "../../etc/passwd;q=1", "zz-ZZ", "*", "en;q=abc", "es;q=0, en;q=0", "é" * 300]
)
def test_a18_garbage_accept_language_falls_back_to_spanish(client: FlaskClient, accept: str) -> None:
    response = client.get("/no-such-page/here", headers={"Accept-Language": accept})
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert '<html lang="es">' in page
    assert "No encontramos" in page or "Página" in page or "página" in page
    assert "<script>" not in page and "etc/passwd" not in page


@pytest.mark.parametrize("path", ["/fr/", "/EN/", "/es-MX/stories/x", "/..%2fes/", "/%3Cscript%3E/about"])
def test_a18_unknown_prefix_is_404_and_not_reflected(client: FlaskClient, path: str) -> None:
    response = client.get(path, headers={"Accept-Language": "en"})
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert '<html lang="en">' in page
    assert "<script>" not in page and "EN/" not in page


def test_error_pages_outside_a_prefix_follow_accept_language(client: FlaskClient) -> None:
    assert '<html lang="en">' in client.get("/nope/x", headers={"Accept-Language": "en-GB"}).get_data(
        as_text=True
    )
    assert '<html lang="es">' in client.get("/nope/x", headers={"Accept-Language": "es-MX"}).get_data(
        as_text=True
    )


def _token(client: FlaskClient) -> str:
    """A valid CSRF token bound to ``client``'s session, as a form on the site would carry it."""
    from flask import session as live
    from flask_wtf.csrf import generate_csrf

    with client.application.test_request_context():
        token = generate_csrf()
        with client.session_transaction() as stored:
            stored.update(live)
    return token


def test_language_choice_is_remembered_for_pages_without_a_prefix(client: FlaskClient) -> None:
    token = _token(client)
    response = client.post("/language", data={"lang": "en", "next": "/nope/x", "csrf_token": token})
    assert response.status_code == 303
    assert response.headers["Location"] == "/nope/x"
    page = client.get("/nope/x", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert '<html lang="en">' in page
    # The URL still rules where there is a prefix.
    assert '<html lang="es">' in client.get("/es/").get_data(as_text=True)


def test_a16_language_choice_without_a_csrf_token_is_refused(client: FlaskClient) -> None:
    response = client.post("/language", data={"lang": "en", "next": "/"})
    assert response.status_code == 400
    page = client.get("/nope/x", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert '<html lang="es">' in page
    assert client.get("/language", query_string={"lang": "en"}).status_code in (308, 404, 405)
    assert '<html lang="es">' in client.get("/nope/x").get_data(as_text=True)


@pytest.mark.parametrize("value", ["fr", "../../x", "<script>", ""])
def test_a18_unknown_language_choice_is_400_and_not_reflected(client: FlaskClient, value: str) -> None:
    token = _token(client)
    response = client.post("/language", data={"lang": value, "next": "/", "csrf_token": token})
    assert response.status_code == 400
    assert "<script>" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "\\\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "evil.example",
        "",
    ],
)
def test_a19_language_choice_redirects_only_to_same_site_paths(client: FlaskClient, target: str) -> None:
    token = _token(client)
    response = client.post("/language", data={"lang": "en", "next": target, "csrf_token": token})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_a19_safe_next_keeps_relative_paths_with_queries() -> None:
    assert safe_next("/curate/stories?page=2") == "/curate/stories?page=2"
    assert safe_next("/es/stories/abc#t") == "/es/stories/abc#t"


def test_language_switch_and_hreflang_point_to_the_same_page(client: FlaskClient, demo_archive) -> None:
    for path in ("/es/about", "/es/themes/", "/es/places/tijuana", "/es/how-it-works"):
        page = client.get(path).get_data(as_text=True)
        other = "/en/" + path.split("/", 2)[2]
        # Alternates are absolute (on the request's host here: no public_url is configured).
        assert f'<link rel="alternate" hreflang="en" href="http://localhost{other}">' in page
        assert f'<link rel="alternate" hreflang="es" href="http://localhost{path}">' in page
        assert f'<link rel="alternate" hreflang="x-default" href="http://localhost{path}">' in page
        assert re.search(rf'<a href="{re.escape(other)}" hreflang="en" lang="en">English</a>', page)


@pytest.mark.parametrize(("lang", "number"), [("es", "1.234"), ("en", "1,234")])
def test_numbers_and_dates_are_formatted_per_locale(app, lang: str, number: str) -> None:
    from datetime import date

    from flask import g

    from nuevonorte.public.content import month_year
    from nuevonorte.public.presentation import format_number

    with app.test_request_context(f"/{lang}/"):
        g.lang = lang
        assert format_number(1234) == number
        assert month_year(date(2026, 11, 3)) == ("noviembre de 2026" if lang == "es" else "November 2026")


def test_a16_pages_without_a_prefix_offer_a_csrf_protected_language_form(app, client: FlaskClient) -> None:
    """A page outside /<lang>/ (as /curate will be) switches language through the POST form."""
    from flask import render_template

    app.add_url_rule("/_plain", "plain", lambda: render_template("base.html"))
    page = client.get("/_plain?x=1", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert '<html lang="es">' in page
    assert 'action="/language"' in page and 'name="lang" value="en"' in page
    assert 'name="next" value="/_plain?x=1"' in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/language", data={"lang": "en", "next": "/_plain?x=1", "csrf_token": token})
    assert response.headers["Location"] == "/_plain?x=1"
    page = client.get("/_plain", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert '<html lang="en">' in page and 'name="lang" value="es"' in page


def test_language_switch_keeps_page_number_and_start_time_but_nothing_else(
    client: FlaskClient, demo_archive
) -> None:
    page = client.get("/es/themes/familia?page=1&t=12&evil=%22%3E%3Cscript%3E").get_data(as_text=True)
    # The English page of the theme, at its English short id.
    assert 'href="/en/themes/family?page=1&amp;t=12" hreflang="en"' in page
    assert "evil" not in page
