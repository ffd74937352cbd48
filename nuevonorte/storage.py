"""Media storage on local disk: the only code that turns a media key into a file path.

Files are named ``<sha256 of the content>.<extension>`` and laid out in two-character
folders. Writes go through a temporary file in the same folder tree, are fsync'ed and then
renamed into place, so a crash leaves either nothing or a complete file. Deleting files is
tied to the database transaction: ``delete_after_commit`` removes files only once the rows
that pointed at them are gone for good, and ``discard_after_rollback`` removes files written
for a transaction that did not commit.

Both survive a crash (docs/security.md T08, F01): before a file is stored for a transaction, or
before the commit that drops a file's last row, its key is written to an *intent* — a small
fsync'ed file in ``.intents`` that the writing process holds an ``flock`` on until the
transaction ended and its files were dealt with. A killed process leaves its intent unlocked;
``recover`` then deletes every key listed there that no row references. Temporary files are
locked the same way while in use, so any unlocked one is left by a dead process and goes at
once (``sweep_temp_files``).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import logging
import os
import re
import secrets
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

#: What each stored file is served as, decided by the extension storage gave the cleaned
#: file — never by the upload's name or declared type (docs/security.md A07).
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
INTENT_DIR = ".intents"
_OWNER_RW = stat.S_IRUSR | stat.S_IWUSR


class StorageError(Exception):
    """A key or path that storage refuses, or a storage root that is unsafe."""


class Storage:
    """A folder of content-addressed media files."""

    #: Whether the files live elsewhere than this machine's disk (no path to hand to a sender).
    remote = False

    def __init__(self, root: str | Path, static_folder: str | None = None) -> None:
        root = Path(root)
        # Fail closed (docs/security.md F17, A03): never relative, never under the web root.
        if not root.is_absolute():
            raise StorageError(f"media_dir must be an absolute path, not {root}")
        if static_folder and _is_within(root.resolve(), Path(static_folder).resolve()):
            raise StorageError("media_dir must not be inside the static folder")
        self.root = root
        self._real_root: Path | None = None  # resolved once, when a file is first asked for

    def ensure(self) -> None:
        """Create the storage folders, readable by this user only."""
        for folder in (self.root, self.root / TEMP_DIR, self.root / INTENT_DIR):
            folder.mkdir(parents=True, exist_ok=True)
            os.chmod(folder, stat.S_IRWXU)
        _clear_folder_times(self.root, self.root / TEMP_DIR, self.root / INTENT_DIR)

    def path(self, key: str) -> Path:
        """The path of the file stored under ``key``; refuses anything that is not a key."""
        path = self.root / key[:2] / _checked(key)
        real = Path(os.path.realpath(path))
        if not _is_within(real, self.real_root()) or path.is_symlink():
            raise StorageError("storage key resolves outside the media folder")
        return path

    def sizes(self, keys: Iterable[str]) -> dict[str, int]:
        """The size of each key's stored file, for many keys at once (a backup's thousands):
        one listing per shard folder instead of resolving every path. Only what ``path`` would
        accept counts: a regular file (not a symlink) in a shard folder that is no symlink; a
        key with no such file is left out."""
        shards: dict[str, dict[str, int]] = {}
        found = {}
        for key in keys:
            if not KEY_PATTERN.fullmatch(key):
                continue
            shard = key[:2]
            if shard not in shards:
                shards[shard] = {}
                folder = self.root / shard
                if folder.is_dir() and not folder.is_symlink():
                    with os.scandir(folder) as entries:
                        for entry in entries:
                            if entry.is_file(follow_symlinks=False):
                                shards[shard][entry.name] = entry.stat(follow_symlinks=False).st_size
            if key in shards[shard]:
                found[key] = shards[shard][key]
        return found

    def exists(self, key: str) -> bool:
        """Whether a file is stored under ``key``."""
        return self.path(key).is_file()

    def size(self, key: str) -> int:
        """The size of the file stored under ``key`` (FileNotFoundError if there is none)."""
        return self.path(key).stat().st_size

    @contextmanager
    def local_copy(self, key: str) -> Iterator[str]:
        """A path on this machine holding the stored file, for as long as the block runs (for
        the media sandbox, which reads a path): on disk, the stored file itself."""
        yield str(self.path(key))

    def holds_files(self) -> bool:
        """Whether any media file is stored (a restore goes only into an empty storage)."""
        if not self.root.is_dir():
            return False
        for path in self.root.iterdir():
            if path.name in (TEMP_DIR, INTENT_DIR):
                continue
            if path.is_file() or any(p.is_file() for p in path.rglob("*")):
                return True
        return False

    def temp_file(self) -> IO[bytes]:
        """A named temporary file inside storage (same filesystem, so renames are atomic), locked
        (``flock``) for as long as it stays open: keep it open while the file is in use."""
        self.ensure()
        while True:
            f = tempfile.NamedTemporaryFile(dir=self.root / TEMP_DIR, prefix="in-", delete=False)
            if _lock_if_still_there(f.fileno(), f.name):
                return f
            f.close()  # swept between its creation and its lock: take another

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
        # Storage times must not tell when someone contributed (docs/security.md M16). Set after the
        # rename: a temporary file that looked decades old could be taken by the sweeper.
        os.utime(target, (0, 0))
        # The rename (and a new shard folder) stamped the folders with the time too.
        _clear_folder_times(target.parent, self.root, self.root / TEMP_DIR)
        if sync_folder:
            fsync_dir(target.parent)
        return key

    def sync_folders(self, keys: Iterable[str]) -> None:
        """Make the renames of these keys durable (each folder synced once)."""
        for folder in sorted({self.path(key).parent for key in keys}):
            fsync_dir(folder)

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
            _clear_folder_times(self.root / TEMP_DIR)

    def real_root(self) -> Path:
        """The media folder with every link resolved, once (when a file is first asked for)."""
        if self._real_root is None:
            self._real_root = Path(os.path.realpath(self.root))
        return self._real_root

    def open(self, key: str) -> IO[bytes]:
        """Open the stored file for reading: what ``path`` accepts, checked as it is opened
        (a file per public media request, so without resolving the whole path each time). The
        root was resolved once; below it only the shard folder and the file could be links, and
        neither may be (the folder checked, the file opened without following one); anything but
        a regular file is refused. FileNotFoundError when there is none."""
        shard = self.real_root() / _checked(key)[:2]
        if not stat.S_ISDIR(os.lstat(shard).st_mode):
            raise StorageError("storage key resolves outside the media folder")
        try:
            fd = os.open(shard / key, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError as error:
            if error.errno == errno.ELOOP:  # the file is a link
                raise StorageError("storage key resolves outside the media folder") from None
            raise
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise StorageError("not a stored file")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")

    def delete(self, key: str) -> None:
        """Delete the file stored under ``key``, if any."""
        _unlink(self.path(key))

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

    def temp_files(self) -> list[Path]:
        """Every temporary file, in use or not."""
        folder = self.root / TEMP_DIR
        if not folder.is_dir():
            return []
        found = []
        for entry in os.scandir(folder):
            if not stat.S_ISDIR(entry.stat(follow_symlinks=False).st_mode):
                found.append(Path(entry.path))
        return sorted(found)

    def abandoned_temp_files(self) -> list[Path]:
        """Temporary files no living process holds (``temp_file`` locks each while in use)."""
        found = []
        for path in self.temp_files():
            fd = _open_locked(path, blocking=False)
            if fd is not None:
                os.close(fd)
                found.append(path)
        return found

    def sweep_temp_files(self) -> list[Path]:
        """Remove temporary files left by interrupted uploads (a killed worker: docs/security.md F01).

        A file in use is locked by its process (``temp_file``); an unlocked one belongs to no
        living process and goes at once. Stored files are never looked at. Returns what was removed.
        """
        removed = []
        for path in self.temp_files():
            if _remove_if_unlocked(path):
                removed.append(path)
        return removed

    # --- intents: files that follow their transaction through a crash -------------------

    def intent(self) -> Intent:
        """A new intent of this process, locked until ``Intent.close``."""
        return Intent(self)

    def recover(self, referenced: Callable[[set[str]], set[str]], *, orphans: bool = False) -> list[str]:
        """Delete the files of dead processes' intents that no row references; return their keys.

        ``referenced(keys)`` answers which of ``keys`` a database row points at; it must read
        committed data only. Keys claimed by a living process's intent are never deleted. With
        ``orphans``, every stored file no row references goes too (``check --repair``).
        """
        folder = self.root / INTENT_DIR
        if not folder.is_dir():  # nothing was ever stored through an intent here
            stored = set(self.keys()) if orphans else set()
            gone = self.settled(sorted(stored - referenced(stored))) if orphans else []
            for key in gone:
                self.delete(key)
            return gone
        with _claims(self, fcntl.LOCK_EX):
            claimed: set[str] = set()
            dead: list[tuple[Path, int]] = []
            for entry in sorted(folder.glob("*.intent")):
                fd = _open_locked(entry, blocking=False)
                if fd is None:  # its process lives: its keys are claimed
                    claimed.update(_read_keys(entry))
                else:
                    dead.append((entry, fd))
            try:
                candidates = {k for entry, _fd in dead for k in _read_keys(entry)}
                if orphans:
                    candidates.update(self.keys())
                candidates -= claimed
                unnamed = sorted(candidates - referenced(set(candidates))) if candidates else []
                gone = self.settled(unnamed)
                for key in gone:
                    self.delete(key)
                waiting = set(unnamed) - set(gone)  # too recent to delete yet (``settled``)
                for entry, _fd in dead:
                    if not _read_keys(entry) & waiting:  # else kept for the next ``recover``
                        entry.unlink(missing_ok=True)
            finally:
                for _entry, fd in dead:
                    os.close(fd)
        return gone

    def verify(self, key: str) -> bool:
        """Whether the stored file still has the content its key names."""
        path = self.path(key)
        return path.is_file() and sha256_file(path) == key.split(".", 1)[0]

    def describe(self) -> str:
        """Where the files are, for messages (never a credential)."""
        return f"the media folder {self.root}"

    def settled(self, keys: list[str]) -> list[str]:
        """Those of ``keys`` that no living writer of another machine can be about to name
        (``recover`` deletes only these). On this machine's disk, every one: its intents are
        the only writers' intents."""
        return keys


