"""The first page: language redirect, home in each language, demo content through the consent rule."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from nuevonorte import demo
from nuevonorte.extensions import db


@pytest.fixture
def demo_archive(app):
    demo.load()
    db.session.commit()


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("en-US,en;q=0.9", "/en/"),
        ("es-MX,es;q=0.9", "/es/"),
        ("", "/es/"),
        ("fr, de", "/es/"),
        ("<script>", "/es/"),
        ("en;q=0.1, es;q=0.9", "/es/"),
    ],
)
def test_root_redirects_by_accept_language(client: FlaskClient, accept: str, expected: str) -> None:
    response = client.get("/", headers={"Accept-Language": accept})
    assert response.status_code == 302
    assert response.headers["Location"] == expected


@pytest.mark.parametrize(
    ("lang", "heading", "collection"),
    [
        ("es", "Archivo Nuevo Norte", "Regresar: relatos de vuelta (demostración)"),
        ("en", "Nuevo Norte archive", "Coming back: stories of return (demo)"),
    ],
)
def test_home_shows_published_demo_content_in_each_language(
    client: FlaskClient, demo_archive: None, lang: str, heading: str, collection: str
) -> None:
    page = client.get(f"/{lang}/").get_data(as_text=True)
    assert f'<html lang="{lang}">' in page
    assert heading in page
    assert collection in page
    # Published, public, not embargoed:
    assert ("La panadería de mi tía" if lang == "es" else "My aunt&#39;s bakery") in page
    # Embargoed until 2030, waiting for review, and curators-only stories stay hidden:
    for hidden in ("mochila", "backpack", "The night shift", "abuela", "grandmother"):
        assert hidden not in page


def test_english_only_story_falls_back_to_its_original_title_in_spanish(
    client: FlaskClient, demo_archive: None
) -> None:
    assert "Learning Spanish again" in client.get("/es/").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/fr/", "/xx/", "/es-MX/", "/%3Cscript%3E/"])
def test_unknown_language_prefix_is_a_localized_404(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "<script>" not in response.get_data(as_text=True)


def test_language_switch_leads_to_the_same_page_in_the_other_language(client: FlaskClient) -> None:
    assert 'href="/en/" hreflang="en"' in client.get("/es/").get_data(as_text=True)
    assert 'href="/es/" hreflang="es"' in client.get("/en/").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/es/", "/", "/nope"])
def test_security_headers_on_every_response(client: FlaskClient, path: str) -> None:
    headers = client.get(path).headers
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"


def test_a_same_origin_https_form_post_passes_csrf_in_a_browser_like_request(
    app, client: FlaskClient
) -> None:
    """Browsers send a same-origin Referer under our policy; Flask-WTF's HTTPS check needs it."""
    from flask import Blueprint
    from flask_wtf import FlaskForm

    probe = Blueprint("probe", __name__)

    @probe.route("/probe", methods=["GET", "POST"])
    def form() -> str:
        f = FlaskForm()
        return "ok" if f.validate_on_submit() else f.csrf_token._value()

    app.register_blueprint(probe)
    token = client.get("/probe", base_url="https://localhost").get_data(as_text=True)
    no_referer = client.post("/probe", data={"csrf_token": token}, base_url="https://localhost")
    assert no_referer.status_code == 400  # what a no-referrer policy would cause for everyone
    same_origin = client.post(
        "/probe",
        data={"csrf_token": token},
        base_url="https://localhost",
        headers={"Referer": "https://localhost/probe"},
    )
    assert same_origin.get_data(as_text=True) == "ok"
