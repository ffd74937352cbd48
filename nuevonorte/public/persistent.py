"""Persistent addresses: one URL per story and per collection that never changes with the
language, the page layout or the host's paths — what citations, OAI-PMH records, the Atom feeds
and the read API hand out (``/s/<id>``, ``/c/<id>``).

Each sends the visitor to the page in their browser's language (302, so the page's own address
may change later without breaking any citation). A story or collection that is not public gets
the same 404 as one that never existed, as its page does.
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from nuevonorte import consent
from nuevonorte.extensions import db
from nuevonorte.i18n import negotiated_locale
from nuevonorte.models import Collection, Story
from nuevonorte.public.address import absolute_url

bp = Blueprint("persistent", __name__)


def story_url(public_id: str) -> str:
    """The persistent, absolute URL of a story."""
    return absolute_url("persistent.story", story_id=public_id)


def collection_url(public_id: str) -> str:
    """The persistent, absolute URL of a collection."""
    return absolute_url("persistent.collection", collection_id=public_id)


@bp.get("/s/<story_id>")
def story(story_id: str) -> Response:
    found = db.session.scalar(select(Story).where(Story.public_id == story_id))
    if found is None or not consent.story_is_public(found):
        abort(404)
    return redirect(url_for("public.story", lang=negotiated_locale(), story_id=story_id), 302)


@bp.get("/c/<collection_id>")
def collection(collection_id: str) -> Response:
    found = db.session.scalar(select(Collection).where(Collection.public_id == collection_id))
    if found is None or not consent.collection_is_public(found):
        abort(404)
    return redirect(url_for("public.collection", lang=negotiated_locale(), collection_id=collection_id), 302)
