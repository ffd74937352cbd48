"""Public search: the page ``/<lang>/search`` (the JSON API, ``/api/v1/search``, is
``nuevonorte.api.search``).

Both only call ``nuevonorte.search.search_public``, which reads the public index — built
by construction from what the consent rule makes public — so no view decides visibility.
Thumbnails and content warnings come from the database, through the same rule
(``nuevonorte.public.cards``). An address too long to read gets a 414 in the visitor's
language (``nuevonorte.request_line``), on the page and the API alike.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, request, url_for
from werkzeug.exceptions import RequestURITooLarge

from nuevonorte import search, vocabulary
from nuevonorte.i18n import current_locale, prefix_language
from nuevonorte.public.cards import public_stories_by_id
from nuevonorte.safe_input import page_number
from nuevonorte.search import SearchResults, SearchUnavailable
from nuevonorte.search.query import MAX_QUERY_CHARS
from nuevonorte.search_presentation import (
    facet_label,
    filter_args,
    page_url,
    problem_message,
)

bp = Blueprint("search", __name__, url_prefix="/<lang>")

FACET_FILTERS = ("theme", "place", "country", "language", "media", "decade", "source")


prefix_language(bp)


def run_search(lang: str, pagelen: int) -> SearchResults:
    """Pick up lifted embargoes (once a day per worker), then search the public index."""
    search.index_due_embargoes()
    filters = vocabulary.url_filters(filter_args(FACET_FILTERS), lang)
    return search.search_public(request.args.get("q", ""), lang, filters, page_number(), pagelen)


def story_url(public_id: str, lang: str, seconds: int | None = None, source: str = "here") -> str:
    """The public story page, at a moment of its recording when ``seconds`` is given (``?t=``);
    a partner archive's story (``source`` "p<id>") has its page under ``/from/``."""
    if source != "here":
        return url_for("partner_public.story", story_id=public_id, lang=lang)
    if seconds is None:
        return url_for("public.story", story_id=public_id, lang=lang)
    return url_for("public.story", story_id=public_id, lang=lang, t=seconds)


@bp.get("/search")
def page() -> tuple[str, int] | str:
    """The search page: results with snippets, thumbnails, warnings and transcript moments;
    facets beside them (behind "Filter" on a phone); pages."""
    lang = current_locale()
    try:
        results = run_search(lang, 10)
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