def content_type(key: str) -> str | None:
    """The Content-Type to serve a stored file with, from its key; None for a non-key."""
    if not KEY_PATTERN.fullmatch(key):
        return None
    return CONTENT_TYPES[key.rsplit(".", 1)[1]]


def sha256_file(path: str | Path) -> str:
    """The SHA-256 hex digest of a file (read into one reused buffer, memory stays flat)."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _checked(key: str) -> str:
    if not KEY_PATTERN.fullmatch(key):
        raise StorageError("not a storage key")
    return key


def _is_within(path: Path, folder: Path) -> bool:
    return os.path.commonpath([path, folder]) == str(folder)


def _clear_folder_times(*folders: Path) -> None:
    """Set these folders' times to 0: adding or removing a file stamps them (docs/security.md M16).

    The inode change time (ctime) cannot be set by a process; docs/security.md says what it shows.
    """
    for folder in folders:
        with contextlib.suppress(FileNotFoundError):  # removed meanwhile: nothing to reset
            os.utime(folder, (0, 0))


def _unlink(path: Path) -> None:
    path.unlink(missing_ok=True)
    _clear_folder_times(path.parent)


def fsync_dir(folder: Path) -> None:
    """Make a folder's entries (a file created, renamed or removed in it) durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- tying files to transactions ----------------------------------------------------------

