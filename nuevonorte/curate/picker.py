"""The story picker of a collection: the staff index searched, each hit checked against the database.

Before any search it offers the newest stories curators may read. The staff index holds only
stories curators may read, and its hits are re-checked as on the search page; the stories are
then loaded through ``consent.curator_readable_stories``, so a story withdrawn or kept "nobody
but me" is never offered even while the index lags. Whether each one may be added is asked of
``nuevonorte.collections`` (the one rule), not decided here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from markupsafe import Markup
from sqlalchemy.orm import selectinload

from nuevonorte import collections as domain
from nuevonorte import consent, search
from nuevonorte.extensions import db
from nuevonorte.i18n import current_locale
from nuevonorte.models import Collection, MediaFile, MediaKind, Story
from nuevonorte.queue import excerpt
from nuevonorte.search import SearchHit, SearchResults, SearchUnavailable
from nuevonorte.search_presentation import problem_message

PAGE_SIZE = 20
MAX_QUERY = 200


@dataclass(frozen=True)
class Candidate:
    """One story found, with what a curator needs to decide whether to add it."""

    story: Story
    excerpt: Markup | str
    excerpt_lang: str | None
    thumbnail: MediaFile | None
    public: bool  # visible to anyone today (``consent.story_is_public``)
    allowed: bool  # the narrator's newest consent allows collections
    present: bool  # already an entry of this collection
    addable: bool  # ``collections.may_join``: the checkbox can be ticked


@dataclass
class Picker:
    """What the picker shows: nothing before a search, else a page of candidates."""

    q: str = ""
    results: SearchResults | None = None
    candidates: list[Candidate] = field(default_factory=list)
    unavailable: bool = False
    message: str | None = None


def pick(collection: Collection, q: str, page: int) -> Picker:
    """Search the staff index for ``q`` (the newest stories without one) and describe each story
    found for ``collection``."""
    q = q[:MAX_QUERY]
    lang = current_locale()
    if not q.strip():
        newest = db.session.scalars(
            consent.curator_readable_stories()
            .order_by(Story.id.desc())
            .limit(PAGE_SIZE)
            .options(selectinload(Story.consents), selectinload(Story.media))
        )
        return Picker(candidates=[_candidate(collection, None, story, lang) for story in newest])
    try:
        results = search.search_staff(q, lang, {}, page, PAGE_SIZE)
    except SearchUnavailable as e:
        current_app.logger.error("staff search unavailable for the picker: %s", e)
        return Picker(q=q, unavailable=True)
    stories = _stories(results)
    candidates = [
        _candidate(collection, hit, stories[hit.public_id], lang)
        for hit in results.hits
        if hit.public_id in stories
    ]
    return Picker(q=q, results=results, candidates=candidates, message=problem_message(results.problem))


def _stories(results: SearchResults) -> dict[str, Story]:
    ids = [hit.public_id for hit in results.hits]
    if not ids:
        return {}
    found = db.session.scalars(
        consent.curator_readable_stories()
        .where(Story.public_id.in_(ids))
        .options(selectinload(Story.consents), selectinload(Story.media))
    )
    return {story.public_id: story for story in found}


def _candidate(collection: Collection, hit: SearchHit | None, story: Story, lang: str) -> Candidate:
    newest = story.current_consent
    # The index's snippet marks the words searched for; a hit on the title alone has none.
    shown: Markup | str
    if hit is not None and str(hit.snippet).strip():
        shown, shown_lang = hit.snippet, hit.snippet_lang
    else:
        shown, shown_lang = excerpt(story), story.original_language
    thumbnail = next(
        (m for m in story.media if m.kind == MediaKind.IMAGE and (m.thumbnail_key or m.storage_key)), None
    )
    return Candidate(
        story=story,
        excerpt=shown,
        excerpt_lang=shown_lang if shown_lang != lang else None,
        thumbnail=thumbnail,
        public=consent.story_is_public(story),
        allowed=newest is not None and newest.choices.in_collections,
        present=any(entry.story is story for entry in collection.entries),
        addable=domain.may_join(collection, story),
    )
