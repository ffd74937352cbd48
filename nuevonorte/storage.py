"""Media storage on local disk: the only code that turns a media key into a file path.

Files are named ``<sha256 of the content>.<extension>`` and laid out in two-character
folders. Writes go through a temporary file in the same folder tree, are fsync'ed and then
renamed into place, so a crash leaves either nothing or a complete file. Deleting files is
tied to the database transaction: ``delete_after_commit`` removes files only once the rows
that pointed at them are gone for good, and ``discard_after_rollback`` removes files written
for a transaction that did not commit.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

#: What each stored file is served as, decided by the extension storage gave the cleaned
#: file — never by the upload's name or declared type (SECURITY.md A07).
CONTENT_TYPES = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "mp3": "audio/mpeg",
    "m4a": "audio/mp4",
    "ogg": "audio/ogg",
    "opus": "audio/ogg",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "webm": "audio/webm",
}

KEY_PATTERN = re.compile(r"^[0-9a-f]{64}\.(jpg|png|webp|mp3|m4a|ogg|opus|flac|wav|webm)$")
TEMP_DIR = ".tmp"


class StorageError(Exception):
    """A key or path that storage refuses, or a storage root that is unsafe."""


class Storage:
    """A folder of content-addressed media files."""

    def __init__(self, root: str | Path, static_folder: str | None = None) -> None:
        root = Path(root)
        # Fail closed (SECURITY.md F17, A03): never relative, never under the web root.
        if not root.is_absolute():
            raise StorageError(f"media_dir must be an absolute path, not {root}")
        if static_folder and _is_within(root.resolve(), Path(static_folder).resolve()):
            raise StorageError("media_dir must not be inside the static folder")
        self.root = root

    def ensure(self) -> None:
        """Create the storage folders, readable by this user only."""
        for folder in (self.root, self.root / TEMP_DIR):
            folder.mkdir(parents=True, exist_ok=True)
            os.chmod(folder, stat.S_IRWXU)

    def path(self, key: str) -> Path:
        """The path of the file stored under ``key``; refuses anything that is not a key."""
        if not KEY_PATTERN.fullmatch(key):
            raise StorageError("not a storage key")
        path = self.root / key[:2] / key
        real = Path(os.path.realpath(path))
        if not _is_within(real, Path(os.path.realpath(self.root))) or path.is_symlink():
            raise StorageError("storage key resolves outside the media folder")
        return path

    def exists(self, key: str) -> bool:
        """Whether a file is stored under ``key``."""
        return self.path(key).is_file()

    def temp_file(self) -> IO[bytes]:
        """A named temporary file inside storage (same filesystem, so renames are atomic)."""
        self.ensure()
        return tempfile.NamedTemporaryFile(dir=self.root / TEMP_DIR, prefix="in-", delete=False)

    def put_file(
        self, temp_path: str | Path, extension: str, *, digest: str | None = None, sync_folder: bool = True
    ) -> str:
        """Move a finished temporary file into storage under its content hash; return the key.

        ``digest`` is the file's SHA-256 when the caller has just computed it. With
        ``sync_folder=False`` the rename is durable only after ``sync_folders`` for its key.
        """
        temp_path = Path(temp_path)
        key = f"{digest or sha256_file(temp_path)}.{extension}"
        target = self.path(key)
        target.parent.mkdir(mode=stat.S_IRWXU, exist_ok=True)
        with temp_path.open("rb") as f:
            os.fsync(f.fileno())
        os.chmod(temp_path, stat.S_IRUSR | stat.S_IWUSR)
        os.replace(temp_path, target)
        # Storage times must not tell when someone contributed (SECURITY.md M16). Set after the
        # rename: a temporary file that looked decades old could be taken by the sweeper.
        os.utime(target, (0, 0))
        if sync_folder:
            _fsync_dir(target.parent)
        return key

    def sync_folders(self, keys: Iterable[str]) -> None:
        """Make the renames of these keys durable (each folder synced once)."""
        for folder in sorted({self.path(key).parent for key in keys}):
            _fsync_dir(folder)

    def put_bytes(self, data: bytes, extension: str) -> str:
        """Store ``data`` (already clean) and return its key."""
        with self.temp_file() as f:
            f.write(data)
            f.flush()
            name = f.name
        try:
            return self.put_file(name, extension)
        finally:
            Path(name).unlink(missing_ok=True)

    def open(self, key: str) -> IO[bytes]:
        """Open the stored file for reading."""
        return self.path(key).open("rb")

    def delete(self, key: str) -> None:
        """Delete the file stored under ``key``, if any."""
        self.path(key).unlink(missing_ok=True)

    def keys(self) -> Iterator[str]:
        """Every key with a file in storage."""
        if not self.root.is_dir():
            return
        for folder in sorted(self.root.iterdir()):
            if folder.name == TEMP_DIR or not folder.is_dir():
                continue
            for entry in sorted(folder.iterdir()):
                if KEY_PATTERN.fullmatch(entry.name) and entry.name[:2] == folder.name:
                    yield entry.name

    def temp_files(self, older_than: float = 0, now: float | None = None) -> list[Path]:
        """Temporary files not written to for more than ``older_than`` seconds (default: all)."""
        folder = self.root / TEMP_DIR
        if not folder.is_dir():
            return []
        now = time.time() if now is None else now
        found = []
        for entry in os.scandir(folder):
            info = entry.stat(follow_symlinks=False)
            if not stat.S_ISDIR(info.st_mode) and now - info.st_mtime >= older_than:
                found.append(Path(entry.path))
        return sorted(found)

    def sweep_temp_files(self, older_than: float, now: float | None = None) -> list[Path]:
        """Remove temporary files left by interrupted uploads (a killed worker: SECURITY.md F01).

        Only files not written to for ``older_than`` seconds go, so that an upload still being
        processed by another worker is never touched (config ``temp_file_max_age_minutes``).
        Stored files are never looked at. Returns what was removed.
        """
        removed = []
        for path in self.temp_files(older_than, now):
            try:
                path.unlink()
            except FileNotFoundError:
                continue  # finished, or swept by another process meanwhile
            except OSError:
                continue  # not ours to remove; `nuevonorte check` reports it
            removed.append(path)
        return removed

    def verify(self, key: str) -> bool:
        """Whether the stored file still has the content its key names."""
        path = self.path(key)
        return path.is_file() and sha256_file(path) == key.split(".", 1)[0]


def content_type(key: str) -> str | None:
    """The Content-Type to serve a stored file with, from its key; None for a non-key."""
    if not KEY_PATTERN.fullmatch(key):
        return None
    return CONTENT_TYPES[key.rsplit(".", 1)[1]]


def sha256_file(path: str | Path) -> str:
    """The SHA-256 hex digest of a file (read into one reused buffer, memory stays flat)."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _is_within(path: Path, folder: Path) -> bool:
    return os.path.commonpath([path, folder]) == str(folder)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- tying files to transactions ----------------------------------------------------------

