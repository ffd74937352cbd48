"""The database, dumped consistently while the archive serves, and loaded back.

SQLite: the online backup API copies the database into a file (readers and writers go on).
PostgreSQL: ``pg_dump --format=custom`` run on a snapshot this module exports
(``pg_export_snapshot``), so that the storage keys read here are exactly those of the dump. The
URL's credentials reach ``pg_dump`` and ``pg_restore`` through their environment, never their
command line (which any user of the machine can read in ``ps``).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, inspect, select, text
from sqlalchemy.engine import URL

from nuevonorte.backups import BackupError
from nuevonorte.models.media import KEY_COLUMNS


@dataclass(frozen=True)
class Dumped:
    """A dump written to a file, with what the snapshot it was taken on references."""

    kind: str
    revision: str | None
    keys: set[str]


def dump(engine: Engine, target: Path) -> Dumped:
    """Write a consistent copy of the database to ``target`` (plaintext: the caller encrypts
    it and removes it)."""
    if engine.dialect.name == "sqlite":
        return _dump_sqlite(str(engine.url.database), target)
    return _dump_postgres(engine, target)


def _dump_sqlite(path: str, target: Path) -> Dumped:
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        source.close()
    copy.close()
    engine = create_engine(f"sqlite:///{target}")
    try:
        with engine.connect() as conn:
            return Dumped("sqlite", _revision(conn), _keys(conn))
    finally:
        engine.dispose()


def _dump_postgres(engine: Engine, target: Path) -> Dumped:
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
        snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        revision, keys = _revision(conn), _keys(conn)
        _run(["pg_dump", "--format=custom", f"--snapshot={snapshot}", "--file", str(target)], engine.url)
        conn.rollback()
    return Dumped("postgresql", revision, keys)


def _revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _keys(conn: Connection) -> set[str]:
    """Every storage key a row of this database names."""
    keys: set[str] = set()
    for row in conn.execute(select(*KEY_COLUMNS)):
        keys.update(k for k in row if k)
    return keys


def load(engine: Engine, source: Path, kind: str) -> None:
    """Replace the (empty) database's content with the dump at ``source``."""
    if kind != engine.dialect.name:
        raise BackupError(f"the backup holds a {kind} database; this deployment uses {engine.dialect.name}")
    engine.dispose()
    if kind == "sqlite":
        dump_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        target = sqlite3.connect(str(engine.url.database))
        try:
            dump_db.backup(target)
        finally:
            dump_db.close()
            target.close()
        return
    with engine.begin() as conn:
        # The deployment is empty (checked): what an `init` made there goes, the dump brings all.
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    _run(
        [
            "pg_restore",
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            "--dbname",
            str(engine.url.database),
            str(source),
        ],
        engine.url,
    )
    engine.dispose()


def _run(command: list[str], url: URL) -> None:
    """Run a PostgreSQL client with the URL's connection settings in its environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    settings = {
        "PGHOST": url.host,
        "PGPORT": str(url.port) if url.port else None,
        "PGUSER": url.username,
        "PGPASSWORD": url.password,
        "PGDATABASE": url.database,
    }
    env.update({k: str(v) for k, v in settings.items() if v})
    for name, value in url.query.items():  # sslmode=require and the like
        if isinstance(value, str):
            env[f"PG{name.upper()}"] = value
    try:
        # A fixed program and arguments built here; no shell.
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    except FileNotFoundError:
        raise BackupError(f"{command[0]} is not installed (the PostgreSQL client tools)") from None
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        raise BackupError(f"{command[0]} failed: {lines[0] if lines else f'exit {done.returncode}'}")
