"""The public page of a partner archive's story: ``/<lang>/from/<id>``.

Its text is what the origin's read API gave as public, shown as plain text; its pictures and
recordings load from the origin's own ``/media/`` handler (the Content-Security-Policy names
exactly the partners' origins), so a withdrawal at the origin silences them here at once. The
same 404 as any missing page once the origin withdrew it or has not confirmed it in time
(``partners.shown``).
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from nuevonorte.content_warnings import labels
from nuevonorte.extensions import db
from nuevonorte.i18n import prefix_language
from nuevonorte.models import PartnerStory
from nuevonorte.partners import shown
from nuevonorte.public import page_cache

bp = Blueprint("partner_public", __name__, url_prefix="/<lang>")
prefix_language(bp)
bp.before_request(page_cache.serve_cached)
bp.after_request(page_cache.store)


def shown_story_or_404(story_id: str) -> PartnerStory:
    found: PartnerStory | None = db.session.scalar(
        shown.shown_stories().where(PartnerStory.public_id == story_id[:40])
    )
    if found is None:
        abort(404)
    return found


@bp.get("/from/<story_id>")
def story(story_id: str) -> str:
    found = shown_story_or_404(story_id)
    warnings = labels(found.content_warnings)
    return render_template(
        "public/partner_story.html",
        story=found,
        partner=found.partner,
        warnings=warnings,
        held_back=bool(warnings) and request.args.get("show") != "1",
    )


def by_public_ids(ids: list[str]) -> dict[str, PartnerStory]:
    """The shown partner stories among ``ids`` (a page of search hits)."""
    if not ids:
        return {}
    query = shown.shown_stories().where(PartnerStory.public_id.in_(ids))
    return {s.public_id: s for s in db.session.scalars(query)}
