"""M17: gunicorn with our config leaves no address or user agent anywhere.

Starts gunicorn on loopback with ``nuevonorte.gunicorn_config``, sends ordinary requests and a
contribution from a distinct loopback address (127.0.0.77) with ``X-Forwarded-For`` and a
unique user agent, plus a malformed request line; then greps gunicorn's output, the database
file, the media folder and the index folder for each of them.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from werkzeug.test import encode_multipart

from nuevonorte import create_app
from nuevonorte.extensions import db
from tests.contribute_fixtures import story_form
from tests.gunicorn_fixtures import app_settings, archive_env, gunicorn
from tests.support import require

CLIENT_ADDRESS = "127.0.0.77"
FORWARDED = "198.51.100.9"
AGENT = "M17-Unique-Agent-5b1e7c"


def _send(port: int, raw: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(CLIENT_ADDRESS, 0)) as s:
        s.sendall(raw)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _request(method: str, path: str, body: bytes = b"", content_type: str = "") -> bytes:
    head = [
        f"{method} {path} HTTP/1.1",
        "Host: 127.0.0.1",
        f"User-Agent: {AGENT}",
        f"X-Forwarded-For: {FORWARDED}",
        "Accept-Language: es",
        "Connection: close",
    ]
    if body:
        head += [f"Content-Type: {content_type}", f"Content-Length: {len(body)}"]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


@pytest.mark.timeout(90)
def test_m17_no_address_or_user_agent_in_logs_db_media_or_index(tmp_path: Path) -> None:
    try:
        with socket.socket() as probe:
            probe.bind((CLIENT_ADDRESS, 0))
    except OSError:
        require(False, "cannot bind a second loopback address")
    env = archive_env(tmp_path)
    database = tmp_path / "archive.sqlite3"
    media, index = Path(env["NUEVONORTE_MEDIA_DIR"]), Path(env["NUEVONORTE_INDEX_DIR"])
    app = create_app(app_settings(env))
    with app.app_context():
        db.create_all()
        db.engine.dispose()

    out, err = tmp_path / "gunicorn.out", tmp_path / "gunicorn.err"
    with out.open("wb") as stdout, err.open("wb") as stderr, gunicorn(env, 1, stdout, stderr) as port:
        assert b" 200 " in _send(port, _request("GET", "/es/"))[:20]
        boundary, body = encode_multipart(story_form())
        answer = _send(
            port,
            _request("POST", "/api/v1/contributions", body, f"multipart/form-data; boundary={boundary}"),
        )
        assert b" 201 " in answer[:20], answer[:300]
        assert b" 404 " in _send(port, _request("GET", "/xx/nothing"))[:20]
        # A malformed request line: gunicorn would log "Invalid request from ip=127.0.0.77".
        bad = _send(port, f"GET\x01 /x HTTP/1.1\r\nUser-Agent: {AGENT}\r\n\r\n".encode())
        assert b"400" in bad[:20]
        _send(port, b"NOT-HTTP\r\n\r\n")

    logs = out.read_bytes() + err.read_bytes()
    assert b"Invalid request" in logs  # the malformed lines were logged, without the address
    places = {"gunicorn output": logs, "database": database.read_bytes()}
    for folder in (media, index):
        for path in folder.rglob("*") if folder.exists() else []:
            if path.is_file():
                places[str(path)] = path.read_bytes()
    for needle in (CLIENT_ADDRESS, FORWARDED, AGENT):
        for where, data in places.items():
            assert needle.encode() not in data, f"{needle} found in {where}"
