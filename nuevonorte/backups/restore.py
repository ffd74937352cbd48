"""``nuevonorte restore SRC --identity FILE``: a snapshot into an empty deployment.

Everything is read, decrypted into a staging folder beside the media files and checked against
the manifest (both sha256 sums and sizes of every file) *before* anything changes; a backup that
is damaged, cut short, another archive's, not encrypted to this identity, or from a newer schema
is refused with one line. Then: the database is loaded, the media files are moved into place,
the schema is migrated to this version's head, the withdrawal ledger is replayed (so a backup
taken before a withdrawal never brings the story back: docs/security.md T07) and the search
indexes are rebuilt. Only then is the deployment usable.
"""

from __future__ import annotations

import secrets
import shutil
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyrage
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from flask import current_app
from sqlalchemy import func, inspect, select

from nuevonorte import ledger, search
from nuevonorte.backups import BackupError, RestoreRefused, age, dump, layout
from nuevonorte.backups.layout import Dest, FileEntry, Manifest
from nuevonorte.config import PROJECT_DIR
from nuevonorte.extensions import db
from nuevonorte.storage import KEY_PATTERN, TEMP_DIR, get_storage

STAGING_PREFIX = "restore-"


class RestoreFailed(Exception):
    """The restore stopped after the deployment began to change; the message says what to do."""


@dataclass(frozen=True)
class Restored:
    """What a restore brought back."""

    snapshot: str
    objects: int
    replayed: int
    public: int
    staff: int
    missing: int


def replay_ledger() -> int:
    """Make again, through the domain layer, every withdrawal ledger entry the restored database
    lacks (``nuevonorte.ledger.replay``); raises ``ledger.LedgerError`` when it cannot."""
    try:
        return ledger.replay()
    finally:
        # replay() leaves its last read (BEGIN IMMEDIATE on SQLite) open when nothing was pending;
        # end it, or the search rebuild's writer waits for it.
        db.session.remove()


def restored_older_copy() -> None:
    """What a restored (older) database must not believe: that partners confirmed their stories
    since (each is hidden until its feed is read again from the start, ``partners.holdings``),
    and that the change feed's numbers only grew (a new epoch tells partners to read it again
    from 0, ``changes.new_epoch``)."""
    from nuevonorte import changes
    from nuevonorte.database import write_transaction
    from nuevonorte.partners import holdings

    with write_transaction():
        holdings.forget_confirmations()
        changes.new_epoch()
        db.session.commit()


def ledger_file() -> Path:
    """The configured withdrawal ledger file."""
    return ledger.path()