_AFTER_COMMIT = "nuevonorte.delete_after_commit"
_AFTER_ROLLBACK = "nuevonorte.discard_after_rollback"


def delete_after_commit(session: Session, storage: Storage, keys: Iterable[str]) -> None:
    """Delete these files once the current transaction commits (kept if it rolls back)."""
    session.info.setdefault(_AFTER_COMMIT, set()).update(storage.path(k) for k in keys)


def discard_after_rollback(session: Session, storage: Storage, keys: Iterable[str]) -> None:
    """Delete these new files if the current transaction rolls back (kept if it commits)."""
    # Begin the session's transaction now if nothing has yet, so a rollback that comes
    # before any query still has a transaction to roll back, and so still cleans up.
    if not session.in_transaction():
        session.begin()
    session.info.setdefault(_AFTER_ROLLBACK, set()).update(storage.path(k) for k in keys)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    for path in session.info.pop(_AFTER_COMMIT, ()):
        path.unlink(missing_ok=True)
    session.info.pop(_AFTER_ROLLBACK, None)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.nested:
        return  # a savepoint rolled back; the outer transaction decides
    for path in session.info.pop(_AFTER_ROLLBACK, ()):
        path.unlink(missing_ok=True)
    session.info.pop(_AFTER_COMMIT, None)


def init_app(app: Flask) -> None:
    """Create the app's storage (refusing an unsafe media folder)."""
    app.extensions["nuevonorte.storage"] = Storage(app.config["MEDIA_DIR"], app.static_folder)


def get_storage() -> Storage:
    """The storage of the current app."""
    storage: Storage = current_app.extensions["nuevonorte.storage"]
    return storage
