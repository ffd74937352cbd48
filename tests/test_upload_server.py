"""Uploads against real servers over real sockets: U09 (connection closed mid-body) and F01
(gunicorn worker SIGKILLed mid-image-processing; its replacement sweeps its temporary files).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from nuevonorte import create_app
from nuevonorte.extensions import db
from nuevonorte.storage import Storage
from tests import media_samples
from tests.conftest import TEST_SECRET
from tests.contribute_fixtures import nothing_stored, story_form
from tests.support import require

PROJECT = Path(__file__).parent.parent
BOUNDARY = "U09bOuNdArY"
TYPED = "Lo que escribí antes de que se cortara la señal"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _exchange(port: int, head: bytes, body: bytes, close_write: bool = False) -> bytes:
    """Send a request; with ``close_write`` the client stops sending (FIN) and still reads the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(head + body)
        if close_write:
            s.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _get_form(port: int) -> tuple[str, str]:
    """The session cookie and CSRF token of the English form, fetched like a browser would."""
    answer = _exchange(
        port, b"GET /en/contribute HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", b""
    )
    cookie = re.search(rb"Set-Cookie: ([^;\r\n]+)", answer)
    token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', answer)
    assert cookie and token, answer[:500]
    return cookie.group(1).decode(), token.group(1).decode()


def _truncated_post(port: int, cookie: str, token: str) -> bytes:
    """Text fields complete, then half a photo; Content-Length promises more; the client stops."""
    fields = story_form(body=TYPED, csrf_token=token)
    body = b"".join(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    )
    body += (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="photos"; filename="foto.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode() + media_samples.jpeg()[:300]
    head = (
        "POST /en/contribute HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        f"Cookie: {cookie}\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {len(body) + 50_000}\r\n\r\n"
    ).encode()
    return _exchange(port, head, body, close_write=True)


def _assert_incomplete_page(answer: bytes) -> None:
    status, _, rest = answer.partition(b"\r\n")
    assert b" 400 " in status, answer[:300]
    html = rest.decode()
    assert "did not arrive complete" in html
    assert TYPED in html  # the typed text is back in the form


def test_connection_closed_mid_body_on_the_live_server_U09(app, live_server) -> None:
    """U09 over a real socket (Werkzeug's threaded server): 400, text kept, nothing stored."""
    port = int(live_server.rsplit(":", 1)[1])
    cookie, token = _get_form(port)
    _assert_incomplete_page(_truncated_post(port, cookie, token))
    nothing_stored(app)


def test_missing_closing_boundary_in_spanish_keeps_text_and_choices_U09(app, client) -> None:
    """Raw bytes through the test client: the Spanish page, the typed text and the person's
    choices come back; the files part is dropped whole; the daily quota is not touched (U20)."""
    from tests.contribute_fixtures import csrf_token

    token = csrf_token(client, "/es/contribute")
    fields = story_form(title="Mi título", body=TYPED, credit="anonymous", credit_name="", csrf_token=token)
    body = b"".join(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    )
    body += (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="audio"; filename="voz.wav"\r\n\r\n'
    ).encode() + media_samples.wav()  # complete bytes, but no closing boundary ever comes
    response = client.post(
        "/es/contribute", data=body, content_type=f"multipart/form-data; boundary={BOUNDARY}"
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "no llegó completo" in html
    assert TYPED in html and 'value="Mi título"' in html
    assert re.search(r'value="anonymous"[^>]*checked|checked[^>]*value="anonymous"', html)
    with client.session_transaction() as session:
        assert "upload_quota" not in session
    nothing_stored(app)


# --- gunicorn -----------------------------------------------------------------------------


class Gunicorn:
    """gunicorn with our config on loopback, one worker, on a SQLite file and a media folder."""

    def __init__(self, tmp: Path) -> None:
        gunicorn = Path(sys.executable).parent / "gunicorn"
        require(gunicorn.exists() or shutil.which("gunicorn") is not None, "gunicorn is not installed")
        self.executable = str(gunicorn if gunicorn.exists() else shutil.which("gunicorn"))
        self.database, self.media, self.log = tmp / "db.sqlite3", tmp / "media", tmp / "gunicorn.log"
        config = tmp / "config.toml"
        config.write_text("")
        self.env = {
            **os.environ,
            "NUEVONORTE_CONFIG": str(config),
            "NUEVONORTE_SECRET_KEY": TEST_SECRET,
            "NUEVONORTE_DATABASE_URL": f"sqlite:///{self.database}",
            "NUEVONORTE_MEDIA_DIR": str(self.media),
            "NUEVONORTE_INDEX_DIR": str(tmp / "index"),
            "NUEVONORTE_LEDGER_PATH": str(tmp / "withdrawals.ledger"),
        }
        self.app = create_app(
            {
                "TESTING": True,
                "secret_key": TEST_SECRET,
                "database_url": self.env["NUEVONORTE_DATABASE_URL"],
                "media_dir": str(self.media),
            }
        )
        with self.app.app_context():
            db.create_all()
            db.engine.dispose()
        self.storage = Storage(self.media)
        self.storage.ensure()
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    def start(self) -> None:
        self.port = _free_port()
        env = {**self.env, "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{self.port} --workers 1"}
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [self.executable, "-c", "python:nuevonorte.gunicorn_config", "nuevonorte:create_app()"],
                env=env,
                stdout=log,
                stderr=log,
                cwd=PROJECT,
            )
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                assert self.proc.poll() is None and time.monotonic() < deadline, self.log.read_text()
                time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)
        self.proc = None

    def worker_pid(self) -> int:
        assert self.proc is not None
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid:
                return int(stat.parent.name)
        raise AssertionError("no gunicorn worker")

    def rows(self, table: str) -> int:
        with sqlite3.connect(self.database) as conn:
            return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


