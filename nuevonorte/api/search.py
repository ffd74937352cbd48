"""The JSON search API, ``GET /api/v1/search``: the same search as the public page
(``nuevonorte.public.search_views.run_search``: only the public index, so no view decides
visibility), with hits, snippets, thumbnails, warnings, transcript moments, facet counts and
paging. Its language is ``lang`` when given, else Accept-Language, else Spanish; an address too
long to read is a JSON 414 in that language."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, jsonify, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import RequestURITooLarge
from werkzeug.wrappers import Response

from nuevonorte import search
from nuevonorte.i18n import is_locale, negotiated_locale
from nuevonorte.models import Story
from nuevonorte.public.cards import card_image, public_stories_by_id
from nuevonorte.public.search_views import run_search, story_url
from nuevonorte.search import SearchUnavailable
from nuevonorte.search_presentation import facet_label, problem_message

bp = Blueprint("search_api", __name__, url_prefix="/api/v1")


@bp.url_value_preprocessor
def _language(_endpoint: str | None, _values: dict[str, Any] | None) -> None:
    # The language of the ``lang`` argument when it names one, else Accept-Language: for the
    # results and every message alike. Set before any hook may refuse the request.
    lang = request.args.get("lang", "")
    g.lang = lang if is_locale(lang) else negotiated_locale()


@bp.errorhandler(RequestURITooLarge)
def _too_long_api(_e: RequestURITooLarge) -> tuple[Response, int]:
    body = {
        "error": "too_long",
        "problem": "too-long-to-read",
        "lang": g.lang,
        "message": problem_message("too-long-to-read"),
    }
    return jsonify(body), RequestURITooLarge.code


@bp.get("/search")
def api_search() -> tuple[Response, int] | Response:
    """JSON search: hits with snippets, thumbnails, warnings and transcript moments, facet
    counts, paging — in the language of ``lang`` (else Accept-Language, else Spanish)."""
    lang = str(g.lang)
    try:
        results = run_search(lang, 20)
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
        "url": story_url(hit.public_id, lang, source=hit.source),
        "source": hit.source,
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
