"""Staff search: every story that is not withdrawn, for curators, linked to their review pages.

The view only calls ``nuevonorte.search.search_staff``; the staff index decides what is in it.
"""

from __future__ import annotations

from flask import current_app, render_template, request, url_for
from sqlalchemy.orm import selectinload

from nuevonorte import consent, search
from nuevonorte.curate.auth import curator_required
from nuevonorte.curate.views import bp
from nuevonorte.curate.wording import status_label
from nuevonorte.extensions import db
from nuevonorte.i18n import current_locale
from nuevonorte.models import Story
from nuevonorte.safe_input import page_number
from nuevonorte.search import SearchResults, SearchUnavailable
from nuevonorte.search_presentation import (
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


def _stories(results: SearchResults) -> dict[str, Story]:
    """The page's stories from the database, for what the index does not hold: what the public
    sees of each today (its consent can narrow without its status changing)."""
    ids = [hit.public_id for hit in results.hits]
    if not ids:
        return {}
    found = db.session.scalars(
        consent.curator_readable_stories()
        .where(Story.public_id.in_(ids))
        .options(selectinload(Story.consents))
    )
    return {story.public_id: story for story in found}


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
        stories=_stories(results),
        review_url=review_url,
        facet_label=_facet_label,
        page_url=_page_url,
    )
