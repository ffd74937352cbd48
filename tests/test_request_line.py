"""Issue 14: a very long address (a search of 5,000 or 20,000 characters) gets the archive's own
414 page in the visitor's language — never a server's English page — through the app, Werkzeug's
server and gunicorn with our config alike; the search API answers in JSON, in its ``lang``.

One number decides (``nuevonorte.request_line.MAX_REQUEST_LINE``): gunicorn's line limit and the
app's own check agree to the byte, so a line is refused under every server or under none.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from urllib.parse import quote

import pytest
from flask.testing import FlaskClient

from nuevonorte import create_app
from nuevonorte.extensions import db
from nuevonorte.request_line import MAX_REQUEST_LINE
from tests.gunicorn_fixtures import app_settings, archive_env, gunicorn

TOO_LONG_EN = "Your search is too long to read"
GUNICORN_PAGE = b"URI Too Long</p></h1>"  # gunicorn's own page (util.write_error)
LENGTHS = (5_000, 20_000)


def _query(length: int) -> str:
    """A search of ``length`` characters, with accents (each one 6 bytes once encoded)."""
    return ("canción de la frontera " * (length // 23 + 1))[:length]


def _line(path: str, **args: str) -> str:
    return path + "?" + "&".join(f"{k}={quote(v)}" for k, v in args.items())


# --- through the app -----------------------------------------------------------------------


@pytest.mark.usefixtures("index")
@pytest.mark.parametrize("length", LENGTHS)
def test_search_page_too_long_is_a_localized_414(client: FlaskClient, length: int) -> None:
    response = client.get(_line("/en/search", q=_query(length)))
    html = response.get_data(as_text=True)
    assert response.status_code == 414
    assert TOO_LONG_EN in html and '<html lang="en">' in html
    assert 'id="site-search-q"' in html and 'value=""' in html  # the box, empty and ready
    spanish = client.get(_line("/es/search", q=_query(length)))
    assert spanish.status_code == 414
    assert '<html lang="es">' in spanish.get_data(as_text=True)


@pytest.mark.usefixtures("index")
@pytest.mark.parametrize("length", LENGTHS)
def test_search_api_too_long_answers_json_in_its_lang(client: FlaskClient, length: int) -> None:
    response = client.get(
        _line("/api/v1/search", lang="en", q=_query(length)), headers={"Accept-Language": "es"}
    )
    assert response.status_code == 414
    body = response.get_json()
    assert body["error"] == "too_long" and body["lang"] == "en"
    assert body["message"].startswith(TOO_LONG_EN)


def test_other_pages_and_the_contributions_api_too(client: FlaskClient) -> None:
    page = client.get(_line("/en/stories/abc", q=_query(5_000)))
    assert page.status_code == 414
    assert "This address is too long" in page.get_data(as_text=True)
    api = client.get(_line("/api/v1/contributions", q=_query(5_000)), headers={"Accept-Language": "en"})
    assert api.status_code == 414 and api.get_json()["error"] == "too_long"


@pytest.mark.usefixtures("index")
def test_the_limit_is_one_number(client: FlaskClient) -> None:
    """A line of exactly MAX_REQUEST_LINE bytes is read (a long search: its beginning is used);
    one byte more is refused, as gunicorn refuses it."""
    prefix = "GET /en/search?q="
    suffix = " HTTP/1.1"
    fits = "a" * (MAX_REQUEST_LINE - len(prefix) - len(suffix))
    read = client.get("/en/search?q=" + fits)
    assert read.status_code == 200
    assert "only its beginning was used" in read.get_data(as_text=True)
    assert client.get("/en/search?q=" + fits + "a").status_code == 414


# --- through Werkzeug's server (what the browser tests and `flask run` use) ------------------


@pytest.mark.usefixtures("index")
@pytest.mark.parametrize("length", LENGTHS)
def test_werkzeug_server(live_server: str, length: int) -> None:
    port = int(live_server.rsplit(":", 1)[1])
    status, body = _get(port, _line("/en/search", q=_query(length)))
    assert status == 414 and TOO_LONG_EN.encode() in body


# --- through gunicorn, with our config -------------------------------------------------------


def _get(port: int, target: str, accept_language: str = "") -> tuple[int, bytes]:
    """Send one GET with a raw request line (no client library shortens it); status and body."""
    head = [f"GET {target} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    if accept_language:
        head.append(f"Accept-Language: {accept_language}")
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(("\r\n".join(head) + "\r\n\r\n").encode("ascii"))
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    answer = b"".join(chunks)
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


@pytest.mark.timeout(120)
def test_gunicorn_answers_with_the_archives_page(tmp_path: Path) -> None:
    env = archive_env(tmp_path)
    app = create_app(app_settings(env))
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    out, err = tmp_path / "gunicorn.out", tmp_path / "gunicorn.err"
    with out.open("wb") as stdout, err.open("wb") as stderr, gunicorn(env, 1, stdout, stderr) as port:
        for length in LENGTHS:
            status, body = _get(port, _line("/en/search", q=_query(length)))
            assert (status, GUNICORN_PAGE in body) == (414, False), body[:300]
            assert TOO_LONG_EN.encode() in body and b'<html lang="en">' in body
            status, body = _get(port, _line("/es/search", q=_query(length)), accept_language="en")
            assert status == 414 and b'<html lang="es">' in body and b'id="site-search-q"' in body
            # The API: JSON, in the language of ``lang`` when it arrived before the cut.
            status, body = _get(port, _line("/api/v1/search", lang="en", q=_query(length)))
            data = json.loads(body)
            assert status == 414 and data["error"] == "too_long" and data["lang"] == "en"
            assert data["message"].startswith(TOO_LONG_EN)
            status, body = _get(port, _line("/en/about", q=_query(length)))
            assert status == 414 and b"This address is too long" in body
        # At the limit itself: read by gunicorn and the app alike; one byte more, refused by both.
        prefix, suffix = "GET /en/search?q=", " HTTP/1.1"
        fits = "/en/search?q=" + "a" * (MAX_REQUEST_LINE - len(prefix) - len(suffix))
        assert _get(port, fits)[0] == 503  # read: the app answers (this archive has no index)
        assert _get(port, fits + "a")[0] == 414
    logs = out.read_bytes() + err.read_bytes()
    assert b"Invalid request: " in logs and b"ip=" not in logs  # logged, without the address (M17)
