"""The read API, ``GET /api/v1/...``: stories, collections, themes, places and the change feed,
as JSON, for partner archives, aggregators and anyone building on the public archive.

Everything goes through the consent rule (``nuevonorte.consent``'s queries and predicates);
texts come in both languages side by side; messages follow ``lang``, else Accept-Language, else
Spanish. Lists are paged (``page``); the change feed is read from a cursor (``since``). Every
answer may be read from any website (CORS, read-only, no credentials). Its document is
``/api/v1/openapi.json`` (``nuevonorte.api.openapi``).
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, g, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import func
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from nuevonorte import changes, consent, term_counts, vocabulary
from nuevonorte.api import openapi, representation
from nuevonorte.collections import collections_showing
from nuevonorte.extensions import db
from nuevonorte.i18n import is_locale, negotiated_locale
from nuevonorte.models import Collection, Place, Story, Theme
from nuevonorte.public.address import absolute_url
from nuevonorte.public.lookup import collection_or_404, story_or_404
from nuevonorte.public.persistent import collection_url, story_url
from nuevonorte.safe_input import page_number

bp = Blueprint("read_api", __name__, url_prefix="/api/v1")

#: Stories or collections per page of a list.
PAGE_SIZE = 50
#: Changes per page of the change feed.
CHANGES_PAGE = 100
#: A cursor: the number of the last change read.
CURSOR = re.compile(r"[0-9]{1,18}")
#: What a list of stories loads for a whole page at once.
WITH_SUMMARY = (selectinload(Story.media), selectinload(Story.consents))


@bp.url_value_preprocessor
def _language(_endpoint: str | None, _values: dict[str, Any] | None) -> None:
    lang = request.args.get("lang", "")
    g.lang = lang if is_locale(lang) else negotiated_locale()


def _error(code: str, message: str, status: int) -> tuple[Response, int]:
    return jsonify(error=code, message=message), status


@bp.get("/stories")
def stories() -> Response | tuple[Response, int]:
    """Public stories, newest first; ``theme`` and ``place`` (a short id in either language)
    narrow the list."""
    query = consent.public_stories()
    for name, model, link in (("theme", Theme, Story.themes), ("place", Place, Story.places)):
        slug = request.args.get(name)
        if slug is None:
            continue
        found = vocabulary.find_term(model, slug, str(g.lang)) or vocabulary.find_term(
            model, slug, "en" if g.lang == "es" else "es"
        )
        if found is None:
            return _error("unknown_term", _("There is no theme or place with that short name."), 404)
        query = query.where(link.any(model.id == found.id))
    page = page_number()
    total = db.session.scalar(query.with_only_columns(func.count(Story.id)).order_by(None)) or 0
    found_stories = db.session.scalars(
        query.order_by(Story.published_on.desc(), Story.id.desc())
        .options(*WITH_SUMMARY)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return _page("stories", [representation.story_summary(s) for s in found_stories], page, total)


@bp.get("/stories/<story_id>")
def story(story_id: str) -> Response:
    """One public story: the same 404 for one that never existed, one not public, one withdrawn."""
    found = story_or_404(story_id)
    return jsonify(representation.story(found, collections_showing(found)))


@bp.get("/collections")
def collections() -> Response:
    """Published collections, newest first."""
    page = page_number()
    query = consent.public_collections()
    total = db.session.scalar(query.with_only_columns(func.count(Collection.id)).order_by(None)) or 0
    found = db.session.scalars(
        query.order_by(Collection.published_on.desc(), Collection.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return _page("collections", [representation.collection_summary(c) for c in found], page, total)


@bp.get("/collections/<collection_id>")
def collection(collection_id: str) -> Response:
    """One published collection, its entries in order."""
    return jsonify(representation.collection(collection_or_404(collection_id)))


@bp.get("/themes")
def themes() -> Response:
    """Every theme that names a public story, with how many (a term of only hidden stories is
    not listed: its name alone can say too much)."""
    terms = term_counts.in_public_use(Theme)
    return jsonify(themes=[representation.term(t, n) for t, n in terms])


@bp.get("/places")
def places() -> Response:
    """Every place that names a public story, with how many."""
    terms = term_counts.in_public_use(Place)
    return jsonify(places=[representation.term(p, n) for p, n in terms])


@bp.get("/changes")
def change_feed() -> Response | tuple[Response, int]:
    """Every public addition, update and removal after the cursor ``since`` (0, or none: from
    the beginning), oldest first, a page at a time; ``next`` is the cursor to send next, also
    when nothing new has come yet."""
    since = request.args.get("since", "0")
    if not CURSOR.fullmatch(since):
        return _error("bad_cursor", _("The cursor is not one this archive gave."), 400)
    epoch = changes.epoch()
    changes.announce_due()
    cursor = int(since)
    if cursor > changes.last_seq():  # never given (or given before a restored, older backup)
        message = _("This archive has not reached that cursor. Read the changes again from the start.")
        return _error("bad_cursor", message, 400)
    entries, more = changes.read(cursor, CHANGES_PAGE)
    following = entries[-1].seq if entries else cursor
    return jsonify(
        epoch=epoch,
        changes=[_change(e) for e in entries],
        next=str(following),
        more=more,
        next_url=absolute_url("read_api.change_feed", since=following),
    )


@bp.get("/openapi.json")
def openapi_document() -> Response:
    """This API's OpenAPI 3.1 document."""
    return jsonify(openapi.document())


def _change(entry: changes.Entry) -> dict[str, Any]:
    url = story_url(entry.public_id) if entry.kind is changes.Kind.STORY else collection_url(entry.public_id)
    api_url = None
    if entry.change is not changes.Change.REMOVED:
        api_url = (
            absolute_url("read_api.story", story_id=entry.public_id)
            if entry.kind is changes.Kind.STORY
            else absolute_url("read_api.collection", collection_id=entry.public_id)
        )
    return {
        "cursor": str(entry.seq),
        "type": str(entry.kind),
        "id": entry.public_id,
        "change": str(entry.change),
        "day": entry.day.isoformat(),
        "url": url,
        "api_url": api_url,
    }


def _page(name: str, items: list[dict[str, Any]], page: int, total: int) -> Response:
    pages = max(1, -(-total // PAGE_SIZE))
    if page > pages:
        raise NotFound()
    args = {k: v for k, v in request.args.items() if k in ("theme", "place", "lang")}
    return jsonify(
        {
            name: items,
            "page": page,
            "pages": pages,
            "total": total,
            "next_url": absolute_url(str(request.endpoint), page=page + 1, **args) if page < pages else None,
        }
    )