def restore(
    src: Path, identity: Path, snapshot: str | None = None, config_out: Path | None = None
) -> Restored:
    """Restore ``snapshot`` (the newest by default) of the backup folder ``src``."""
    keys = age.identities(identity)
    folder = Dest(src.absolute())
    name, manifest = _choose(folder, snapshot, keys)
    _refuse_unless_restorable(manifest)
    storage = get_storage()
    storage.ensure()
    _remove_stale_staging(storage.root / TEMP_DIR)
    staging = storage.root / TEMP_DIR / f"{STAGING_PREFIX}{secrets.token_hex(8)}"
    staging.mkdir(mode=stat.S_IRWXU)
    try:
        snap = folder.snapshots / name
        _stage(snap / layout.CONFIG, manifest.config, staging / "config.toml", keys)
        _stage(snap / layout.DATABASE, manifest.database, staging / "database", keys)
        for entry in manifest.objects:
            path = folder.object_path(entry.name, entry.cipher_sha256)
            _stage(path, entry, staging / entry.key, keys, what=f"media object {entry.name[:12]}")
        # --- everything is checked: from here on the deployment changes -------------------
        try:
            dump.load(db.engine, staging / "database", manifest.database_kind)
            for entry in manifest.objects:
                storage.put_file(
                    staging / entry.key, entry.key.split(".", 1)[1], digest=entry.key[:64], sync_folder=False
                )
            storage.sync_folders([e.key for e in manifest.objects])
            _migrate()
            replayed = replay_ledger()
            restored_older_copy()
            public, staff = _rebuild_search()
        except (BackupError, CommandError, OSError, search.RebuildFailed, ledger.LedgerError) as e:
            raise RestoreFailed(f"{e}; the deployment is incomplete: empty it and restore again") from e
        if config_out is not None:
            shutil.copyfile(staging / "config.toml", config_out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Restored(name, len(manifest.objects), replayed, public, staff, len(manifest.missing))


def _choose(folder: Dest, snapshot: str | None, keys: list[Any]) -> tuple[str, Manifest]:
    names = folder.snapshot_names()
    if not names:
        raise RestoreRefused(f"{folder.root} holds no finished backup")
    if snapshot is not None and snapshot not in names:
        raise RestoreRefused(f"{folder.root} holds no finished snapshot named {snapshot!r}")
    name = snapshot or names[-1]
    try:
        data = (folder.snapshots / name / layout.MANIFEST).read_bytes()
    except FileNotFoundError:
        raise RestoreRefused(f"snapshot {name} has no manifest: it is not a complete backup") from None
    try:
        plain = age.decrypt_bytes(data, keys)
    except pyrage.DecryptError as e:
        if "No matching keys" in str(e):
            raise RestoreRefused(f"snapshot {name} is not encrypted to this identity (wrong key?)") from None
        raise RestoreRefused(f"the manifest of snapshot {name} is damaged") from None
    except OSError:
        raise RestoreRefused(f"the manifest of snapshot {name} is damaged") from None
    try:
        manifest = Manifest.from_json(plain)
    except (ValueError, KeyError, TypeError):
        raise RestoreRefused(f"the manifest of snapshot {name} is not one this version can read") from None
    if not all(_well_formed(o) for o in manifest.objects):
        raise RestoreRefused(f"the manifest of snapshot {name} names files this version would not store")
    if folder.archive() != manifest.archive_id:
        raise RestoreRefused(
            f"snapshot {name} belongs to another archive than the backup folder {folder.root}"
        )
    return name, manifest


def _well_formed(entry: layout.ObjectEntry) -> bool:
    """A media entry names a storage key by its own sha256, and a well-formed object."""
    return bool(
        KEY_PATTERN.fullmatch(entry.key)
        and entry.key[:64] == entry.plain_sha256
        and layout.OBJECT_NAME.fullmatch(f"{entry.name}.{entry.cipher_sha256}.age")
    )


def _refuse_unless_restorable(manifest: Manifest) -> None:
    script = ScriptDirectory.from_config(_alembic_config())
    try:
        known = manifest.schema_revision is not None and script.get_revision(manifest.schema_revision)
    except CommandError:
        known = False
    if not known:
        raise RestoreRefused(
            f"the backup's database is at schema revision {manifest.schema_revision}, which this version "
            f"of nuevonorte does not know (a newer one made it): install that version or newer"
        )
    here = db.engine.dialect.name
    if manifest.database_kind != here:
        raise RestoreRefused(
            f"the backup holds a {manifest.database_kind} database; this deployment uses {here}"
        )
    if not ledger_file().is_file():
        raise RestoreRefused(
            f"the withdrawal ledger {ledger_file()} is missing: bring it from the old server (or its copy) "
            "before restoring, or withdrawn stories would come back"
        )
    try:
        here_id = ledger.read(ledger_file())[0].entry_id
    except ledger.LedgerError as e:
        raise RestoreRefused(f"{e}: bring this archive's own ledger before restoring") from None
    if manifest.ledger_id is not None and here_id != manifest.ledger_id:
        raise RestoreRefused(
            f"the withdrawal ledger {ledger_file()} is not this archive's (a new server starts its own): "
            "bring the old server's ledger (or its copy) before restoring, or withdrawn stories would "
            "come back"
        )
    _refuse_unless_empty()


def _refuse_unless_empty() -> None:
    from nuevonorte.models import Story

    with db.engine.connect() as conn:
        stories = inspect(conn).has_table(Story.__tablename__) and conn.scalar(
            select(func.count()).select_from(Story.__table__)
        )
    if stories:
        raise RestoreRefused(
            "this deployment's database already holds stories: restore only into an empty one"
        )
    storage = get_storage()
    if storage.holds_files():
        raise RestoreRefused(f"{storage.describe()} already holds files: restore only into an empty one")


def _stage(
    source: Path, entry: FileEntry | layout.ObjectEntry, target: Path, keys: list[Any], what: str = ""
) -> None:
    """Decrypt ``source`` into ``target`` and check both sums and sizes against the manifest."""
    what = what or source.name
    try:
        with open(source, "rb") as cipher, open(target, "wb") as plain:
            sums = age.decrypt(cipher, plain, keys)
    except FileNotFoundError:
        raise RestoreRefused(f"{what} is missing from the backup") from None
    except (pyrage.DecryptError, OSError):
        raise RestoreRefused(f"{what} is damaged or cut short") from None
    expected = (entry.plain_sha256, entry.plain_size, entry.cipher_sha256, entry.cipher_size)
    if (sums.plain_sha256, sums.plain_size, sums.cipher_sha256, sums.cipher_size) != expected:
        raise RestoreRefused(f"{what} does not match its checksum in the manifest")


def _remove_stale_staging(temp: Path) -> None:
    for stale in temp.glob(f"{STAGING_PREFIX}*"):
        shutil.rmtree(stale, ignore_errors=True)


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(PROJECT_DIR / "migrations"))
    return config


def _migrate() -> None:
    from flask_migrate import upgrade

    from nuevonorte.database import write_intent

    with write_intent():
        upgrade()
    db.session.remove()


def _rebuild_search(progress: Callable[[int], None] | None = None) -> tuple[int, int]:
    Path(current_app.config["INDEX_DIR"]).mkdir(parents=True, exist_ok=True)
    return search.rebuild(progress=progress)
