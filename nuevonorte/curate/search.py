"""Staff search: every story that is not withdrawn, for curators, linked to their review pages.

The view only calls ``nuevonorte.search.search_staff``; the staff index decides what is in it.
"""

from __future__ import annotations

from flask import current_app, render_template, request, url_for

from nuevonorte import search
from nuevonorte.curate.auth import curator_required
from nuevonorte.curate.views import bp
from nuevonorte.curate.wording import status_label
from nuevonorte.i18n import current_locale
from nuevonorte.safe_input import page_number
from nuevonorte.search import SearchUnavailable
from nuevonorte.search.presentation import (
    facet_label,
    filter_args,
    page_url,
    problem_message,
)

STAFF_FILTERS = ("status", "theme", "language", "media")
PAGE_SIZE = 20


def _page_url(**changes: str | int | None) -> str:
    return page_url("curate.search_page", STAFF_FILTERS, **changes)


def _facet_label(name: str, value: str, lang: str) -> str:
    return status_label(value) if name == "status" else facet_label(name, value, lang)


def review_url(public_id: str) -> str:
    """The curator review page of a story."""
    return url_for("curate.review", story_id=public_id)


@bp.get("/search")
@curator_required
def search_page() -> tuple[str, int] | str:
    """Search form, results with status, snippets and transcript moments, facets and pages."""
    lang = current_locale()
    q = request.args.get("q", "")
    try:
        results = search.search_staff(q, lang, filter_args(STAFF_FILTERS), page_number(), PAGE_SIZE)
    except SearchUnavailable as e:
        current_app.logger.error("staff search unavailable: %s", e)
        return render_template("curate/search.html", results=None, unavailable=True, q=""), 503
    return render_template(
        "curate/search.html",
        results=results,
        unavailable=False,
        q=q[:200],
        message=problem_message(results.problem),
        facets={name: results.facets.get(name, []) for name in STAFF_FILTERS},
        review_url=review_url,
        facet_label=_facet_label,
        page_url=_page_url,
    )
