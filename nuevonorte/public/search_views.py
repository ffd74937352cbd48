"""Public search: the page ``/<lang>/search`` and the JSON API ``/api/v1/search``.

Both only call ``nuevonorte.search.search_public``, which reads the public index — built
by construction from what the consent rule makes public — so no view decides visibility.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from nuevonorte import search, vocabulary
from nuevonorte.i18n import current_locale, is_locale, prefix_language
from nuevonorte.safe_input import page_number
from nuevonorte.search import SearchResults, SearchUnavailable
from nuevonorte.search.presentation import (
    facet_label,
    filter_args,
    page_url,
    problem_message,
)

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
    """The search page: form, results with snippets and transcript moments, facets, pages."""
    lang = current_locale()
    try:
        results = _run(lang, 10)
    except SearchUnavailable as e:
        current_app.logger.error("search unavailable: %s", e)
        return render_template("public/search.html", results=None, unavailable=True, q=""), 503
    message = problem_message(results.problem)
    return render_template(
        "public/search.html",
        results=results,
        unavailable=False,
        q=request.args.get("q", "")[:200],
        message=message,
        story_url=story_url,
        facet_label=facet_label,
        page_url=_page_url,
    )


def _page_url(**changes: Any) -> str:
    """The search page with ``changes``; a theme or place by its short id in the page's language."""
    lang = current_locale()
    localized = {k: vocabulary.url_value(k, v, lang) if isinstance(v, str) else v for k, v in changes.items()}
    return page_url("search.page", FACET_FILTERS, **localized)


@api.get("/search")
def api_search() -> tuple[Response, int] | Response:
    """JSON search: hits with snippets and transcript moments, facet counts, paging."""
    lang = request.args.get("lang", "")
    lang = lang if is_locale(lang) else current_app.config["BABEL_DEFAULT_LOCALE"]
    try:
        results = _run(lang, 20)
    except SearchUnavailable as e:
        current_app.logger.error("search unavailable: %s", e)
        body = {"error": "unavailable", "message": _("Search is temporarily unavailable.")}
        return jsonify(body), 503
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
                name: [{"value": v, "count": n} for v, n in vs] for name, vs in results.facets.items()
            },
            "hits": [
                {
                    "id": hit.public_id,
                    "title": hit.title(lang),
                    "url": story_url(hit.public_id, lang),
                    "language": hit.language,
                    "snippet": str(hit.snippet),
                    "themes": hit.themes,
                    "cues": [
                        {
                            "start_seconds": cue.start_seconds,
                            "text": str(cue.text_html),
                            "url": story_url(hit.public_id, lang, cue.start_seconds),
                        }
                        for cue in hit.cues
                    ],
                }
                for hit in results.hits
            ],
        }
    )
