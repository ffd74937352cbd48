"""Every page of hits is checked against the database before anyone sees it.

The index can lag the database: during a rebuild, when an index commit failed and its change
waits in the search log, or on another machine that has not followed it yet. So a hit is shown
only when the database, asked through the consent rule's SQL form, still agrees, and when this
index has applied every change to its story (a story still public may have narrowed: its
withheld paragraph is still in a lagging index's words and snippets) — one query per page, and
one statement more to learn that the index has caught up (three more when it has not). The
index can then only ever show less than the rules allow, never more.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from nuevonorte import consent
from nuevonorte.extensions import db
from nuevonorte.models import PartnerStory, Story
from nuevonorte.partners import shown
from nuevonorte.search.query import SearchResults


def public(results: SearchResults) -> SearchResults:
    """Drop the hits that are not public today: our stories by the consent rule, a partner
    archive's by ``partners.shown`` (removed at its origin, or not confirmed in time); and the
    hits of stories changed since this index last applied them (``follow.stale``): their words
    and snippets may be wider than what they show now (a paragraph withheld since)."""
    ours = _keep(results, consent.public_stories().with_only_columns(Story.public_id), "here")
    both = _keep(ours, shown.shown_stories().with_only_columns(PartnerStory.public_id), "partner")
    return _not_stale(both)


def _not_stale(results: SearchResults) -> SearchResults:
    from nuevonorte.search import follow

    if not results.hits or not follow.lagging():
        return results
    wanted = [hit.public_id for hit in results.hits]
    ours = dict(
        db.session.execute(select(Story.id, Story.public_id).where(Story.public_id.in_(wanted))).all()
    )
    theirs: dict[int, str] = dict(
        db.session.execute(
            select(PartnerStory.id, PartnerStory.public_id).where(PartnerStory.public_id.in_(wanted))
        ).all()
    )
    stale_ours, stale_theirs = follow.stale(ours, theirs)
    dropped = {ours[i] for i in stale_ours} | {theirs[i] for i in stale_theirs}
    if dropped:
        kept = [hit for hit in results.hits if hit.public_id not in dropped]
        results.total -= len(results.hits) - len(kept)
        results.hits = kept
    return results


def staff(results: SearchResults) -> SearchResults:
    """Drop the hits of stories curators may no longer read (withdrawn, or kept private)."""
    return _keep(results, consent.curator_readable_stories().with_only_columns(Story.public_id), "here")


def _keep(results: SearchResults, allowed: Select[Any], source: str) -> SearchResults:
    """Keep the hits of ``source`` ("here" or "partner") that ``allowed`` still lists; others
    pass untouched."""
    mine = [hit.public_id for hit in results.hits if (hit.source == "here") == (source == "here")]
    if not mine:
        return results
    model = Story if source == "here" else PartnerStory
    # The stories by primary key: given "public_id IN (...)" beside the status test, SQLite
    # walked every published story's newest consent instead (10 ms at 2,000 stories, linear).
    page = select(model.id).where(model.public_id.in_(mine))
    still: set[str] = set(db.session.scalars(allowed.where(model.id.in_(page))))
    kept = [hit for hit in results.hits if hit.public_id in still or hit.public_id not in mine]
    results.total -= len(results.hits) - len(kept)
    results.hits = kept
    return results
