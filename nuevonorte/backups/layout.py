"""The backup folder: where each thing lives, how objects are named, which snapshots count.

Every file is written under a temporary name, fsync'ed and renamed into place, and its folder
fsync'ed; a snapshot is a ``.partial`` folder renamed to its final name as the very last step.
So a backup killed at any moment leaves at most a ``.partial`` folder and temporary files,
which restore never reads and the next backup removes.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import re
import shutil
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nuevonorte.backups import BackupError
from nuevonorte.storage import fsync_dir

ARCHIVE_FILE = "ARCHIVE"
OBJECTS = "objects"
SNAPSHOTS = "snapshots"
TEMP = ".tmp"
PARTIAL = ".partial"
LOCK = ".lock"
MANIFEST = "manifest.age"
DATABASE = "database.age"
CONFIG = "config.age"
#: The manifest's format; restore refuses any other.
FORMAT = 1

SNAPSHOT_NAME = re.compile(r"^\d{8}T\d{6}Z(-\d+)?$")
OBJECT_NAME = re.compile(r"^([0-9a-f]{64})\.([0-9a-f]{64})\.age$")


@dataclass(frozen=True)
class ObjectEntry:
    """One media file of a snapshot: its storage key, its object's name, and its sums."""

    key: str
    name: str
    plain_sha256: str
    plain_size: int
    cipher_sha256: str
    cipher_size: int


@dataclass(frozen=True)
class FileEntry:
    """A file of the snapshot folder itself (the database dump, the configuration)."""

    file: str
    plain_sha256: str
    plain_size: int
    cipher_sha256: str
    cipher_size: int