_AFTER_COMMIT = "nuevonorte.delete_after_commit"
_AFTER_ROLLBACK = "nuevonorte.discard_after_rollback"
_INTENT = "nuevonorte.intent"
#: Set when a file of the transaction could not be deleted: its intent is left for ``recover``.
_UNDELETED = "nuevonorte.undeleted"


class Intent:
    """Keys whose files may have to go if the process dies: a file in ``.intents`` holding one
    key a line, locked (``flock``) by its process from creation until ``close``."""

    def __init__(self, storage: Storage) -> None:
        storage.ensure()
        folder = storage.root / INTENT_DIR
        while True:
            self.path = folder / f"{secrets.token_hex(8)}.intent"
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND
            fd = os.open(self.path, flags, _OWNER_RW)
            fcntl.flock(fd, fcntl.LOCK_EX)
            if _still_there(fd, self.path):
                break
            os.close(fd)  # recovered as empty between its creation and its lock: take another
        _clear_folder_times(folder)
        fsync_dir(folder)
        self.fd: int | None = fd
        self.storage = storage

    def add(self, keys: Iterable[str]) -> None:
        """Write these keys down, durably, before their files are stored or their rows deleted."""
        lines = "".join(f"{_checked(k)}\n" for k in keys)
        if lines and self.fd is not None:
            os.write(self.fd, lines.encode("ascii"))
            os.fsync(self.fd)

    def close(self, keep: bool = False) -> None:
        """The transaction ended and its files were dealt with: forget the intent. With ``keep``
        (a file could not be deleted), leave it, unlocked, for ``recover``."""
        if self.fd is None:
            return
        if not keep:
            _unlink(self.path)
        os.close(self.fd)
        self.fd = None


def claim(session: Session, storage: Storage, key: str, store: Callable[[], object]) -> None:
    """Write ``key`` into this transaction's intent, then run ``store`` (which stores or reuses
    its file) so that no recovery deletes the file in between."""
    intent = transaction_intent(session, storage)
    with _claims(storage, fcntl.LOCK_SH):
        intent.add([key])
        store()


def transaction_intent(session: Session, storage: Storage) -> Intent:
    """The intent of the session's current transaction (begun now if none is)."""
    if not session.in_transaction():
        session.begin()  # no database work yet: only the session's bookkeeping starts
    intent = session.info.get(_INTENT)
    if intent is None:
        intent = session.info[_INTENT] = storage.intent()
    return intent


