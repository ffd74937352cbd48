"""Two real archives in one test process, talking HTTP to each other: A (the ``app`` fixture)
and its partner B, each with its own database, media folder, Whoosh index and job queue.
Requests between them go through httpx's own WSGI transport into the other Flask app (the same
client code that reaches a partner over the network), each in a fresh context as a server would
run it. A partner can be taken "down": its address then refuses connections."""

from __future__ import annotations

import contextvars
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from nuevonorte import create_app, search, stories
from nuevonorte.consent import ConsentChoices
from nuevonorte.database import write_intent
from nuevonorte.extensions import db
from nuevonorte.models import Story
from nuevonorte.partners.client import TRANSPORT
from nuevonorte.search import store
from tests.conftest import POSTGRES_URL, IsolatedClient, archive_settings

A_URL = "http://127.0.0.1:18001"
B_URL = "http://127.0.0.1:18002"
#: How long a partner story stays shown without confirmation in these tests.
CONFIRM_SECONDS = 3600


class Loopback(httpx.BaseTransport):
    """Routes each request to the archive at its origin; refuses what is down or unknown."""

    def __init__(self) -> None:
        self.apps: dict[str, httpx.WSGITransport] = {}
        self.down: set[str] = set()
        self.blocked_paths: set[str] = set()  # e.g. the notices endpoint: a push that never arrives
        # Called with each request's path after its answer is made and before it is returned
        # (what happens at the other end while an answer is on its way).
        self.meanwhile: Callable[[str], None] | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        origin = f"{request.url.scheme}://{request.url.host}:{request.url.port}"
        if origin in self.down or origin not in self.apps or request.url.path in self.blocked_paths:
            raise httpx.ConnectError("connection refused", request=request)
        request.read()
        answer = contextvars.Context().run(self.apps[origin].handle_request, request)
        answer.read()
        if self.meanwhile is not None:
            self.meanwhile(request.url.path)
        return answer


def published(word: str) -> Story:
    """A story told and published in the current archive, begun as a writer (other processes
    write too), whose title and text carry ``word``."""
    db.session.rollback()
    with write_intent():
        story = stories.submit(
            None,
            body=f"Crucé la frontera con {word}.",
            title=f"Relato {word}",
            language="es",
            choices=ConsentChoices(credit_name="Ana"),
            consent_language="es",
        )
        stories.publish(story, None)
        db.session.commit()
    return story


@dataclass
class Archives:
    a: Flask
    b: Flask
    net: Loopback
    roots: dict[str, Path] = field(default_factory=dict)

    @contextmanager
    def at_b(self) -> Iterator[None]:
        """Work in B's application (its database, index, queue)."""
        with self.b.app_context():
            try:
                yield
            finally:
                db.session.remove()


def partner_settings(tmp_path: Path, public_url: str) -> dict[str, Any]:
    return {
        "public_url": public_url,
        "partner_harvest_seconds": 1,
        "partner_confirm_seconds": CONFIRM_SECONDS,
        "partner_timeout_seconds": 5,
    }


@pytest.fixture
def partner_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """A's settings as a partner archive (before the ``app`` fixture builds it)."""
    app_config.update(partner_settings(tmp_path, A_URL))
    return app_config


@pytest.fixture
def second_database(tmp_path: Path, _sqlite_template: Path, _postgres_schema: None) -> Iterator[str]:
    """B's own database: a copy of the empty SQLite template, or a PostgreSQL database of its own."""
    with scratch_database(tmp_path, _sqlite_template, "b") as url:
        yield url


@contextmanager
def scratch_database(folder: Path, template: Path, name: str) -> Iterator[str]:
    """An empty database of its own: a copy of the SQLite template, or a new PostgreSQL database."""
    if not POSTGRES_URL:
        shutil.copyfile(template, folder / f"{name}.sqlite3")
        yield f"sqlite:///{folder / f'{name}.sqlite3'}"
        return
    scratch = f"nn_partner_{name}_{secrets.token_hex(4)}"
    server = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{scratch}"')
    try:
        yield make_url(POSTGRES_URL).set(database=scratch).render_as_string(hide_password=False)
    finally:
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        server.dispose()


def archive(folder: Path, database_url: str, public_url: str) -> Flask:
    """One archive whose files live under ``folder``, with its schema and built indexes."""
    app = create_app({**archive_settings(folder, database_url), **partner_settings(folder, public_url)})
    with app.app_context():
        if POSTGRES_URL:
            db.create_all()
        search.rebuild()
        db.session.remove()
    return app


def connect(a: Flask, b: Flask) -> Loopback:
    net = Loopback()
    net.apps = {A_URL: httpx.WSGITransport(app=a), B_URL: httpx.WSGITransport(app=b)}
    for each in (a, b):
        each.extensions[TRANSPORT] = net
        each.test_client_class = IsolatedClient  # each request in a context of its own
    return net


def close(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        store.forget_searchers()
        db.engine.dispose()


@contextmanager
def fresh_archives(folder: Path, template: Path) -> Iterator[Archives]:
    """A and B made anew under ``folder`` (for each example of a random walk)."""
    with scratch_database(folder, template, "a") as url_a, scratch_database(folder, template, "b") as url_b:
        a = archive(folder / "a", url_a, A_URL)
        b = archive(folder / "b", url_b, B_URL)
        try:
            yield Archives(a, b, connect(a, b), {"a": folder / "a" / "index", "b": folder / "b" / "index"})
        finally:
            close(b)
            close(a)


@pytest.fixture
def archives(
    partner_config: dict[str, Any], app: Flask, second_database: str, tmp_path: Path
) -> Iterator[Archives]:
    """A (the ``app`` fixture) and B, both with built indexes, able to reach each other."""
    root = tmp_path / "b"
    b = archive(root, second_database, B_URL)
    search.rebuild()
    yield Archives(app, b, connect(app, b), {"a": Path(app.config["INDEX_DIR"]), "b": root / "index"})
    close(b)
    store.forget_searchers()