@pytest.fixture
def gunicorn(tmp_path: Path) -> Iterator[Gunicorn]:
    server = Gunicorn(tmp_path)
    try:
        yield server
    finally:
        server.stop()


def _holders(folder: Path) -> dict[int, set[str]]:
    """Which processes hold which files of ``folder`` open (read from /proc)."""
    found: dict[int, set[str]] = {}
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        try:
            for fd in fd_dir.iterdir():
                target = os.readlink(fd)
                if target.startswith(str(folder) + "/"):
                    found.setdefault(int(fd_dir.parent.name), set()).add(target)
        except OSError:
            continue
    return found


@pytest.mark.timeout(180)
def test_connection_closed_mid_body_on_gunicorn_U09(gunicorn: Gunicorn) -> None:
    """U09 over a real socket to gunicorn (the production server): same answer, nothing stored."""
    gunicorn.start()
    cookie, token = _get_form(gunicorn.port)
    _assert_incomplete_page(_truncated_post(gunicorn.port, cookie, token))
    assert gunicorn.rows("story") == 0 and gunicorn.rows("media_file") == 0
    assert [p for p in gunicorn.media.rglob("*") if p.is_file()] == []


@pytest.mark.timeout(180)
def test_worker_killed_mid_image_processing_then_restart_sweeps_F01_T08(gunicorn: Gunicorn) -> None:
    """SIGKILL the worker while the sandbox decodes a 12 MP photo: no row; its temporary files
    are removed at once by the replacement worker — and only them, not one still held open."""
    storage = gunicorn.storage
    kept = storage.put_bytes(media_samples.jpeg(), "jpg")  # a stored file: never swept
    fresh = storage.temp_file()  # held open (locked): an upload in progress in another server
    fresh.write(b"an upload in progress in another server")
    fresh.flush()
    with storage.temp_file() as old:
        old.write(b"left by a crash a moment ago")

    gunicorn.start()
    assert not Path(old.name).exists(), "on_starting did not sweep"
    assert Path(fresh.name).exists() and storage.verify(kept)
    assert "Removed 1 temporary file(s)" in gunicorn.log.read_text()

    photo = io.BytesIO()
    Image.radial_gradient("L").resize((4000, 3000)).convert("RGB").save(photo, "JPEG", quality=92)
    boundary, body = encode_multipart(
        story_form(photos=FileStorage(io.BytesIO(photo.getvalue()), "foto.jpg"))
    )
    head = (
        f"POST /api/v1/contributions HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    answers: list[bytes | BaseException] = []

    def send() -> None:
        try:
            answers.append(_exchange(gunicorn.port, head, body))
        except OSError as e:
            answers.append(e)

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    worker = gunicorn.worker_pid()
    temp = gunicorn.media / ".tmp"
    deadline = time.monotonic() + 90
    while not any(pid not in (worker, os.getpid()) for pid in _holders(temp)):  # the sandbox decodes it
        assert time.monotonic() < deadline and not answers, f"never caught mid-processing: {answers}"
        time.sleep(0.005)
    os.kill(worker, signal.SIGKILL)
    sender.join(timeout=60)
    assert answers and not (isinstance(answers[0], bytes) and b" 201 " in answers[0][:20])

    # The replacement worker removes the killed worker's temporary files at once (they hold the
    # raw upload, metadata included); the orphaned sandbox child may still write into one it had
    # open, which then vanishes with it. Nothing else is touched.
    deadline = time.monotonic() + 90
    while [p for p in storage.temp_files() if p.name != Path(fresh.name).name]:
        assert time.monotonic() < deadline, "the killed worker's temporary files stay"
        time.sleep(0.1)
    # The replacement worker says so in the log, once it has removed them (it writes the line
    # after the files are gone, so wait for it). How many files depends on how far the sandbox
    # got; that none is left but the other upload's is asserted below.
    deadline = time.monotonic() + 30
    while len(re.findall(r"Removed [1-9]\d* temporary file\(s\)", gunicorn.log.read_text())) < 2:
        assert time.monotonic() < deadline, gunicorn.log.read_text()
        time.sleep(0.1)
    assert gunicorn.rows("story") == 0 and gunicorn.rows("media_file") == 0  # nothing half-saved
    assert sorted(storage.keys()) == [kept] and storage.verify(kept)
    assert storage.temp_files() == [Path(fresh.name)]
    deadline = time.monotonic() + 90
    while any(pid != os.getpid() for pid in _holders(temp)):  # the orphaned child ends on its own
        assert time.monotonic() < deadline, "a process still holds a temporary file"
        time.sleep(0.1)
    fresh.close()
