"""``nuevonorte backup DEST``: the database, the media files and the configuration, encrypted.

The order makes the backup consistent while the archive serves: first the database (a snapshot),
then exactly the media files that snapshot references. A file is written before the commit that
references it, and deleted only after the commit that stops referencing it, so every file the
snapshot names exists — unless a withdrawal removed it meanwhile; then the database is dumped
again (up to ``ATTEMPTS`` times) and only new files are copied.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy.engine import URL, make_url

from nuevonorte import config, faults, ledger
from nuevonorte.backups import BackupError, age, dump, layout
from nuevonorte.backups.layout import Dest, FileEntry, Manifest, ObjectEntry
from nuevonorte.extensions import db
from nuevonorte.storage import Storage, fsync_dir, get_storage

ATTEMPTS = 3


@dataclass
class Made:
    """What one backup wrote."""

    snapshot: Path
    objects: int = 0
    objects_written: int = 0
    bytes_written: int = 0
    missing: list[str] = field(default_factory=list)
    leftovers_removed: int = 0


def backup(dest: Path) -> Made:
    """Write a new snapshot into ``dest``; BackupError (nothing new visible) when it cannot."""
    to = age.recipients(current_app.config["BACKUP_RECIPIENTS"])
    secret = current_app.config["SECRET_KEY"]
    if not secret:
        raise BackupError("no secret key is configured: backups name their files with a key derived from it")
    try:
        ledger.started_id()  # the snapshot names this archive's ledger; refuse without one
    except ledger.LedgerError as e:
        raise BackupError(f"{e}: put it back before backing up") from None
    folder = Dest(dest.absolute())
    with folder.locked():
        folder.claim(layout.archive_id(secret))
        removed = folder.remove_leftovers()
        name = folder.new_snapshot_name()
        partial = folder.snapshots / f"{name}{layout.PARTIAL}"
        partial.mkdir(mode=stat.S_IRWXU)
        try:
            made = _write(folder, partial, to, secret)
            faults.point("backup.manifest-written")
            final = folder.snapshots / name
            os.replace(partial, final)
            fsync_dir(folder.snapshots)
        except BaseException as e:
            shutil.rmtree(partial, ignore_errors=True)
            if _no_room(e):
                raise BackupError(
                    f"no room left in {dest} (or the media folder): the backup stopped, the earlier "
                    "snapshots are intact; free some space and run it again"
                ) from None
            raise
    made.snapshot, made.leftovers_removed = final, removed
    return made


def _no_room(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it, also inside pyrage) is a full disk."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if "No space left on device" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _write(folder: Dest, partial: Path, to: list[Any], secret: str) -> Made:
    storage = get_storage()
    made = Made(snapshot=partial)
    for _attempt in range(ATTEMPTS):
        with storage.temp_file() as plain:  # locked while in use; `sweep` removes it after a kill
            try:
                dumped = dump.dump(db.engine, Path(plain.name))
                faults.point("backup.database-dumped")
                with open(plain.name, "rb") as source:
                    database = _encrypt_file(source, partial / layout.DATABASE, to)
            finally:
                Path(plain.name).unlink(missing_ok=True)
        if dumped.revision is None:
            raise BackupError(
                "the database has no schema revision: run `nuevonorte init` (it migrates) first"
            )
        faults.point("backup.database-written")
        objects, missing = _copy_media(folder, storage, dumped.keys, to, secret, made)
        if not missing:
            break
    made.objects, made.missing = len(objects), sorted(missing)
    settings = _encrypt_bytes(restorable_config(), partial / layout.CONFIG, to)
    manifest = Manifest(
        archive_id=layout.archive_id(secret),
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        app_version=app_version(),
        schema_revision=dumped.revision,
        database_kind=dumped.kind,
        database=database,
        config=settings,
        objects=objects,
        missing=made.missing,
        ledger_id=ledger.started_id(),
    )
    _encrypt_bytes(manifest.to_json(), partial / layout.MANIFEST, to)
    fsync_dir(partial)
    return made


def _copy_media(
    folder: Dest, storage: Storage, keys: set[str], to: list[Any], secret: str, made: Made
) -> tuple[list[ObjectEntry], set[str]]:
    """Encrypt every referenced file not already in the folder; the entries, and the keys
    whose file is missing."""
    entries, missing = [], set()
    name_of = layout.object_namer(secret)
    sizes = storage.sizes(keys)  # one listing per shard folder, not a path check per key
    for key in sorted(keys):
        name = name_of(key)
        if key not in sizes:  # a row naming no file (`check` reports it)
            missing.add(key)
            continue
        existing = folder.existing_object(name)
        if existing is not None:
            cipher_sha256, cipher_size = existing
            entries.append(ObjectEntry(key, name, key[:64], sizes[key], cipher_sha256, cipher_size))
            continue
        temp = folder.objects / layout.TEMP / f"{name}.tmp"
        try:
            with storage.open(key) as source, open(temp, "wb") as target:
                sums = age.encrypt(source, target, to)
                target.flush()
                os.fsync(target.fileno())
        except FileNotFoundError:
            temp.unlink(missing_ok=True)
            missing.add(key)  # withdrawn since the snapshot
            continue
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        folder.store_object(temp, name, sums.cipher_sha256)
        made.objects_written += 1
        made.bytes_written += sums.cipher_size
        entries.append(
            ObjectEntry(key, name, sums.plain_sha256, sums.plain_size, sums.cipher_sha256, sums.cipher_size)
        )
        faults.point("backup.object-written")
    return entries, missing


def _encrypt_file(source: Any, path: Path, to: list[Any]) -> FileEntry:
    with open(path, "wb") as target:
        sums = age.encrypt(source, target, to)
        target.flush()
        os.fsync(target.fileno())
    return FileEntry(path.name, sums.plain_sha256, sums.plain_size, sums.cipher_sha256, sums.cipher_size)


def _encrypt_bytes(data: bytes, path: Path, to: list[Any]) -> FileEntry:
    import io

    return _encrypt_file(io.BytesIO(data), path, to)


def restorable_config() -> bytes:
    """The configuration as the admin wrote it (file, then environment), as TOML, without the
    secret key and without the database password: what a new server needs besides them."""
    source = os.environ.get("NUEVONORTE_CONFIG")
    instance = Path(current_app.instance_path) / "config.toml"
    values: dict[str, Any] = {}
    if source:
        values.update(config.read_toml(Path(source)))
    elif instance.is_file():
        values.update(config.read_toml(instance))
    for env_name, name in config.ENV_OVERRIDES.items():
        if os.environ.get(env_name):
            values[name] = os.environ[env_name]
    values.pop("secret_key", None)
    if values.get("database_url"):
        url = make_url(values["database_url"])
        without_password = URL.create(
            url.drivername, url.username, None, url.host, url.port, url.database, url.query
        )
        values["database_url"] = without_password.render_as_string(hide_password=False)
    lines = [
        "# The archive's configuration at the time of the backup, without its secret key or",
        "# database password (the workshop keeps those offline: see docs/parts/operations.md, 'Backups').",
    ]
    lines += [f"{name} = {json.dumps(value)}" for name, value in sorted(values.items())]
    return ("\n".join(lines) + "\n").encode()


def app_version() -> str:
    try:
        return version("nuevonorte")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "unknown"
