"""Public search: the page ``/<lang>/search`` and the JSON API ``/api/v1/search``.

Both only call ``nuevonorte.search.search_public``, which reads the public index — built
by construction from what the consent rule makes public — so no view decides visibility.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from nuevonorte import search
from nuevonorte.i18n import current_locale, is_locale, prefix_language
from nuevonorte.search import SearchResults, SearchUnavailable

bp = Blueprint("search", __name__, url_prefix="/<lang>")
api = Blueprint("search_api", __name__, url_prefix="/api/v1")

FACET_FILTERS = ("theme", "place", "country", "language", "media", "decade")


prefix_language(bp)


def _page_arg() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and len(raw) < 6 else 1


def _filters() -> dict[str, str]:
    return {name: request.args.get(name, "") for name in FACET_FILTERS if request.args.get(name)}


def _run(lang: str, pagelen: int) -> SearchResults:
    """Pick up lifted embargoes (once a day per worker), then search the public index."""
    search.index_due_embargoes()
    return search.search_public(request.args.get("q", ""), lang, _filters(), _page_arg(), pagelen)


def story_url(public_id: str, lang: str, seconds: int | None = None) -> str:
    """The public story page, at a moment of its recording when ``seconds`` is given (``?t=``)."""
    if seconds is None:
        return url_for("public.story", story_id=public_id, lang=lang)
    return url_for("public.story", story_id=public_id, lang=lang, t=seconds)


PROBLEMS = {
    "empty": lambda: _("Type a word or a name to search the archive."),
    "bad-filter": lambda: _("One of the filters was not valid and was left out."),
    "page-out-of-range": lambda: _("There are fewer pages of results; this is the last one."),
    "too-long": lambda: _("Your search was very long, so only its beginning was used."),
}


@bp.get("/search")
def page() -> tuple[str, int] | str:
    """The search page: form, results with snippets and transcript moments, facets, pages."""
    lang = current_locale()
    try:
        results = _run(lang, 10)
    except SearchUnavailable as e:
        current_app.logger.error("search unavailable: %s", e)
        return render_template("public/search.html", results=None, unavailable=True, q=""), 503
    message = PROBLEMS[results.problem]() if results.problem in PROBLEMS else None
    return render_template(
        "public/search.html",
        results=results,
        unavailable=False,
        q=request.args.get("q", "")[:200],
        message=message,
        story_url=story_url,
        facet_label=_facet_label,
        page_url=_page_url,
    )


def _page_url(**changes: Any) -> str:
    args = {k: v for k, v in request.args.items() if k in (*FACET_FILTERS, "q", "page")}
    args.update(changes)
    kept: dict[str, Any] = {k: v for k, v in args.items() if v not in (None, "")}
    return url_for("search.page", **kept)


def _facet_label(name: str, value: str, lang: str) -> str:
    """A readable label for a facet value (theme and place names from the vocabulary)."""
    from sqlalchemy import select

    from nuevonorte.extensions import db
    from nuevonorte.models import Place, Theme

    if name == "theme":
        theme = db.session.scalar(select(Theme).where(Theme.slug == value))
        return theme.name(lang) if theme else value
    if name == "place":
        place = db.session.scalar(select(Place).where(Place.slug == value))
        return place.name(lang) if place else value
    if name == "language":
        return str({"es": _("Spanish"), "en": _("English")}.get(value, value))
    if name == "media":
        labels = {
            "text": _("Text"),
            "audio": _("Audio"),
            "image": _("Photos"),
            "transcript": _("Transcript"),
        }
        return str(labels.get(value, value))
    return value.upper() if name == "country" else value


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
            "message": PROBLEMS[results.problem]() if results.problem in PROBLEMS else None,
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
