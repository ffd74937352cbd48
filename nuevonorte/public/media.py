"""The one handler that serves media to the public, after asking the consent rule (A02, A07)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any

from flask import Blueprint, abort, current_app, request
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.wrappers import Response
from werkzeug.wsgi import FileWrapper, wrap_file

from nuevonorte import consent, transcripts
from nuevonorte.extensions import db
from nuevonorte.models import MediaFile, MediaKind, Story, Transcript
from nuevonorte.public import page_cache
from nuevonorte.storage import StorageError, content_type, get_storage

#: How much of a bucket's object is sent at a time.
CHUNK = 256 * 1024

bp = Blueprint("media", __name__)

VARIANTS = ("original", "display", "thumbnail")
#: Seconds anyone may keep a public file, manifest, feed or player (a browser, a proxy, a
#: partner's viewer): short, so a withdrawal or a narrowed consent reaches everyone within minutes.
MAX_AGE = 300
MEDIA_CSP = "default-src 'none'; sandbox"
#: The internal nginx location over the media folder (``media_sendfile = "nginx"``).
NGINX_LOCATION = "/_nuevonorte_media/"
#: Longer media ids than this are never remembered (a public id is far shorter).
MAX_ID_CHARS = 64


@bp.get("/media/<media_id>/<variant>")
def media(media_id: str, variant: str) -> Response:
    """A public media file; one identical 404 for missing, non-public and unknown variants."""
    if variant not in VARIANTS:  # before anything is looked up or remembered
        abort(404)
    key, now = _decided_key(media_id, variant)
    if key is None:
        abort(404)
    asked = page_cache.request_key(request.environ) if now and page_cache.plain(request.environ) else None
    storage = get_storage()
    if current_app.config.get("MEDIA_SENDFILE") == "nginx":
        response = sent_by_nginx(key)
        if asked is not None:  # the empty answer that names the file, given while the file is there
            page_cache.keep(request.environ, (*asked, *now), storage, key, named=True)
    else:
        response = send_stored(key, etag=key.split(".")[0], max_age=MAX_AGE)
        if asked is not None and not storage.remote:  # the file opened again for each answer
            page_cache.keep(request.environ, (*asked, *now), storage, key)
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    # Partners show public files from here (the read API, IIIF, embeds hand out these
    # addresses), so that a withdrawal reaches their pages too: another site may load them.
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@bp.get("/media/<media_id>/transcript.vtt")
def transcript_vtt(media_id: str) -> Response:
    """A recording's public transcript as WebVTT (captions for a player, or a file to keep):
    only while the consent rule makes the recording public, withheld passages left out (their
    seconds are silent in the public recording). The same 404 as for anything not public."""
    found = _media_with_consent(media_id)
    # Only while the recording itself is public: a private voice's media id is never shown (A02).
    # A machine draft nobody reviewed is not public either (consent.transcript_is_public).
    if found is None or found.transcript is None or not consent.media_is_public(found):
        abort(404)
    if not consent.transcript_is_public(found):
        abort(404)
    shown = [
        (cue, label)
        for cue, label in zip(consent.public_cues(found), transcripts.public_speakers(found), strict=True)
        if cue is not None
    ]
    vtt = transcripts.to_vtt(
        [cue for cue, _ in shown], found.transcript.language, [label for _, label in shown]
    )
    response = Response(vtt, content_type="text/vtt; charset=utf-8")
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = f'attachment; filename="transcript-{found.public_id}.vtt"'
    return response


def _decided_key(media_id: str, variant: str) -> tuple[str | None, tuple[Any, ...]]:
    """What ``public_key`` says for this media and variant: asked again whenever the archive
    changed since this worker last asked (``page_cache.Decisions``), else remembered; with the
    generation it holds for (empty when nothing is remembered)."""
    decisions = page_cache.media_decisions()
    now = page_cache.generation() if decisions is not None else ()
    if decisions is not None:
        known, key = decisions.get(media_id, variant, now)
        if known:
            return key, now
    found = _media_with_consent(media_id)
    key = public_key(found, variant) if found is not None else None
    if decisions is not None and len(media_id) <= MAX_ID_CHARS:
        decisions.put(media_id, variant, now, key)
    return key, now


def _media_with_consent(media_id: str) -> MediaFile | None:
    """A media file with what the consent rule reads about it (its story's consents, its cues)."""
    return db.session.scalar(
        select(MediaFile)
        .where(MediaFile.public_id == media_id)
        .options(
            joinedload(MediaFile.story).selectinload(Story.consents),
            selectinload(MediaFile.transcript).selectinload(Transcript.cues),
        )
    )


def public_key(media: MediaFile, variant: str) -> str | None:
    """The stored file the public gets as ``variant`` of ``media``, or None: nothing the consent
    rule does not make public, and a recording only as ``consent.public_audio_key`` says. The
    media handler and the public export (``nuevonorte.export``) both ask this."""
    if variant not in VARIANTS or not consent.media_is_public(media):
        return None
    if media.kind == MediaKind.AUDIO:
        # Withheld passages are heard as silence, or the recording not at all (T05).
        return consent.public_audio_key(media) if variant == "original" else None
    keys = {"original": media.storage_key, "display": media.display_key, "thumbnail": media.thumbnail_key}
    return keys[variant]


def sent_by_nginx(key: str) -> Response:
    """An empty answer that tells nginx which stored file to send (X-Accel-Redirect): nginx reads
    it from ``NGINX_LOCATION``, an ``internal`` location over the media folder that only such
    an answer can reach, and answers Range requests itself (docs/parts/media.md has the
    configuration; it adds the security headers there, as nginx keeps only a few of ours)."""
    path, served_as = _stored(key)
    response = Response(mimetype=served_as)
    response.headers["X-Accel-Redirect"] = NGINX_LOCATION + path.relative_to(get_storage().root).as_posix()
    return _sandboxed(response)


def send_stored(key: str | None, *, etag: str | None, max_age: int) -> Response:
    """The stored file ``key`` as a response: its length, Range and If-None-Match answered, the
    cache headers; or the same 404 as for anything missing. Sandboxed, never sniffed, without a
    file name or the zeroed storage times (M16). A file of the media folder goes out through
    the server's file wrapper (sendfile); an object of a bucket is streamed through the app
    (never a presigned address), with werkzeug's own wrapper so that a Range answer seeks the
    reader: one ranged GET from the asked offset, not the object read from its start."""
    storage = get_storage()
    served_as = content_type(key or "")
    if not key or served_as is None:
        abort(404)
    try:
        reader = storage.open(key)
    except (OSError, StorageError):  # missing, or not a stored file
        abort(404)
    return _sandboxed(_send_reader(reader, served_as, etag=etag, max_age=max_age, local=not storage.remote))


def _send_reader(
    reader: IO[bytes], served_as: str, *, etag: str | None, max_age: int, local: bool
) -> Response:
    """An open stored file as a response (see ``send_stored``); closed if anything fails."""
    try:
        size = reader.seek(0, os.SEEK_END)  # a bucket's object knows it from its head: no request
        reader.seek(0)
        body = wrap_file(request.environ, reader, CHUNK) if local else FileWrapper(reader, CHUNK)
        response = Response(body, mimetype=served_as, direct_passthrough=True)
        response.content_length = size
        if max_age:
            response.cache_control.public = True
            response.cache_control.max_age = max_age
        else:
            response.cache_control.no_cache = True
        if etag:
            response.set_etag(etag)
        return response.make_conditional(request.environ, accept_ranges=True, complete_length=size)
    except BaseException:
        reader.close()  # a Range that cannot be satisfied (416), or anything else
        raise


def _stored(key: str | None) -> tuple[Path, str]:
    """The path of the stored file ``key`` and the type it is served as; the same 404 as for
    anything missing when it is not a servable key or its file is not there."""
    served_as = content_type(key or "")
    if not key or served_as is None:
        abort(404)
    try:
        path = get_storage().path(key)
    except StorageError:
        abort(404)
    if not path.is_file():
        abort(404)
    return path, served_as


def _sandboxed(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = MEDIA_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
