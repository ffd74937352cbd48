"""Database engine behaviour: SQLite pragmas and explicit write transactions.

SQLite serialises writers. A transaction that reads and then writes can fail at once with
"database is locked" when another writer got in between, whatever the busy timeout; starting
write transactions with ``BEGIN IMMEDIATE`` makes them queue for the lock instead (see
SQLAlchemy's "Serializable isolation / Savepoints / Transactional DDL" recipe for pysqlite).
Requests with unsafe methods and CLI commands that write declare their intent with
``write_intent``; reads keep plain deferred transactions so readers never wait.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, g, request
from sqlalchemy import Engine, event

_write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=False)

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@contextmanager
def write_intent() -> Iterator[None]:
    """Start transactions opened inside this block as writers (``BEGIN IMMEDIATE`` on SQLite)."""
    token = _write_intent.set(True)
    try:
        yield
    finally:
        _write_intent.reset(token)


def configure_engine(engine: Engine, busy_timeout_ms: int = 10_000) -> None:
    """Install the SQLite pragmas and transaction mode on ``engine``; no-op for PostgreSQL."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself instead of the driver.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # FULL: an accepted story must survive power loss, not only a process crash.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")


def init_app(app: Flask) -> None:
    """Make the app's engine behave as above and mark unsafe requests as writers."""
    from nuevonorte.extensions import db

    with app.app_context():
        configure_engine(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])

    @app.before_request
    def _declare_writes() -> None:
        if request.method in UNSAFE_METHODS:
            g.write_intent_token = _write_intent.set(True)

    @app.teardown_request
    def _reset_writes(_exc: BaseException | None) -> None:
        token = g.pop("write_intent_token", None)
        if token is not None:
            _write_intent.reset(token)
