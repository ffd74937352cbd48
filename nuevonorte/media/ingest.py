"""Ingest: the only way media enters the archive (stream to disk, clean in a sandbox, store)."""

from __future__ import annotations

import errno
import logging
from pathlib import Path
from typing import IO

from flask import current_app
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from nuevonorte.extensions import db
from nuevonorte.media import sandbox
from nuevonorte.media.errors import MediaRejected
from nuevonorte.media.report import IngestReport
from nuevonorte.models import MediaFile, MediaKind, Story
from nuevonorte.storage import Storage, content_type, discard_after_rollback, get_storage, sha256_file

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


def ingest_upload(
    story: Story, stream: IO[bytes], *, position: int | None = None
) -> tuple[MediaFile, IngestReport]:
    """Validate by decoding, strip, derive, store; append a MediaFile to story.media; flush.

    Raises MediaRejected and leaves nothing behind (no row, no file, no temporary file).
    """
    storage = get_storage()
    config = current_app.config
    temps: list[str] = []
    new_keys: list[str] = []
    media: MediaFile | None = None
    try:
        source = _receive(storage, stream, int(config["MAX_CONTENT_LENGTH"]), temps)
        outputs = {name: _new_temp(storage, temps) for name in ("original", "display", "thumbnail")}
        limits = {
            "max_pixels": int(config["MAX_IMAGE_PIXELS"]),
            "memory_mb": int(config.get("MEDIA_MEMORY_MB", MEMORY_MB)),
            "display_px": DISPLAY_PX,
            "thumbnail_px": THUMBNAIL_PX,
        }
        timeout = float(config.get("MEDIA_TIMEOUT_SECONDS", TIMEOUT_SECONDS))
        facts = sandbox.run(source, outputs, limits, timeout)
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
        original = storage.path(keys["original"])
        media = MediaFile(
            kind=kind,
            position=len(story.media) if position is None else position,
            mime_type=content_type(keys["original"]) or "application/octet-stream",
            storage_key=keys["original"],
            checksum=keys["original"].split(".", 1)[0],
            size_bytes=original.stat().st_size,
            width=facts.get("width"),
            height=facts.get("height"),
            duration_seconds=facts.get("duration"),
            display_key=keys.get("display"),
            thumbnail_key=keys.get("thumbnail"),
        )
        story.media.append(media)
        db.session.flush()
        return media, IngestReport(kind=kind, removed=list(facts.get("removed", [])))
    except BaseException as error:
        _undo(storage, story, media, new_keys)
        # Refusals, database errors (the caller rolls back) and HTTP errors such as a client that
        # disconnected mid-upload keep their meaning; anything else is a storage failure.
        if isinstance(error, MediaRejected | SQLAlchemyError | HTTPException) or not isinstance(
            error, Exception
        ):
            raise
        if isinstance(error, OSError) and error.errno in DISK_FULL:
            raise MediaRejected("storage_full") from error
        raise MediaRejected("storage_error") from error
    finally:
        for path in temps:
            Path(path).unlink(missing_ok=True)


def _new_temp(storage: Storage, temps: list[str]) -> str:
    with storage.temp_file() as f:
        temps.append(f.name)
        return f.name


def _receive(storage: Storage, stream: IO[bytes], limit: int, temps: list[str]) -> str:
    """Copy the upload to a temporary file in chunks, refusing it once it passes ``limit``."""
    size = 0
    with storage.temp_file() as f:
        temps.append(f.name)
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if size > limit:
                raise MediaRejected("too_large")
            f.write(chunk)
    if size == 0:
        raise MediaRejected("empty")
    return f.name


def _store(storage: Storage, path: str, extension: str, new_keys: list[str]) -> str:
    """Move a cleaned file into storage (read once, to hash it); remember it as new unless the
    same content was already stored, in which case the stored file is used as it is."""
    digest = sha256_file(path)
    key = f"{digest}.{extension}"
    if storage.exists(key):
        return key
    new_keys.append(storage.put_file(path, extension, digest=digest, sync_folder=False))
    return key


def _undo(storage: Storage, story: Story, media: MediaFile | None, new_keys: list[str]) -> None:
    """Forget the half-made media: its row and the files this call added."""
    if media is not None:
        try:
            if media in story.media:
                story.media.remove(media)
            if media in db.session:
                db.session.expunge(media)
        except Exception:
            logger.debug("could not detach a half-made media row; the caller rolls back")
    for key in new_keys:
        storage.delete(key)
