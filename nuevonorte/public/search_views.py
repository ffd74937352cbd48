"""Public search: the page ``/<lang>/search`` and the JSON API ``/api/v1/search``.

Both only call ``nuevonorte.search.search_public``, which reads the public index — built
by construction from what the consent rule makes public — so no view decides visibility.
Thumbnails and content warnings come from the database, through the same rule
(``nuevonorte.public.cards``). An address too long to read gets a 414 in the visitor's
language (``nuevonorte.request_line``), on the page and the API alike.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import RequestURITooLarge
from werkzeug.wrappers import Response

from nuevonorte import search, vocabulary
from nuevonorte.i18n import current_locale, is_locale, negotiated_locale, prefix_language
from nuevonorte.models import Story
from nuevonorte.public.cards import card_image, public_stories_by_id
from nuevonorte.safe_input import page_number
from nuevonorte.search import SearchResults, SearchUnavailable
from nuevonorte.search.presentation import (
    facet_label,
    filter_args,
    page_url,
    problem_message,
)
from nuevonorte.search.query import MAX_QUERY_CHARS

bp = Blueprint("search", __name__, url_prefix="/<lang>")
api = Blueprint("search_api", __name__, url_prefix="/api/v1")

FACET_FILTERS = ("theme", "place", "country", "language", "media", "decade")


prefix_language(bp)


def _run(lang: str, pagelen: int) -> SearchResults:
    """Pick up lifted embargoes (once a day per worker), then search the public index."""
    search.index_due_embargoes()
    filters = vocabulary.url_filters(filter_args(FACET_FILTERS), lang)
    return search.search_public(request.args.get("q", ""), lang, filters, page_number(), pagelen)


def story_url(public_id: str, lang: str, seconds: int | None = None) -> str:
    """The public story page, at a moment of its recording when ``seconds`` is given (``?t=``)."""
    if seconds is None:
        return url_for("public.story", story_id=public_id, lang=lang)
    return url_for("public.story", story_id=public_id, lang=lang, t=seconds)


@bp.get("/search")
def page() -> tuple[str, int] | str:
    """The search page: results with snippets, thumbnails, warnings and transcript moments;
    facets beside them (behind "Filter" on a phone); pages."""
    lang = current_locale()
    try:
        results = _run(lang, 10)
    except SearchUnavailable as e:
        current_app.logger.error("search unavailable: %s", e)
        return _page(unavailable=True), 503
    return _page(results=results, message=problem_message(results.problem))


@bp.errorhandler(RequestURITooLarge)
def _too_long_page(_e: RequestURITooLarge) -> tuple[str, int]:
    """A search whose address is too long to read: the search page saying so, box empty."""
    return _page(message=problem_message("too-long-to-read")), RequestURITooLarge.code


def _page(results: SearchResults | None = None, message: str | None = None, unavailable: bool = False) -> str:
    q = request.args.get("q", "")[:MAX_QUERY_CHARS] if results else ""
    return render_template(
        "public/search.html",
        results=results,
        unavailable=unavailable,
        q=q,
        search_box_query=q,
        message=message,
        stories=public_stories_by_id(hit.public_id for hit in results.hits) if results else {},
        story_url=story_url,
        facet_label=facet_label,
        page_url=_page_url,
    )


def _page_url(**changes: Any) -> str:
    """The search page with ``changes``; a theme or place by its short id in the page's language."""
    lang = current_locale()
    localized = {k: vocabulary.url_value(k, v, lang) if isinstance(v, str) else v for k, v in changes.items()}
    return page_url("search.page", FACET_FILTERS, **localized)


@api.url_value_preprocessor
def _language(_endpoint: str | None, _values: dict[str, Any] | None) -> None:
    # The language of the ``lang`` argument when it names one, else Accept-Language: for the
    # results and every message alike. Set before any hook may refuse the request.
    lang = request.args.get("lang", "")
    g.lang = lang if is_locale(lang) else negotiated_locale()


@api.errorhandler(RequestURITooLarge)
def _too_long_api(_e: RequestURITooLarge) -> tuple[Response, int]:
    body = {
        "error": "too_long",
        "problem": "too-long-to-read",
        "lang": g.lang,
        "message": problem_message("too-long-to-read"),
    }
    return jsonify(body), RequestURITooLarge.code


@api.get("/search")
def api_search() -> tuple[Response, int] | Response:
    """JSON search: hits with snippets, thumbnails, warnings and transcript moments, facet
    counts, paging — in the language of ``lang`` (else Accept-Language, else Spanish)."""
    lang = str(g.lang)
    try:
        results = _run(lang, 20)
    except SearchUnavailable as e:
        current_app.logger.error("search unavailable: %s", e)
        body = {"error": "unavailable", "message": _("Search is temporarily unavailable.")}
        return jsonify(body), 503
    stories = public_stories_by_id(hit.public_id for hit in results.hits)
    return jsonify(
        {
            "query": results.query,
            "lang": lang,
            "total": results.total,
            "page": results.page,
            "pages": results.pages,
            "problem": results.problem,
            "message": problem_message(results.problem),
            "suggestion": results.suggestion,
            "facets": {
                name: [{"value": v, "count": n, "label": facet_label(name, v, lang)} for v, n in vs]
                for name, vs in results.facets.items()
            },
            "hits": [_hit_json(hit, lang, stories.get(hit.public_id)) for hit in results.hits],
        }
    )


def _hit_json(hit: search.SearchHit, lang: str, story: Story | None) -> dict[str, Any]:
    image = card_image(story) if story is not None else None
    return {
        "id": hit.public_id,
        "title": hit.title(lang),
        "url": story_url(hit.public_id, lang),
        "language": hit.language,
        "snippet": str(hit.snippet),
        "snippet_lang": hit.snippet_lang,
        "themes": hit.themes,
        "thumbnail": url_for("media.media", media_id=image.public_id, variant="thumbnail") if image else None,
        "content_warnings": story.warning_codes() if story is not None else [],
        "cues": [
            {
                "start_seconds": cue.start_seconds,
                "text": str(cue.text_html),
                "lang": cue.lang,
                "url": story_url(hit.public_id, lang, cue.start_seconds),
            }
            for cue in hit.cues
        ],
    }
