"""Persistent addresses: one URL per story and per collection that never changes with the
language, the page layout or the host's paths — what citations, OAI-PMH records, the Atom feeds
and the read API hand out (``/s/<id>``, ``/c/<id>``).

Each sends the visitor to the page in their browser's language (302, so the page's own address
may change later without breaking any citation). A story or collection that is not public gets
the same 404 as one that never existed, as its page does.
"""

from __future__ import annotations

from flask import Blueprint, redirect, url_for
from werkzeug.wrappers import Response

from nuevonorte.i18n import negotiated_locale
from nuevonorte.public.address import absolute_url
from nuevonorte.public.lookup import collection_or_404, story_or_404

bp = Blueprint("persistent", __name__)


def story_url(public_id: str) -> str:
    """The persistent, absolute URL of a story."""
    return absolute_url("persistent.story", story_id=public_id)


def collection_url(public_id: str) -> str:
    """The persistent, absolute URL of a collection."""
    return absolute_url("persistent.collection", collection_id=public_id)


@bp.get("/s/<story_id>")
def story(story_id: str) -> Response:
    story_or_404(story_id)
    return redirect(url_for("public.story", lang=negotiated_locale(), story_id=story_id), 302)


@bp.get("/c/<collection_id>")
def collection(collection_id: str) -> Response:
    collection_or_404(collection_id)
    return redirect(url_for("public.collection", lang=negotiated_locale(), collection_id=collection_id), 302)
