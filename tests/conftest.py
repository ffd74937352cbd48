"""Shared fixtures: a real database (SQLite file, or PostgreSQL from the environment), real
media folders, and factories that build archive content through the domain layer."""

from __future__ import annotations

import contextvars
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from nuevonorte import create_app, stories
from nuevonorte.consent import ConsentChoices
from nuevonorte.extensions import db
from nuevonorte.models import Base, CuratorAccount, Role, Story, StoryStatus, Visibility
from nuevonorte.search import common_words

TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"


def _database_of_this_worker(url: str) -> str:
    """Under pytest-xdist each worker gets a PostgreSQL database of its own (``<name>_gw0``...),
    created on first use; the worker's environment names it, so processes the tests start use
    it too."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    base = make_url(url)
    mine = base.set(database=f"{base.database}_{worker}").render_as_string(hide_password=False)
    os.environ["NUEVONORTE_DATABASE_URL"] = mine
    return mine


POSTGRES_URL = _database_of_this_worker(os.environ.get("NUEVONORTE_DATABASE_URL", ""))

# Fixtures every test module may ask for by name: a real browser (live_server, page, viewport),
# the curators' workspace (curator, admin, signed-in clients), the search index, media ingest,
# and backup deployments.
pytest_plugins = [
    "tests.browser",
    "tests.curate_fixtures",
    "tests.search_fixtures",
    "tests.media_fixtures",
    "tests.backup_fixtures",
    "tests.partner_fixtures",
    "tests.redis_server",
    "tests.s3_server",
]


@pytest.fixture(autouse=True)
def _every_word_common(monkeypatch: pytest.MonkeyPatch) -> None:
    """A rebuild takes every word of the public texts it samples as common (an archive
    needs fifty stories sharing a word before): pairs of common words (decision 0034) are
    indexed, matched and purged in every test that rebuilds after writing stories, the
    lifecycle walk's included. ``test_search_pairs`` asks for the real thresholds."""
    monkeypatch.setattr(common_words, "MIN_SHARED", 1)
    monkeypatch.setattr(common_words, "SHARE", 0.0)
    monkeypatch.setattr(common_words, "MOST", 10**6)


@pytest.fixture(autouse=True, scope="session")
def _isolated_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Never read a developer's instance/config.toml during tests."""
    empty = tmp_path_factory.mktemp("config") / "config.toml"
    empty.write_text("")
    old = os.environ.get("NUEVONORTE_CONFIG")
    os.environ["NUEVONORTE_CONFIG"] = str(empty)
    # Applications a test builds without ``app_config`` keep their ledger out of instance/.
    os.environ.setdefault("NUEVONORTE_LEDGER_PATH", str(empty.parent / "withdrawals.ledger"))
    # ... and their job queue (nuevonorte.jobs) too.
    os.environ.setdefault("NUEVONORTE_QUEUE_PATH", str(empty.parent / "jobs.sqlite3"))
    yield
    if old is None:
        os.environ.pop("NUEVONORTE_CONFIG", None)
    else:
        os.environ["NUEVONORTE_CONFIG"] = old


@pytest.fixture(scope="session")
def _postgres_schema() -> Iterator[None]:
    """On PostgreSQL, build the schema once per run; tests empty the tables afterwards."""
    if not POSTGRES_URL:
        yield
        return
    url = make_url(POSTGRES_URL)
    name = url.database
    server = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        if conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}) is None:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    server.dispose()
    app = create_app({"TESTING": True, "secret_key": TEST_SECRET, "database_url": POSTGRES_URL})
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.create_all()
        db.engine.dispose()
    yield


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty SQLite database with the schema, built once and copied for each test."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    app = create_app({"TESTING": True, "secret_key": TEST_SECRET, "database_url": f"sqlite:///{path}"})
    with app.app_context():
        db.create_all()
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        db.engine.dispose()
    return path


