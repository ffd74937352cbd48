"""Database behaviour: SQLite pragmas, write transactions under contention, UTC timestamps."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from nuevonorte.database import write_intent
from nuevonorte.extensions import db
from nuevonorte.models import ActorKind, AuditEvent
from tests.conftest import POSTGRES_URL

sqlite_only = pytest.mark.skipif(bool(POSTGRES_URL), reason="SQLite-specific settings")


@sqlite_only
def test_sqlite_runs_in_wal_mode_with_a_busy_timeout_and_foreign_keys(app: Flask) -> None:
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_concurrent_read_then_write_transactions_never_see_database_is_locked(app: Flask) -> None:
    """F10: writers that read first queue for the lock instead of failing (BEGIN IMMEDIATE)."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def worker() -> None:
        with app.app_context(), write_intent():
            try:
                barrier.wait()
                for _ in range(10):
                    # Read, then write, in one transaction: the pattern that fails with a
                    # deferred BEGIN on SQLite as soon as another writer commits in between.
                    count = db.session.scalar(select(func.count(AuditEvent.id)))
                    db.session.add(
                        AuditEvent(
                            action=f"n{count}", object_type="test", object_id="x", actor_kind=ActorKind.SYSTEM
                        )
                    )
                    db.session.commit()
            except BaseException as e:
                errors.append(e)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert db.session.scalar(select(func.count(AuditEvent.id))) == 40


def test_timestamps_come_back_timezone_aware_in_utc(app: Flask) -> None:
    event = AuditEvent(action="a", object_type="t", object_id="x", actor_kind=ActorKind.SYSTEM)
    db.session.add(event)
    db.session.commit()
    db.session.expire_all()
    loaded = db.session.get(AuditEvent, event.id)
    assert loaded.at.tzinfo is not None and loaded.at.utcoffset().total_seconds() == 0
    assert abs((datetime.now(UTC) - loaded.at).total_seconds()) < 60


def test_naive_datetimes_are_refused(app: Flask) -> None:
    db.session.add(
        AuditEvent(
            action="a", object_type="t", object_id="x", actor_kind=ActorKind.SYSTEM, at=datetime(2026, 1, 1)
        )
    )
    with pytest.raises(Exception, match="naive datetime"):
        db.session.commit()
    db.session.rollback()
    assert db.session.execute(text("SELECT count(*) FROM audit_event")).scalar() == 0


@pytest.mark.parametrize(
    ("method", "writes"), [("POST", True), ("DELETE", True), ("GET", False), ("HEAD", False)]
)
def test_unsafe_requests_declare_write_transactions(app: Flask, method: str, writes: bool) -> None:
    from nuevonorte import database

    with app.test_request_context("/es/", method=method):
        app.preprocess_request()
        assert database._write_intent.get() is writes
        app.do_teardown_request()
        assert database._write_intent.get() is False
