"""Ingest: the only way media enters the archive (stream to disk, clean in a sandbox, store)."""

from __future__ import annotations

import errno
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from flask import current_app
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from nuevonorte import faults
from nuevonorte.extensions import db
from nuevonorte.jobs.records import drafts_for_new_recordings
from nuevonorte.media import sandbox
from nuevonorte.media.errors import MediaRejected
from nuevonorte.media.report import IngestReport
from nuevonorte.models import MediaFile, MediaKind, Story
from nuevonorte.storage import (
    Storage,
    claim,
    content_type,
    discard_after_rollback,
    get_storage,
    sha256_file,
)

#: Uploads are copied in pieces this big: small enough that each read reuses heap memory
#: (a 1 MB piece is a fresh mapping and its page faults every time), large enough to be few.
CHUNK = 64 * 1024
DISPLAY_PX = 1600
THUMBNAIL_PX = 400
logger = logging.getLogger(__name__)
#: Defaults for the sandbox; an app may set MEDIA_TIMEOUT_SECONDS and MEDIA_MEMORY_MB.
TIMEOUT_SECONDS = 300.0
MEMORY_MB = 2048
DISK_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
#: The administrator's one line about a full disk, wherever it happened (in this process or in
#: the sandbox child): it says what to fix and nothing about the upload or the person
#: (docs/security.md M18, F03).
STORAGE_FULL_LOG = "storage full: an upload was refused"
#: The administrator's line about a file the archive could not clean (docs/security.md M22): a
#: value of the upload survived cleaning. It names the kind of value (errors.LEFTOVERS), never
#: the value, the file or the person; the file is the person's to replace, not a fault to fix.
NOT_CLEANED_LOG = "not cleaned: an upload was refused (leftover: %s)"
#: What kind each stored format is; decided here, not by the child or the upload. The
#: Content-Type comes from storage.content_type.
KINDS = {
    "jpg": MediaKind.IMAGE,
    "mp3": MediaKind.AUDIO,
    "m4a": MediaKind.AUDIO,
    "ogg": MediaKind.AUDIO,
    "webm": MediaKind.AUDIO,
    "flac": MediaKind.AUDIO,
    "wav": MediaKind.AUDIO,
}


@dataclass(frozen=True)
class Cleaned:
    """An upload cleaned and stored, not yet attached to any story (no database row yet)."""

    kind: MediaKind
    keys: dict[str, str]
    facts: dict[str, Any]
    size_bytes: int

    @property
    def report(self) -> IngestReport:
        """What was removed from the file, for the person who sent it."""
        return IngestReport(kind=self.kind, removed=list(self.facts.get("removed", [])))


def ingest_upload(
    story: Story, stream: IO[bytes], *, position: int | None = None
) -> tuple[MediaFile, IngestReport]:
    """Validate by decoding, strip, derive, store; append a MediaFile to story.media; flush.

    Raises MediaRejected and leaves nothing behind (no row, no file, no temporary file).
    """
    cleaned = clean_upload(stream)
    return attach(story, cleaned, position=position), cleaned.report


def clean_upload(stream: IO[bytes]) -> Cleaned:
    """Validate by decoding, strip, derive and store the files — without touching the database,
    so that no write lock is held meanwhile (a long upload never blocks other writers).

    The stored files belong to the session's transaction: they go if it rolls back, and, through
    its intent, if the process dies before it commits. Raises MediaRejected and then leaves no
    file and no temporary file.
    """
    storage = get_storage()
    config = current_app.config
    with _storing(storage) as (temps, new_keys):
        source = _receive(storage, stream, int(config["MAX_CONTENT_LENGTH"]), temps)
        outputs = {name: _new_temp(storage, temps) for name in ("original", "display", "thumbnail")}
        limits = {
            **_limits(),
            "max_pixels": int(config["MAX_IMAGE_PIXELS"]),
            "display_px": DISPLAY_PX,
            "thumbnail_px": THUMBNAIL_PX,
        }
        facts = sandbox.run(source, outputs, limits, _timeout())
        faults.point("ingest.cleaned")
        extension = str(facts["ext"])
        if extension not in KINDS:
            raise MediaRejected("corrupt")
        kind = KINDS[extension]
        names = ("original", "display", "thumbnail") if kind == MediaKind.IMAGE else ("original",)
        keys: dict[str, str] = {}
        for name in names:
            keys[name] = _store(storage, outputs[name], extension, new_keys)
        storage.sync_folders(new_keys)
        discard_after_rollback(db.session(), storage, new_keys)
        return Cleaned(kind, keys, facts, storage.size(keys["original"]))