@pytest.fixture
def database_url(tmp_path: Path, _postgres_schema: None, _sqlite_template: Path) -> str:
    """The database the test app uses: PostgreSQL when configured, else a fresh SQLite file."""
    if POSTGRES_URL:
        return POSTGRES_URL
    shutil.copyfile(_sqlite_template, tmp_path / "test.sqlite3")
    return f"sqlite:///{tmp_path / 'test.sqlite3'}"


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """A brand-new empty database: a SQLite file, or a scratch PostgreSQL database."""
    if not POSTGRES_URL:
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    name = f"nn_migrations_{secrets.token_hex(4)}"
    server = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.dispose()


def archive_settings(folder: Path, database_url: str) -> dict[str, Any]:
    """``create_app`` settings for an archive whose files live under ``folder``."""
    return {
        "TESTING": True,
        "secret_key": TEST_SECRET,
        "database_url": database_url,
        "media_dir": str(folder / "media"),
        "index_dir": str(folder / "index"),
        "ledger_path": str(folder / "ledger" / "withdrawals.ledger"),
        "queue_path": str(folder / "jobs.sqlite3"),
    }


@pytest.fixture
def app_config(tmp_path: Path, database_url: str) -> dict[str, Any]:
    """Overrides for ``create_app``; tests may change them before using ``app``."""
    return archive_settings(tmp_path, database_url)


@pytest.fixture
def app(app_config: dict[str, Any]) -> Iterator[Flask]:
    """An application with an empty, migrated-equivalent database and empty media folder."""
    app = create_app(app_config)
    with app.app_context():
        yield app
        db.session.remove()
        if POSTGRES_URL:
            _empty_tables()
        db.engine.dispose()
    shutil.rmtree(app_config["media_dir"], ignore_errors=True)


def _empty_tables() -> None:
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


class IsolatedClient(FlaskClient):
    """A test client whose requests each get a fresh app context, session and ``g``.

    The ``app`` fixture keeps an app context open for the test's own database work; without
    this, Flask would reuse it for requests and hide state leaking from one request to the
    next, which a real server never shares.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client for ``app``; see ``IsolatedClient``."""
    app.test_client_class = IsolatedClient
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """A CLI runner for ``app``'s commands."""
    return app.test_cli_runner()


@pytest.fixture
def make_curator(app: Flask) -> Callable[..., CuratorAccount]:
    """Factory: a committed curator (or admin) account."""
    from nuevonorte.accounts import create_curator

    counter = iter(range(1, 10_000))

    def make(role: Role = Role.CURATOR, password: str = "correct horse battery") -> CuratorAccount:
        account = create_curator(f"curator{next(counter)}@example.org", password, role)
        db.session.commit()
        return account

    return make


@pytest.fixture
def make_story(app: Flask) -> Callable[..., Story]:
    """Factory: a committed story with consent ``choices``, brought to ``status``."""

    def make(
        status: StoryStatus = StoryStatus.PUBLISHED,
        choices: ConsentChoices | None = None,
        body: str = "Texto del relato.",
        title: str = "Un relato",
        language: str = "es",
        embargo_until: date | None = None,
        **fields: Any,
    ) -> Story:
        choices = choices or ConsentChoices(credit_name="Ana", embargo_until=embargo_until)
        # A story can only be published under public consent; narrower choices are then
        # recorded by the contributor, as happens when someone changes their mind.
        first = choices
        if status == StoryStatus.PUBLISHED:
            first = replace(choices, visibility=Visibility.PUBLIC, embargo_until=None)
        story = stories.submit(
            None, body=body, title=title, language=language, choices=first, consent_language="es"
        )
        for name, value in fields.items():
            setattr(story, name, value)
        if status == StoryStatus.PUBLISHED:
            stories.publish(story, None)
            if first != choices:
                stories.change_consent(story, choices, language="es")
        elif status == StoryStatus.PRIVATE:
            stories.keep_private(story, None)
        elif status == StoryStatus.REJECTED:
            stories.reject(story, None)
        elif status == StoryStatus.WITHDRAWN:
            stories.withdraw(story)
        db.session.commit()
        return story

    return make