def delete_after_commit(session: Session, storage: Storage, keys: Iterable[str]) -> None:
    """Delete these files once the current transaction commits (kept if it rolls back)."""
    keys = list(keys)
    transaction_intent(session, storage).add(keys)  # before the commit: a crash after it recovers
    session.info.setdefault(_AFTER_COMMIT, set()).update((storage, _checked(k)) for k in keys)


def discard_after_rollback(session: Session, storage: Storage, keys: Iterable[str]) -> None:
    """Delete these new files if the current transaction rolls back (kept if it commits)."""
    # Begin the session's transaction now if nothing has yet, so a rollback that comes
    # before any query still has a transaction to roll back, and so still cleans up.
    keys = list(keys)
    transaction_intent(session, storage).add(keys)
    session.info.setdefault(_AFTER_ROLLBACK, set()).update((storage, _checked(k)) for k in keys)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    from nuevonorte import faults

    if session.info.get(_AFTER_COMMIT):
        faults.point("commit.files_to_delete")
    _delete_all(session, session.info.pop(_AFTER_COMMIT, ()))
    session.info.pop(_AFTER_ROLLBACK, None)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    # The end of the outermost transaction, committed (after ``after_commit``), rolled back or
    # closed: files of an uncommitted transaction go, then the intent does.
    if transaction.nested or transaction.parent is not None:
        return
    _delete_all(session, session.info.pop(_AFTER_ROLLBACK, ()))
    session.info.pop(_AFTER_COMMIT, None)
    intent = session.info.pop(_INTENT, None)
    if intent is not None:
        intent.close(keep=session.info.pop(_UNDELETED, False))


def _delete_all(session: Session, doomed: Iterable[tuple[Storage, str]]) -> None:
    """Delete each of these files; one that cannot be deleted now (a bucket out of reach) does
    not stop the others, and its transaction's intent is kept for ``recover``, which deletes
    every key in it that no row names."""
    for storage, key in doomed:
        try:
            storage.delete(key)
        except OSError:
            logging.getLogger(__name__).warning("a stored file could not be deleted now; recover will")
            session.info[_UNDELETED] = True


def _still_there(fd: int, path: Path | str) -> bool:
    """Whether ``path`` still names the file open as ``fd`` (not recovered or swept meanwhile)."""
    try:
        return os.stat(path).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


def _lock_if_still_there(fd: int, path: str) -> bool:
    fcntl.flock(fd, fcntl.LOCK_EX)
    return _still_there(fd, path)


def _open_locked(path: Path, *, blocking: bool) -> int | None:
    """Open ``path`` and lock it; None when another process holds the lock or it is gone."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _remove_if_unlocked(path: Path) -> bool:
    """Remove a file no process holds locked; True if it was removed."""
    fd = _open_locked(path, blocking=False)
    if fd is None:
        return False
    try:
        path.unlink()
        return True
    except OSError:
        return False  # gone meanwhile, or not ours to remove (`nuevonorte check` reports it)
    finally:
        os.close(fd)


def _read_keys(path: Path) -> set[str]:
    try:
        lines = path.read_text(encoding="ascii", errors="replace").split()
    except FileNotFoundError:
        return set()
    return {line for line in lines if KEY_PATTERN.fullmatch(line)}


@contextmanager
def _claims(storage: Storage, mode: int) -> Iterator[None]:
    """Hold the storage-wide claims lock, shared or exclusive."""
    # The lock is on the intents folder itself (no extra file): writers hold it shared while
    # they put a key in their intent and store or reuse its file; ``recover`` holds it
    # exclusively, so it never deletes a file a living writer has just claimed.
    fd = os.open(storage.root / INTENT_DIR, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, mode)
        yield
    finally:
        os.close(fd)


def init_app(app: Flask) -> None:
    """Create the app's storage (refusing an unsafe media folder): files in ``media_dir``, or in
    an S3-compatible bucket with ``media_dir`` keeping only temporary files and intents."""
    storage: Storage
    if app.config["MEDIA_STORAGE"] == "s3":
        from nuevonorte.object_storage import ObjectStorage

        storage = ObjectStorage.from_config(app.config, app.static_folder)
        storage.check_bucket()  # refuse to start on a bucket that keeps deleted bytes
    else:
        storage = Storage(app.config["MEDIA_DIR"], app.static_folder)
    app.extensions["nuevonorte.storage"] = storage


def get_storage() -> Storage:
    """The storage of the current app."""
    storage: Storage = current_app.extensions["nuevonorte.storage"]
    return storage