def silenced_copy(original: str, ranges_ms: Sequence[tuple[int, int]]) -> str:
    """Store a copy of the stored recording ``original`` with ``ranges_ms`` silent; return its key.

    Made in the sandbox like any upload (the recording is parsed again), outside any database
    transaction; the new file belongs to the session's next transaction as in ``clean_upload``.
    """
    storage = get_storage()
    with _storing(storage) as (temps, new_keys):
        output = _new_temp(storage, temps)
        task = {"silence": [list(r) for r in ranges_ms]}
        with storage.local_copy(original) as source:
            facts = sandbox.run(source, {"public": output}, _limits(), _timeout(), task)
        extension = str(facts["ext"])
        if KINDS.get(extension) != MediaKind.AUDIO:
            raise MediaRejected("corrupt")
        key = _store(storage, output, extension, new_keys)
        storage.sync_folders(new_keys)
        discard_after_rollback(db.session(), storage, new_keys)
        return key


def _limits() -> dict[str, Any]:
    return {"memory_mb": int(current_app.config.get("MEDIA_MEMORY_MB", MEMORY_MB))}


def _timeout() -> float:
    return float(current_app.config.get("MEDIA_TIMEOUT_SECONDS", TIMEOUT_SECONDS))


@contextmanager
def _storing(storage: Storage) -> Iterator[tuple[list[IO[bytes]], list[str]]]:
    """Temporary files and newly stored keys of one job: on any failure the stored files go and
    the failure becomes a refusal code; the temporary files always go."""
    temps: list[IO[bytes]] = []
    new_keys: list[str] = []
    try:
        yield temps, new_keys
    except BaseException as error:
        for key in new_keys:
            storage.delete(key)
        # Refusals, database errors and HTTP errors such as a client that disconnected
        # mid-upload keep their meaning; anything else is a storage failure. A full disk, met
        # here or in the sandbox child, is the administrator's to fix: logged once, per upload.
        if isinstance(error, SQLAlchemyError | HTTPException) or not isinstance(error, Exception):
            raise
        refusal = error if isinstance(error, MediaRejected) else _storage_refusal(error)
        if refusal.code == "storage_full":
            logger.error(STORAGE_FULL_LOG)
        elif refusal.code == "not_cleaned":
            logger.warning(NOT_CLEANED_LOG, refusal.leftover)
        if refusal is error:
            raise
        raise refusal from error
    finally:
        # Unlinked before closed: the lock (storage.temp_file) is held until the file is gone.
        for f in temps:
            Path(f.name).unlink(missing_ok=True)
            f.close()


def _storage_refusal(error: Exception) -> MediaRejected:
    """The refusal for an error of the web process itself: a full disk, or any other failure."""
    if isinstance(error, OSError) and error.errno in DISK_FULL:
        return MediaRejected("storage_full")
    return MediaRejected("storage_error")


def attach(story: Story, cleaned: Cleaned, *, position: int | None = None) -> MediaFile:
    """Append the row of a cleaned upload to ``story.media`` and flush (a quick database write).

    On a database error the row is detached again; the caller rolls back, which discards the files.
    """
    original = cleaned.keys["original"]
    media = MediaFile(
        kind=cleaned.kind,
        position=len(story.media) if position is None else position,
        mime_type=content_type(original) or "application/octet-stream",
        storage_key=original,
        checksum=original.split(".", 1)[0],
        size_bytes=cleaned.size_bytes,
        width=cleaned.facts.get("width"),
        height=cleaned.facts.get("height"),
        duration_seconds=cleaned.facts.get("duration"),
        display_key=cleaned.keys.get("display"),
        thumbnail_key=cleaned.keys.get("thumbnail"),
    )
    story.media.append(media)
    try:
        db.session.flush()
    except BaseException:
        _detach(story, media)
        raise
    if media.kind == MediaKind.AUDIO:
        drafts_for_new_recordings(media)
    return media


def _new_temp(storage: Storage, temps: list[IO[bytes]]) -> str:
    """A locked temporary file for the sandbox to write into; stays open (locked) until the end."""
    f = storage.temp_file()
    temps.append(f)
    return f.name


def _receive(storage: Storage, stream: IO[bytes], limit: int, temps: list[IO[bytes]]) -> str:
    """Copy the upload to a temporary file in chunks, refusing it once it passes ``limit``."""
    size = 0
    f = storage.temp_file()
    temps.append(f)
    while chunk := stream.read(CHUNK):
        size += len(chunk)
        if size > limit:
            raise MediaRejected("too_large")
        f.write(chunk)
        faults.point("upload.receiving")
    f.flush()
    if size == 0:
        raise MediaRejected("empty")
    return f.name


def _store(storage: Storage, path: str, extension: str, new_keys: list[str]) -> str:
    """Move a cleaned file into storage (read once, to hash it); remember it as new unless the
    same content was already stored, in which case the stored file is used as it is. The key
    is claimed in the transaction's intent first, so a crash from here on is recovered."""
    digest = sha256_file(path)
    key = f"{digest}.{extension}"

    def store() -> None:
        if not storage.exists(key):
            new_keys.append(storage.put_file(path, extension, digest=digest, sync_folder=False))

    claim(db.session(), storage, key, store)
    return key


def _detach(story: Story, media: MediaFile) -> None:
    """Forget a half-made media row."""
    try:
        if media in story.media:
            story.media.remove(media)
        if media in db.session:
            db.session.expunge(media)
    except Exception:
        logger.debug("could not detach a half-made media row; the caller rolls back")
