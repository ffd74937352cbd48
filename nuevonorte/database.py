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
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, g, request
from sqlalchemy import Engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

_write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=False)

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def upsert(model: Any, dialect: str) -> Any:
    """An INSERT into ``model``'s table that can say ON CONFLICT, in ``dialect`` (the engine's
    ``dialect.name``): both databases the archive runs on have it, in the same words."""
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)


@contextmanager
def write_intent() -> Iterator[None]:
    """Start transactions opened inside this block as writers (``BEGIN IMMEDIATE`` on SQLite)."""
    token = _write_intent.set(True)
    try:
        yield
    finally:
        _write_intent.reset(token)


@contextmanager
def write_transaction() -> Iterator[None]:
    """A writer's transaction of its own, for background work between network waits: whatever
    transaction the session still holds (a read after the last commit) is ended first, and the
    next begins as a writer. A read begun before ``write_intent`` would otherwise be upgraded
    at its first write, and on SQLite fail at once with "database is locked" when another
    process wrote since it began."""
    from nuevonorte.extensions import db

    db.session.rollback()
    with write_intent():
        yield


@contextmanager
def reading() -> Iterator[None]:
    """Start transactions opened inside this block as readers (plain ``BEGIN``), even inside a
    writing request: for a read that must not hold the write lock during long work after it."""
    token = _write_intent.set(False)
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
        # For the archive's user only (SQLite gives a new -wal and -shm the file's permissions).
        for suffix in ("", "-wal", "-shm", "-journal"):
            path = f"{engine.url.database}{suffix}"
            if engine.url.database and os.path.exists(path):
                os.chmod(path, 0o600)
        # Let SQLAlchemy's "begin" event issue BEGIN itself instead of the driver.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # FULL: an accepted story must survive power loss, not only a process crash.
        cursor.execute("PRAGMA synchronous=FULL")
        # Overwrite deleted content with zeros: a withdrawn story leaves no text in free pages.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")


_CHECKPOINT = "nn_checkpoint_after_commit"


def checkpoint_after_commit(session: Session) -> None:
    """After this transaction commits, copy the WAL into the database file and empty it.

    A withdrawal's old text sits in the ``-wal`` file until a checkpoint; with
    ``secure_delete`` the main file holds none, and a ``TRUNCATE`` checkpoint leaves the WAL
    empty (T04). No-op on PostgreSQL (docs/security.md says what remains there).
    """
    if session.get_bind().dialect.name == "sqlite":
        session.info[_CHECKPOINT] = True


@event.listens_for(Session, "after_commit")
def _checkpoint(session: Session) -> None:
    engine = session.get_bind().engine
    if session.info.pop(_CHECKPOINT, False) and not checkpoint_now(engine, CHECKPOINT_WAIT_MS):
        # A reader held an old snapshot; the next withdrawal or `nuevonorte check` finishes it.
        log.warning("the WAL could not be emptied after a withdrawal (readers active); retried later")


#: How long a withdrawal's request waits for readers to let the WAL be emptied. Longer would make
#: the person wait behind any long read; what is left is finished by the next withdrawal or check.
CHECKPOINT_WAIT_MS = 200


def checkpoint_now(engine: Engine, wait_ms: int | None = None) -> bool:
    """Empty the SQLite WAL; True when done or not SQLite. ``wait_ms`` bounds the wait for
    readers (the connection's busy timeout by default)."""
    if engine.dialect.name != "sqlite":
        return True
    raw = engine.raw_connection()
    cursor = raw.cursor()
    try:
        if wait_ms is not None:
            before = cursor.execute("PRAGMA busy_timeout").fetchone()[0]
            cursor.execute(f"PRAGMA busy_timeout={int(wait_ms)}")
        try:
            busy, _log, _done = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            if wait_ms is not None:
                cursor.execute(f"PRAGMA busy_timeout={int(before)}")
    finally:
        raw.close()
    return not busy


@event.listens_for(Session, "after_rollback")
def _no_checkpoint(session: Session) -> None:
    session.info.pop(_CHECKPOINT, None)


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