@dataclass(frozen=True)
class Manifest:
    """What a snapshot holds: written last, encrypted, and checked first by restore."""

    archive_id: str
    created: str
    app_version: str
    schema_revision: str | None
    database_kind: str
    database: FileEntry
    config: FileEntry
    objects: list[ObjectEntry] = field(default_factory=list)
    #: Storage keys the database names whose file was missing from the media folder.
    missing: list[str] = field(default_factory=list)
    #: The first line's id of the archive's withdrawal ledger: restore accepts only that ledger.
    ledger_id: str | None = None
    format: int = FORMAT

    def to_json(self) -> bytes:
        # vars() of each entry, not dataclasses.asdict: asdict deep-copies every field of
        # every object (1.5 s of a 10,000-story incremental backup, profiled).
        raw = {f.name: getattr(self, f.name) for f in fields(self)}
        raw |= {"database": vars(self.database), "config": vars(self.config)}
        raw["objects"] = [vars(o) for o in self.objects]
        return json.dumps(raw, sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        """The manifest of these bytes; ValueError (or KeyError, TypeError) when it is not one."""
        raw: dict[str, Any] = json.loads(data)
        if raw.get("format") != FORMAT:
            raise ValueError("unknown manifest format")
        return cls(
            archive_id=str(raw["archive_id"]),
            created=str(raw["created"]),
            app_version=str(raw["app_version"]),
            schema_revision=raw["schema_revision"],
            database_kind=str(raw["database_kind"]),
            database=FileEntry(**raw["database"]),
            config=FileEntry(**raw["config"]),
            objects=[ObjectEntry(**o) for o in raw["objects"]],
            missing=[str(k) for k in raw["missing"]],
            ledger_id=str(raw["ledger_id"]) if raw.get("ledger_id") else None,
        )


def archive_id(secret_key: str) -> str:
    """This archive's id in its backup folders: derived from the secret key, so a server
    restored with the workshop's kept secret key goes on backing up into the same folder."""
    return hmac.new(secret_key.encode(), b"nuevonorte backup archive id", hashlib.sha256).hexdigest()[:32]


def object_namer(secret_key: str) -> Callable[[str], str]:
    """The name of a media file's object: an HMAC of its storage key (which is its plaintext
    sha256), so the name tells nothing to someone who holds the same photo. (The naming key is
    derived once: a backup names thousands.)"""
    naming_key = hmac.new(secret_key.encode(), b"nuevonorte backup object names", hashlib.sha256).digest()
    return lambda storage_key: hmac.new(naming_key, storage_key.encode(), hashlib.sha256).hexdigest()


def object_name(secret_key: str, storage_key: str) -> str:
    """``object_namer`` for one key."""
    return object_namer(secret_key)(storage_key)


class Dest:
    """A backup folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.objects = root / OBJECTS
        self.snapshots = root / SNAPSHOTS
        self._listed: dict[str, dict[str, tuple[str, int]]] = {}

    # --- reading -------------------------------------------------------------------------

    def archive(self) -> str | None:
        """The archive id the folder was made for, or None when it is new."""
        try:
            return (self.root / ARCHIVE_FILE).read_text(encoding="ascii").strip()
        except (FileNotFoundError, UnicodeDecodeError):
            return None

    def snapshot_names(self) -> list[str]:
        """Finished snapshots, oldest first (a ``.partial`` or foreign name is never one)."""
        if not self.snapshots.is_dir():
            return []
        return sorted(
            p.name for p in self.snapshots.iterdir() if SNAPSHOT_NAME.fullmatch(p.name) and p.is_dir()
        )

    def object_path(self, name: str, cipher_sha256: str) -> Path:
        return self.objects / name[:2] / f"{name}.{cipher_sha256}.age"

    def existing_object(self, name: str) -> tuple[str, int] | None:
        """The ciphertext sha256 and size of the object stored under ``name``, if one is (one
        listing per shard folder, cached: an incremental backup does not read the objects)."""
        shard = name[:2]
        if shard not in self._listed:
            folder = self.objects / shard
            found: dict[str, tuple[str, int]] = {}
            if folder.is_dir():
                with os.scandir(folder) as entries:
                    for entry in entries:
                        m = OBJECT_NAME.fullmatch(entry.name)
                        if m and entry.is_file(follow_symlinks=False):
                            found[m.group(1)] = (m.group(2), entry.stat(follow_symlinks=False).st_size)
            self._listed[shard] = found
        return self._listed[shard].get(name)

    # --- writing -------------------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """One backup at a time in this folder (the lock dies with its process)."""
        self.root.mkdir(mode=stat.S_IRWXU, parents=True, exist_ok=True)
        fd = os.open(self.root / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise BackupError(f"another backup is writing into {self.root}") from None
            yield
        finally:
            os.close(fd)

    def claim(self, archive: str) -> None:
        """Mark a new folder as this archive's; refuse another archive's folder."""
        found = self.archive()
        if found is None:
            if (self.root / ARCHIVE_FILE).exists() or any(
                p.name not in (LOCK, ARCHIVE_FILE) for p in self.root.iterdir()
            ):
                raise BackupError(f"{self.root} holds other files: give backup an empty or its own folder")
            write_durably(self.root / ARCHIVE_FILE, f"{archive}\n".encode())
        elif found != archive:
            raise BackupError(
                f"{self.root} holds another archive's backups (or this server's secret key changed): "
                "use another folder"
            )
        for folder in (self.objects, self.objects / TEMP, self.snapshots):
            folder.mkdir(mode=stat.S_IRWXU, exist_ok=True)

    def remove_leftovers(self) -> int:
        """Remove what killed or failed backups left: partial snapshots and temporary objects."""
        removed = 0
        for partial in self.snapshots.glob(f"*{PARTIAL}"):
            shutil.rmtree(partial, ignore_errors=True)
            removed += 1
        for temp in (self.objects / TEMP).iterdir():
            temp.unlink(missing_ok=True)
            removed += 1
        return removed

    def new_snapshot_name(self) -> str:
        base = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        name, n = base, 1
        while (self.snapshots / name).exists() or (self.snapshots / f"{name}{PARTIAL}").exists():
            n += 1
            name = f"{base}-{n}"
        return name

    def store_object(self, temp: Path, name: str, cipher_sha256: str) -> Path:
        """Move a finished, fsync'ed temporary object into place; it carries no time (M16)."""
        target = self.object_path(name, cipher_sha256)
        target.parent.mkdir(mode=stat.S_IRWXU, exist_ok=True)
        os.replace(temp, target)
        os.utime(target, (0, 0))
        fsync_dir(target.parent)
        self._listed.setdefault(name[:2], {})[name] = (cipher_sha256, target.stat().st_size)
        return target


def write_durably(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary name, fsync'ed, then renamed."""
    temp = path.with_name(f".{path.name}.tmp")
    with os.fdopen(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temp, path)
    fsync_dir(path.parent)
