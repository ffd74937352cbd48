"""A contributor's own files, served to them alone on "my story" (docs/security.md A04, A07).

So that a person can tell which file they are deleting, the page shows each photo's thumbnail and
a player for each recording. Those come from here, never from the public handler: whatever the
story's consent or status (a private story's photos too), the signed-in contributor gets the
cleaned, stored files of their own stories, and everyone else — nobody signed in, another
contributor, a curator, a file or story withdrawn — the same 404. Nothing is cached anywhere
(``no-store``, no validators), and no file name goes out.

A recording with passages the curators withheld is served whole: the person recorded it, and
withholding decides only what the public hears (T05). The stored original is the cleaned file
curators hear too; the silenced copy is for the public alone.
"""

from __future__ import annotations

from flask import Blueprint, abort
from sqlalchemy import select
from werkzeug.wrappers import Response

from nuevonorte.contribute import signin
from nuevonorte.extensions import db
from nuevonorte.models import MediaFile, MediaKind, Story, StoryStatus
from nuevonorte.public.media import send_stored

bp = Blueprint("own_media", __name__)

#: What the owner may fetch of each kind of file: a photo's thumbnail, a recording whole.
VARIANTS = {MediaKind.IMAGE: "thumbnail", MediaKind.AUDIO: "recording"}


@bp.get("/my-stories/media/<media_id>/<variant>")
def own_media(media_id: str, variant: str) -> Response:
    """One of the signed-in contributor's own files; one identical 404 for anything else."""
    found = _own_file(media_id)
    if found is None or VARIANTS.get(found.kind) != variant:
        abort(404)
    # Nothing here may be revalidated from a cache: no validators (blueprint: no-store).
    response = send_stored(_stored_key(found), etag=None, max_age=0)
    response.headers.pop("Expires", None)
    return response


@bp.after_request
def _never_cached(response: Response) -> Response:
    # Every answer of this handler, its 404s included: a shared or browser cache must keep
    # no copy of a person's unpublished files (or of whether they exist).
    response.headers["Cache-Control"] = "no-store"
    return response


def _own_file(media_id: str) -> MediaFile | None:
    """The media file ``media_id`` if it belongs to a live story of the signed-in contributor."""
    contributor = signin.current()
    if contributor is None:
        return None
    return db.session.scalar(
        select(MediaFile)
        .join(Story, MediaFile.story_id == Story.id)
        .where(
            MediaFile.public_id == media_id,
            Story.contributor_id == contributor.id,
            Story.status != StoryStatus.WITHDRAWN,
        )
    )


def _stored_key(media: MediaFile) -> str | None:
    """The stored file the owner sees: a photo's thumbnail (else its larger copies), a recording's
    cleaned original."""
    if media.kind == MediaKind.IMAGE:
        return media.thumbnail_key or media.display_key or media.storage_key
    return media.storage_key
